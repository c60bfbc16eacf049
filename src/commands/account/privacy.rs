//! Privacy settings: `get_privacy_setting`, `get_privacy_settings`, `set_privacy_setting`, and
//! the settings TDLib 1.8.61 knows.

use super::rules::{self, Audience, Mode};
use super::{AccountCommand, Target};
use crate::accounts::AccountOp;
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields, as_int};
use serde_json::{Value, json};

/// The setting a command reads or changes.
const SETTING: FieldSpec = FieldSpec::required(
    "setting",
    "string|map",
    r#""userPrivacySettingShowStatus""#,
    "a userPrivacySetting* type name (or {\"@type\": ...}), or newChatPrivacySettings",
);

/// The privacy settings of TDLib 1.8.61, as `@type` names.
pub const PRIVACY_SETTINGS: &[&str] = &[
    "userPrivacySettingShowStatus",
    "userPrivacySettingShowProfilePhoto",
    "userPrivacySettingShowLinkInForwardedMessages",
    "userPrivacySettingShowPhoneNumber",
    "userPrivacySettingShowBio",
    "userPrivacySettingShowBirthdate",
    "userPrivacySettingShowProfileAudio",
    "userPrivacySettingAllowChatInvites",
    "userPrivacySettingAllowCalls",
    "userPrivacySettingAllowPeerToPeerCalls",
    "userPrivacySettingAllowFindingByPhoneNumber",
    "userPrivacySettingAllowPrivateVoiceAndVideoNoteMessages",
    "userPrivacySettingAutosaveGifts",
    "userPrivacySettingAllowUnpaidMessages",
];

/// The setting name for new-chat privacy (not a `userPrivacySetting*` type).
pub const NEW_CHAT_SETTING: &str = "newChatPrivacySettings";

/// A privacy setting: one of TDLib's rule settings, or new-chat privacy.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Setting {
    /// A `userPrivacySetting*` type name.
    Rules(&'static str),
    /// `newChatPrivacySettings`.
    NewChat,
}

pub(super) const GET_PRIVACY_SETTING: AccountCommand = AccountCommand {
    name: "get_privacy_setting",
    overloads: &[&["setting: Dynamic", "Map"]],
    doc: r#"
One privacy setting, in the fields `set_privacy_setting` takes, so it can be set back unchanged:
`#{setting, mode, allow_user_ids, allow_chat_ids, restrict_user_ids, restrict_chat_ids,
allow_premium_users, rules}` (`mode` is "all", "contacts", "nobody", or `()` for rules no mode
makes). `setting` is a `userPrivacySetting*` type name (or `#{"@type": ...}`), or
"newChatPrivacySettings" (then `#{setting, allow_new_chats_from_unknown_users,
incoming_paid_message_star_count}`). TDLib: getUserPrivacySettingRules /
getNewChatPrivacySettings.

# Example
```rhai
let s = get_privacy_setting("userPrivacySettingShowStatus");
print(s.mode);
```
"#,
    fields: &[SETTING],
    returns: r#"{"setting": "userPrivacySettingShowStatus", "mode": "contacts", "allow_user_ids": [], "allow_chat_ids": [], "restrict_user_ids": [], "restrict_chat_ids": [], "allow_premium_users": false, "rules": [{"@type": "userPrivacySettingRuleAllowContacts"}, {"@type": "userPrivacySettingRuleRestrictAll"}]}"#,
    prepare: |f| {
        let which = setting(f, f.get("setting"))?;
        Ok(Box::new(move |account| get_setting(account, &which)))
    },
};

pub(super) const GET_PRIVACY_SETTINGS: AccountCommand = AccountCommand {
    name: "get_privacy_settings",
    overloads: &[&["Map"], &["settings: Dynamic", "Map"]],
    doc: r#"
Several privacy settings at once: `#{settings: [...]}`, each as `get_privacy_setting` returns
it. Give a list of settings, one setting, or nothing (= all of them). Errors: `settings must be
a list or string`, `failed to get privacy settings: ...`.

# Example
```rhai
let all = get_privacy_settings();
let two = get_privacy_settings(["userPrivacySettingShowStatus", "newChatPrivacySettings"]);
```
"#,
    fields: &[FieldSpec::optional(
        "settings",
        "list|string",
        "settings to read (names or {\"@type\"} objects); all of them when left out",
    )
    .eg(r#"["userPrivacySettingShowStatus", "newChatPrivacySettings"]"#)],
    returns: r#"{"settings": [{"setting": "userPrivacySettingShowStatus", "mode": "all", "allow_user_ids": [], "allow_chat_ids": [], "restrict_user_ids": [], "restrict_chat_ids": [], "allow_premium_users": false, "rules": [{"@type": "userPrivacySettingRuleAllowAll"}]}, {"setting": "newChatPrivacySettings", "allow_new_chats_from_unknown_users": true, "incoming_paid_message_star_count": 0}]}"#,
    prepare: |f| {
        let settings: Vec<Setting> = match f.get("settings") {
            None => PRIVACY_SETTINGS
                .iter()
                .map(|s| Setting::Rules(s))
                .chain([Setting::NewChat])
                .collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| setting(f, Some(item)))
                .collect::<Result<_, _>>()?,
            Some(one @ Value::String(_)) => vec![setting(f, Some(one))?],
            Some(_) => return Err(f.error("settings must be a list or string")),
        };
        Ok(Box::new(move |account| {
            let mut out = Vec::new();
            for which in &settings {
                let value = get_setting(account, which).map_err(|e| match e.code {
                    Some(_) => CommandError {
                        error: format!("failed to get privacy settings: {}", e.error),
                        ..e
                    },
                    None => e,
                })?;
                out.push(value);
            }
            if out.is_empty() {
                return Err(CommandError::invalid(
                    account.command(),
                    "failed to get privacy settings",
                ));
            }
            Ok(json!({"settings": out}))
        }))
    },
};

pub(super) const SET_PRIVACY_SETTING: AccountCommand = AccountCommand {
    name: "set_privacy_setting",
    overloads: &[&["setting: Dynamic", "options: Map", "Map"]],
    doc: r#"
Set a privacy setting. Options: `#{mode: "all" | "contacts" | "nobody", allow_user_ids,
allow_chat_ids, restrict_user_ids, restrict_chat_ids, allow_premium_users}`, or raw `#{rules}`
(a userPrivacySettingRules object or a list of rule objects); for "newChatPrivacySettings":
`#{allow_new_chats_from_unknown_users, incoming_paid_message_star_count}`. Returns the setting
as `get_privacy_setting` reads it back. Rules are built in TDLib's order (first match wins):
all = restrict users, restrict chats, allow all; contacts = allow users, allow chats, allow
premium, restrict users, restrict chats, allow contacts, restrict all; nobody = allow users,
allow chats, allow premium, restrict all.

# Example
```rhai
set_privacy_setting("userPrivacySettingShowStatus", #{mode: "contacts", restrict_user_ids: [42]});
```
"#,
    fields: &[
        SETTING,
        FieldSpec::optional(
            "mode",
            "string",
            "all, contacts or nobody (required unless rules or newChatPrivacySettings)",
        )
        .eg(r#""contacts""#),
        FieldSpec::optional("allow_user_ids", "list", "users allowed despite the mode")
            .or("[]")
            .eg("[42]"),
        FieldSpec::optional("allow_chat_ids", "list", "chats whose members are allowed").or("[]"),
        FieldSpec::optional(
            "restrict_user_ids",
            "list",
            "users refused despite the mode",
        )
        .or("[]"),
        FieldSpec::optional(
            "restrict_chat_ids",
            "list",
            "chats whose members are refused",
        )
        .or("[]"),
        FieldSpec::optional(
            "allow_premium_users",
            "boolean",
            "premium users allowed (contacts, nobody)",
        )
        .or("false"),
        FieldSpec::optional(
            "rules",
            "map|list",
            "raw rules instead of mode: a userPrivacySettingRules object or a list of rules",
        ),
        FieldSpec::optional(
            "allow_new_chats_from_unknown_users",
            "boolean",
            "for newChatPrivacySettings (required there)",
        ),
        FieldSpec::optional(
            "incoming_paid_message_star_count",
            "integer",
            "for newChatPrivacySettings: stars a new chat pays",
        )
        .or("0"),
    ],
    returns: r#"{"setting": "userPrivacySettingShowStatus", "mode": "contacts", "allow_user_ids": [42], "allow_chat_ids": [], "restrict_user_ids": [], "restrict_chat_ids": [], "allow_premium_users": false, "rules": [{"@type": "userPrivacySettingRuleAllowUsers", "user_ids": [42]}, {"@type": "userPrivacySettingRuleAllowContacts"}, {"@type": "userPrivacySettingRuleRestrictAll"}]}"#,
    prepare: |f| {
        let which = setting(f, f.get("setting"))?;
        let op = match which {
            Setting::NewChat => AccountOp::SetNewChatPrivacySettings(new_chat_settings(f)?),
            Setting::Rules(name) => AccountOp::SetPrivacyRules(
                name.to_string(),
                json!({"@type": "userPrivacySettingRules", "rules": privacy_rules(f)?}),
            ),
        };
        Ok(Box::new(move |account| {
            account.call(op)?;
            get_setting(account, &which)
        }))
    },
};

fn setting(f: &Fields, value: Option<&Value>) -> Result<Setting, CommandError> {
    let name = match value {
        None => return Err(f.error("setting is required")),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("@type").and_then(Value::as_str).unwrap_or_default(),
        Some(_) => "",
    };
    if name == NEW_CHAT_SETTING {
        return Ok(Setting::NewChat);
    }
    PRIVACY_SETTINGS
        .iter()
        .find(|s| **s == name)
        .map(|s| Setting::Rules(s))
        .ok_or_else(|| {
            f.error(format!(
                "unsupported privacy setting (valid: {}, {NEW_CHAT_SETTING})",
                PRIVACY_SETTINGS.join(", ")
            ))
        })
}

fn id_list(f: &Fields, key: &str) -> Result<Vec<i64>, CommandError> {
    match f.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| as_int(v).ok_or_else(|| f.error(format!("{key} must be a list of integers"))))
            .collect(),
        Some(_) => Err(f.error(format!("{key} must be a list of integers"))),
    }
}

/// The rules `set_privacy_setting` sends: from `mode` and the id lists, or the raw `rules`.
fn privacy_rules(f: &Fields) -> Result<Vec<Value>, CommandError> {
    let mode = f.get("mode");
    if mode.is_none()
        && let Some(raw) = f.get("rules")
    {
        return raw_rules(f, raw);
    }
    let mode = mode
        .and_then(Value::as_str)
        .and_then(Mode::parse)
        .ok_or_else(|| f.error("mode must be one of: all, contacts, nobody"))?;
    let audience = Audience {
        allow_user_ids: id_list(f, "allow_user_ids")?,
        allow_chat_ids: id_list(f, "allow_chat_ids")?,
        restrict_user_ids: id_list(f, "restrict_user_ids")?,
        restrict_chat_ids: id_list(f, "restrict_chat_ids")?,
        allow_premium_users: f.opt_bool("allow_premium_users")?.unwrap_or(false),
    };
    Ok(rules::rules_for(mode, &audience))
}

/// Raw `rules`: a `userPrivacySettingRules` object or a list of rule objects, each `@type`
/// checked.
fn raw_rules(f: &Fields, raw: &Value) -> Result<Vec<Value>, CommandError> {
    let list = match raw {
        Value::Array(items) => items,
        Value::Object(o) if o.get("@type") == Some(&json!("userPrivacySettingRules")) => o
            .get("rules")
            .and_then(Value::as_array)
            .ok_or_else(|| f.error("rules.rules must be a list of rule objects"))?,
        _ => {
            return Err(f.error(
                "rules must be a userPrivacySettingRules object or a list of rule objects",
            ));
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, r)| {
            let t = r.get("@type").and_then(Value::as_str).unwrap_or_default();
            if !rules::RULE_TYPES.contains(&t) {
                return Err(f.error(format!(
                    "rules[{i}] must be a TDLib privacy rule (@type userPrivacySettingRule…), got {}",
                    if t.is_empty() { "no @type" } else { t }
                )));
            }
            let mut rule = json!({"@type": t});
            for key in ["user_ids", "chat_ids"] {
                if let Some(ids) = r.get(key) {
                    let ids: Vec<i64> = ids
                        .as_array()
                        .map(|a| a.iter().filter_map(as_int).collect())
                        .filter(|v: &Vec<i64>| Some(v.len()) == ids.as_array().map(Vec::len))
                        .ok_or_else(|| f.error(format!("rules[{i}].{key} must be a list of integers")))?;
                    rule[key] = json!(ids);
                }
            }
            Ok(rule)
        })
        .collect()
}

fn new_chat_settings(f: &Fields) -> Result<Value, CommandError> {
    let allow = f
        .opt_bool("allow_new_chats_from_unknown_users")?
        .ok_or_else(|| {
            f.error("allow_new_chats_from_unknown_users is required for newChatPrivacySettings")
        })?;
    let stars = f.opt_int("incoming_paid_message_star_count")?.unwrap_or(0);
    if stars < 0 {
        return Err(f.error("incoming_paid_message_star_count must be 0 or more"));
    }
    Ok(json!({
        "@type": "newChatPrivacySettings",
        "allow_new_chats_from_unknown_users": allow,
        "incoming_paid_message_star_count": stars,
    }))
}

/// A setting as the seed's fields (so it can be set back unchanged), plus the raw rules.
fn get_setting(account: &Target, setting: &Setting) -> Result<Value, CommandError> {
    match setting {
        Setting::NewChat => {
            let s = account.call(AccountOp::GetNewChatPrivacySettings)?;
            Ok(json!({
                "setting": NEW_CHAT_SETTING,
                "allow_new_chats_from_unknown_users": s["allow_new_chats_from_unknown_users"],
                "incoming_paid_message_star_count": as_int(&s["incoming_paid_message_star_count"]).unwrap_or(0),
            }))
        }
        Setting::Rules(name) => {
            let rules = account.call(AccountOp::GetPrivacyRules(name.to_string()))?;
            let list: Vec<Value> = rules["rules"].as_array().cloned().unwrap_or_default();
            let (mode, a) = rules::describe(&list);
            Ok(json!({
                "setting": name,
                "mode": mode.map(Mode::name),
                "allow_user_ids": a.allow_user_ids,
                "allow_chat_ids": a.allow_chat_ids,
                "restrict_user_ids": a.restrict_user_ids,
                "restrict_chat_ids": a.restrict_chat_ids,
                "allow_premium_users": a.allow_premium_users,
                "rules": list,
            }))
        }
    }
}
