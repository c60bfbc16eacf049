//! What a Bot API update says about where it happened: the implicit context of builtins.

use serde_json::Value;

/// The chat, user and message an update is about. Builtins act on this chat unless a
/// `chat_id` is passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateContext {
    /// `update_id` of the update being handled.
    pub update_id: i64,
    /// The chat the update happened in.
    pub chat_id: Option<i64>,
    /// The user who caused it.
    pub user_id: Option<i64>,
    /// The message it is about (the message itself, or the one a button was under).
    pub message_id: Option<i64>,
    /// The callback query to answer, for button presses.
    pub callback_query_id: Option<String>,
}

/// The update kinds tgscript routes to handlers, with the key their payload sits under.
pub const KINDS: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "inline_query",
    "poll",
    "poll_answer",
    "message_reaction",
];

impl UpdateContext {
    /// Read the context out of a raw update.
    pub fn from_update(update: &Value) -> Self {
        let update_id = update["update_id"].as_i64().unwrap_or_default();
        let (_, payload) = kind(update);
        let message = if payload.get("message_id").is_some() {
            payload
        } else {
            &payload["message"]
        };
        let chat_id = payload["chat"]["id"]
            .as_i64()
            .or_else(|| message["chat"]["id"].as_i64());
        let user_id = payload["from"]["id"]
            .as_i64()
            .or_else(|| payload["user"]["id"].as_i64());
        Self {
            update_id,
            chat_id,
            user_id,
            message_id: message["message_id"].as_i64(),
            callback_query_id: update["callback_query"]["id"].as_str().map(str::to_string),
        }
    }
}

/// The kind of an update (`"message"`, `"callback_query"`, …) and its payload.
pub fn kind(update: &Value) -> (&str, &Value) {
    for kind in KINDS {
        if let Some(payload) = update.get(*kind) {
            return (kind, payload);
        }
    }
    let other = update
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.as_str() != "update_id"));
    match other {
        Some((k, v)) => (k.as_str(), v),
        None => ("unknown", &Value::Null),
    }
}

/// The key updates are ordered by: their chat, else their user, else 0. Updates with one key
/// are handled one after another, in order.
pub fn chat_key(update: &Value) -> i64 {
    let ctx = UpdateContext::from_update(update);
    ctx.chat_id.or(ctx.user_id).unwrap_or(0)
}
