//! Business connections as the Bot API describes them: a user connects the bot to their
//! business account with some rights ([`RIGHTS`], Bot API 9.x `BusinessBotRights`), and the
//! connection's id is what a call on the account's behalf names (`business_connection_id`).
//! [`needs`] says which right a method called through a connection requires, and
//! [`Connection::refusal`] whether a connection grants it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The field a call on a business account's behalf names its connection in.
pub const FIELD: &str = "business_connection_id";

/// The longest connection id accepted (Telegram's are a few dozen characters).
pub const MAX_ID_CHARS: usize = 256;

/// Every right of Bot API 9.x `BusinessBotRights`, with what it allows.
pub const RIGHTS: &[(&str, &str)] = &[
    (
        "can_reply",
        "send and edit messages in chats with incoming messages in the last 24 hours",
    ),
    ("can_read_messages", "mark incoming messages as read"),
    (
        "can_delete_sent_messages",
        "delete the messages the bot sent",
    ),
    (
        "can_delete_all_messages",
        "delete any message of the account's chats",
    ),
    ("can_edit_name", "change the account's first and last name"),
    ("can_edit_bio", "change the account's bio"),
    (
        "can_edit_profile_photo",
        "change the account's profile photo",
    ),
    ("can_edit_username", "change the account's username"),
    (
        "can_change_gift_settings",
        "change the account's gift settings",
    ),
    (
        "can_view_gifts_and_stars",
        "view the account's gifts and Stars",
    ),
    (
        "can_convert_gifts_to_stars",
        "convert the account's gifts to Stars",
    ),
    (
        "can_transfer_and_upgrade_gifts",
        "transfer and upgrade the account's gifts",
    ),
    ("can_transfer_stars", "transfer the account's Stars"),
    (
        "can_manage_stories",
        "post, edit and delete the account's stories",
    ),
];

/// The rights the business-only methods need, any one of each list (Telegram's method names,
/// matched whatever their case as Telegram does). A method not listed here that names a
/// connection sends or edits a message on the account's behalf: it needs `can_reply`.
/// `getBusinessConnection` needs none: it is how a connection is looked up.
const METHOD_RIGHTS: &[(&str, &[&str])] = &[
    ("getBusinessConnection", &[]),
    ("readBusinessMessage", &["can_read_messages"]),
    (
        "deleteBusinessMessages",
        &["can_delete_sent_messages", "can_delete_all_messages"],
    ),
    ("setBusinessAccountName", &["can_edit_name"]),
    ("setBusinessAccountUsername", &["can_edit_username"]),
    ("setBusinessAccountBio", &["can_edit_bio"]),
    (
        "setBusinessAccountProfilePhoto",
        &["can_edit_profile_photo"],
    ),
    (
        "removeBusinessAccountProfilePhoto",
        &["can_edit_profile_photo"],
    ),
    (
        "setBusinessAccountGiftSettings",
        &["can_change_gift_settings"],
    ),
    (
        "getBusinessAccountStarBalance",
        &["can_view_gifts_and_stars"],
    ),
    ("getBusinessAccountGifts", &["can_view_gifts_and_stars"]),
    ("transferBusinessAccountStars", &["can_transfer_stars"]),
    ("convertGiftToStars", &["can_convert_gifts_to_stars"]),
    ("upgradeGift", &["can_transfer_and_upgrade_gifts"]),
    ("transferGift", &["can_transfer_and_upgrade_gifts"]),
    ("postStory", &["can_manage_stories"]),
    ("editStory", &["can_manage_stories"]),
    ("deleteStory", &["can_manage_stories"]),
];

/// What sending or editing a message on the account's behalf needs.
const REPLY: &[&str] = &["can_reply"];

/// The rights (any one of them) Bot API `method` needs when called through a connection;
/// `None` for the look-up of a connection itself, which needs no right and no check.
pub fn needs(method: &str) -> Option<&'static [&'static str]> {
    match METHOD_RIGHTS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(method))
    {
        Some((_, [])) => None,
        Some((_, rights)) => Some(rights),
        None => Some(REPLY),
    }
}

/// Why `value` is not a connection id, if it is not: a non-empty string of at most
/// [`MAX_ID_CHARS`] characters with no whitespace.
pub fn id_problem(value: &Value) -> Option<String> {
    let Some(id) = value.as_str() else {
        return Some(format!(
            "{FIELD} must be a string (the id a business update carries)"
        ));
    };
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_whitespace) {
        return Some(format!(
            "{FIELD} must be 1 to {MAX_ID_CHARS} characters with no spaces (the id a business update carries)"
        ));
    }
    None
}

/// One business connection of a bot, as the host records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The connection's id.
    pub id: String,
    /// The business account's user id.
    pub user_id: i64,
    /// The private chat of that user with the bot.
    pub user_chat_id: i64,
    /// The rights granted (those of [`RIGHTS`] that are true).
    pub rights: BTreeSet<String>,
    /// Whether the connection is active.
    pub is_enabled: bool,
    /// When it was made or last changed (Unix seconds).
    pub date: i64,
}

impl Connection {
    /// Read a Bot API `BusinessConnection` object; `None` when it lacks its id or user.
    pub fn from_api(value: &Value) -> Option<Self> {
        let rights = RIGHTS
            .iter()
            .filter(|(right, _)| value["rights"][*right].as_bool() == Some(true))
            .map(|(right, _)| right.to_string())
            .collect();
        Some(Self {
            id: value["id"].as_str()?.to_string(),
            user_id: value["user"]["id"].as_i64()?,
            user_chat_id: value["user_chat_id"].as_i64().unwrap_or_default(),
            rights,
            is_enabled: value["is_enabled"].as_bool().unwrap_or(false),
            date: value["date"].as_i64().unwrap_or_default(),
        })
    }

    /// The connection as the Bot API's `BusinessConnection` (the user by id only).
    pub fn to_api(&self) -> Value {
        let rights: serde_json::Map<String, Value> = self
            .rights
            .iter()
            .map(|right| (right.clone(), Value::Bool(true)))
            .collect();
        json!({
            "id": self.id, "user": {"id": self.user_id}, "user_chat_id": self.user_chat_id,
            "date": self.date, "rights": rights, "is_enabled": self.is_enabled,
        })
    }

    /// Why a call needing one of `rights` may not go through this connection, if it may
    /// not: it is disabled, or grants none of them.
    pub fn refusal(&self, rights: &[&str]) -> Option<String> {
        if !self.is_enabled {
            return Some(format!(
                "business connection {:?} is disabled: the account's owner turned the bot off in Telegram Business settings; nothing is sent until they turn it on again",
                self.id
            ));
        }
        if rights.iter().any(|right| self.rights.contains(*right)) {
            return None;
        }
        let granted = match self.rights.is_empty() {
            true => "none".to_string(),
            false => self.rights.iter().cloned().collect::<Vec<_>>().join(", "),
        };
        Some(format!(
            "business connection {:?} lacks the right {}: the account's owner grants it in Telegram Business settings (granted: {granted})",
            self.id,
            rights.join(" or ")
        ))
    }
}

/// The connection a `business_connection` update announces (made, changed or ended).
pub fn announced(update: &Value) -> Option<Connection> {
    update
        .get(super::UpdateKind::BusinessConnection.key())
        .and_then(Connection::from_api)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(rights: &[&str], enabled: bool) -> Connection {
        let rights: serde_json::Map<String, Value> = rights
            .iter()
            .map(|r| (r.to_string(), Value::Bool(true)))
            .chain([("can_edit_bio".to_string(), Value::Bool(false))])
            .collect();
        Connection::from_api(&json!({
            "id": "AbC", "user": {"id": 1001, "first_name": "Alice"}, "user_chat_id": 1001,
            "date": 5, "rights": rights, "is_enabled": enabled,
        }))
        .expect("a connection")
    }

    #[test]
    fn a_method_needs_its_right_and_sending_needs_can_reply() {
        assert_eq!(needs("sendMessage"), Some(REPLY));
        assert_eq!(needs("editmessagetext"), Some(REPLY));
        assert_eq!(
            needs("readBusinessMessage"),
            Some(&["can_read_messages"][..])
        );
        assert_eq!(needs("getBusinessConnection"), None);
    }

    #[test]
    fn a_connection_grants_only_its_true_rights_and_only_when_enabled() {
        let c = connection(&["can_read_messages"], true);
        assert_eq!(c.rights, BTreeSet::from(["can_read_messages".to_string()]));
        assert_eq!(c.refusal(&["can_read_messages"]), None);
        let missing = c.refusal(REPLY).expect("refused");
        assert!(
            missing.contains("lacks the right can_reply")
                && missing.contains("granted: can_read_messages"),
            "{missing}"
        );
        let off = connection(&["can_reply"], false)
            .refusal(REPLY)
            .expect("refused");
        assert!(off.contains("is disabled"), "{off}");
        assert_eq!(Connection::from_api(&c.to_api()), Some(c));
    }

    #[test]
    fn a_connection_id_is_a_short_string_without_spaces() {
        assert_eq!(id_problem(&json!("AbC-123_x")), None);
        for bad in [
            json!(""),
            json!(12),
            json!("a b"),
            json!("x".repeat(MAX_ID_CHARS + 1)),
        ] {
            assert!(id_problem(&bad).is_some(), "{bad} accepted");
        }
    }
}
