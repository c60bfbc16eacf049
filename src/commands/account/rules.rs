//! Privacy rules: the seed's `mode` / `allow_*` / `restrict_*` fields and TDLib's rule
//! lists, both ways. Pure, so the mapping is tested against the exact lists.

use serde_json::{Value, json};

/// The privacy rule types of TDLib 1.8.61.
pub const RULE_TYPES: &[&str] = &[
    "userPrivacySettingRuleAllowAll",
    "userPrivacySettingRuleAllowContacts",
    "userPrivacySettingRuleAllowBots",
    "userPrivacySettingRuleAllowPremiumUsers",
    "userPrivacySettingRuleAllowUsers",
    "userPrivacySettingRuleAllowChatMembers",
    "userPrivacySettingRuleRestrictAll",
    "userPrivacySettingRuleRestrictContacts",
    "userPrivacySettingRuleRestrictBots",
    "userPrivacySettingRuleRestrictUsers",
    "userPrivacySettingRuleRestrictChatMembers",
];

/// Who may, in the seed's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everybody, minus the restricted ids.
    All,
    /// Contacts (and the allowed ids, and premium users if asked), minus the restricted ids.
    Contacts,
    /// Nobody but the allowed ids (and premium users if asked).
    Nobody,
}

impl Mode {
    /// `all`, `contacts` or `nobody`.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "all" => Some(Mode::All),
            "contacts" => Some(Mode::Contacts),
            "nobody" => Some(Mode::Nobody),
            _ => None,
        }
    }

    /// The seed's name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::All => "all",
            Mode::Contacts => "contacts",
            Mode::Nobody => "nobody",
        }
    }
}

/// The seed's fields for one privacy setting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audience {
    /// `allow_user_ids`
    pub allow_user_ids: Vec<i64>,
    /// `allow_chat_ids`
    pub allow_chat_ids: Vec<i64>,
    /// `restrict_user_ids`
    pub restrict_user_ids: Vec<i64>,
    /// `restrict_chat_ids`
    pub restrict_chat_ids: Vec<i64>,
    /// `allow_premium_users`
    pub allow_premium_users: bool,
}

fn users(kind: &str, ids: &[i64]) -> Option<Value> {
    (!ids.is_empty())
        .then(|| json!({"@type": format!("userPrivacySettingRule{kind}Users"), "user_ids": ids}))
}

fn chats(kind: &str, ids: &[i64]) -> Option<Value> {
    (!ids.is_empty()).then(
        || json!({"@type": format!("userPrivacySettingRule{kind}ChatMembers"), "chat_ids": ids}),
    )
}

fn rule(name: &str) -> Value {
    json!({"@type": format!("userPrivacySettingRule{name}")})
}

/// TDLib's rules for `mode` and `audience`, in the order TDLib applies them (first match
/// wins).
pub fn rules_for(mode: Mode, a: &Audience) -> Vec<Value> {
    let premium = a.allow_premium_users.then(|| rule("AllowPremiumUsers"));
    let list: Vec<Option<Value>> = match mode {
        Mode::All => vec![
            users("Restrict", &a.restrict_user_ids),
            chats("Restrict", &a.restrict_chat_ids),
            Some(rule("AllowAll")),
        ],
        Mode::Contacts => vec![
            users("Allow", &a.allow_user_ids),
            chats("Allow", &a.allow_chat_ids),
            premium,
            users("Restrict", &a.restrict_user_ids),
            chats("Restrict", &a.restrict_chat_ids),
            Some(rule("AllowContacts")),
            Some(rule("RestrictAll")),
        ],
        Mode::Nobody => vec![
            users("Allow", &a.allow_user_ids),
            chats("Allow", &a.allow_chat_ids),
            premium,
            Some(rule("RestrictAll")),
        ],
    };
    list.into_iter().flatten().collect()
}

fn ids(value: &Value, key: &str) -> Vec<i64> {
    value[key]
        .as_array()
        .map(|a| a.iter().filter_map(crate::request::as_int).collect())
        .unwrap_or_default()
}

/// Read TDLib's rules back into the seed's fields: the mode, when the rules are one that
/// [`rules_for`] makes, and the audience.
pub fn describe(rules: &[Value]) -> (Option<Mode>, Audience) {
    let mut a = Audience::default();
    let mut types = Vec::new();
    for r in rules {
        let t = r["@type"].as_str().unwrap_or_default();
        match t {
            "userPrivacySettingRuleAllowUsers" => a.allow_user_ids.extend(ids(r, "user_ids")),
            "userPrivacySettingRuleAllowChatMembers" => a.allow_chat_ids.extend(ids(r, "chat_ids")),
            "userPrivacySettingRuleRestrictUsers" => a.restrict_user_ids.extend(ids(r, "user_ids")),
            "userPrivacySettingRuleRestrictChatMembers" => {
                a.restrict_chat_ids.extend(ids(r, "chat_ids"))
            }
            "userPrivacySettingRuleAllowPremiumUsers" => a.allow_premium_users = true,
            _ => {}
        }
        types.push(t.to_string());
    }
    let mode = [Mode::All, Mode::Contacts, Mode::Nobody]
        .into_iter()
        .find(|m| {
            let expected: Vec<String> = rules_for(*m, &a)
                .iter()
                .map(|r| r["@type"].as_str().unwrap_or_default().to_string())
                .collect();
            expected == types
        });
    (mode, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(rules: &[Value]) -> Vec<&str> {
        rules
            .iter()
            .map(|r| r["@type"].as_str().unwrap_or_default())
            .collect()
    }

    fn full() -> Audience {
        Audience {
            allow_user_ids: vec![1, 2],
            allow_chat_ids: vec![-100],
            restrict_user_ids: vec![3],
            restrict_chat_ids: vec![-200],
            allow_premium_users: true,
        }
    }

    #[test]
    fn all_restricts_then_allows_everybody() {
        let rules = rules_for(Mode::All, &full());
        assert_eq!(
            types(&rules),
            [
                "userPrivacySettingRuleRestrictUsers",
                "userPrivacySettingRuleRestrictChatMembers",
                "userPrivacySettingRuleAllowAll"
            ]
        );
        assert_eq!(rules[0]["user_ids"], json!([3]));
        assert_eq!(rules[1]["chat_ids"], json!([-200]));
        assert_eq!(
            types(&rules_for(Mode::All, &Audience::default())),
            ["userPrivacySettingRuleAllowAll"]
        );
    }

    #[test]
    fn contacts_in_seed_order() {
        let rules = rules_for(Mode::Contacts, &full());
        assert_eq!(
            types(&rules),
            [
                "userPrivacySettingRuleAllowUsers",
                "userPrivacySettingRuleAllowChatMembers",
                "userPrivacySettingRuleAllowPremiumUsers",
                "userPrivacySettingRuleRestrictUsers",
                "userPrivacySettingRuleRestrictChatMembers",
                "userPrivacySettingRuleAllowContacts",
                "userPrivacySettingRuleRestrictAll",
            ]
        );
        assert_eq!(rules[0]["user_ids"], json!([1, 2]));
        assert_eq!(
            types(&rules_for(Mode::Contacts, &Audience::default())),
            [
                "userPrivacySettingRuleAllowContacts",
                "userPrivacySettingRuleRestrictAll"
            ]
        );
    }

    #[test]
    fn nobody_allows_only_the_listed() {
        assert_eq!(
            types(&rules_for(Mode::Nobody, &full())),
            [
                "userPrivacySettingRuleAllowUsers",
                "userPrivacySettingRuleAllowChatMembers",
                "userPrivacySettingRuleAllowPremiumUsers",
                "userPrivacySettingRuleRestrictAll",
            ]
        );
        assert_eq!(
            types(&rules_for(Mode::Nobody, &Audience::default())),
            ["userPrivacySettingRuleRestrictAll"]
        );
    }

    #[test]
    fn describe_round_trips_every_mode() {
        for mode in [Mode::All, Mode::Contacts, Mode::Nobody] {
            let mut audience = full();
            if mode == Mode::All {
                audience.allow_user_ids.clear();
                audience.allow_chat_ids.clear();
                audience.allow_premium_users = false;
            }
            if mode == Mode::Nobody {
                audience.restrict_user_ids.clear();
                audience.restrict_chat_ids.clear();
            }
            let (got_mode, got) = describe(&rules_for(mode, &audience));
            assert_eq!(got_mode, Some(mode));
            assert_eq!(got, audience);
        }
        let (mode, _) = describe(&[rule("AllowBots"), rule("RestrictAll")]);
        assert_eq!(mode, None, "rules no mode makes have no mode");
    }
}
