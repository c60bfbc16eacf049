//! What a Bot API update says about where it happened: the implicit context of builtins.

use serde_json::Value;

/// The key an account event sits under in the update the inbox keeps for it:
/// `{"update_id": <negative>, "account_update": {"account_id", "update"}}`.
pub const ACCOUNT_UPDATE: &str = "account_update";

/// The key a due job sits under in the update the inbox keeps for it:
/// `{"update_id": <negative>, "job": {"id", "scenario", "function", "data", …}}`.
pub const JOB: &str = "job";

/// The chat, user and message an update is about. Builtins act on this chat unless a
/// `chat_id` is passed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The job being run (`current_job()`): its `id`, `function`, `due_at`, `late_ms`, ….
    #[serde(default)]
    pub job: Option<Value>,
    /// The business connection the update came through (business messages, their edits and
    /// deletions, the connection itself, a button under a business message): what sending
    /// on the business account's behalf names.
    #[serde(default)]
    pub business_connection_id: Option<String>,
    /// Whether it happened in a chat of a business account (a business message, its edit or
    /// deletion, a button under one), where a reply goes out through the connection.
    #[serde(default)]
    pub in_business_chat: bool,
    /// Whether it runs ahead of the other updates: a query Telegram waits on (pre-checkout,
    /// shipping), answered within seconds or the user's payment fails.
    #[serde(default)]
    pub ahead: bool,
}

pub use super::kinds::UpdateKind;

impl UpdateContext {
    /// Read the context out of a raw update.
    pub fn from_update(update: &Value) -> Self {
        let update_id = update["update_id"].as_i64().unwrap_or_default();
        if let Some(job) = update.get(JOB) {
            return Self {
                update_id,
                chat_id: job["chat_id"].as_i64(),
                user_id: job["user_id"].as_i64(),
                message_id: job["message_id"].as_i64(),
                callback_query_id: None,
                job: Some(job.clone()),
                business_connection_id: None,
                in_business_chat: false,
                ahead: false,
            };
        }
        let (kind, _, payload) = kind(update);
        let message = if payload.get("message_id").is_some() {
            payload
        } else {
            &payload["message"]
        };
        // Where Telegram puts the chat and the user, first found wins: a message's or
        // reaction's `chat`, a button's message's chat, a business connection's private chat
        // with its owner; the sender (`from`), a reactor's or voter's `user`, a booster.
        let chat_id = [&payload["chat"], &message["chat"]]
            .iter()
            .find_map(|chat| chat["id"].as_i64())
            .or_else(|| payload["user_chat_id"].as_i64());
        let user_id = [
            &payload["from"],
            &payload["user"],
            &payload["boost"]["source"]["user"],
            &payload["source"]["user"],
        ]
        .iter()
        .find_map(|user| user["id"].as_i64());
        let business_connection_id = match kind {
            Some(UpdateKind::BusinessConnection) => &payload["id"],
            _ if payload.get("business_connection_id").is_some() => {
                &payload["business_connection_id"]
            }
            _ => &message["business_connection_id"],
        };
        Self {
            update_id,
            chat_id,
            user_id,
            message_id: message["message_id"].as_i64(),
            callback_query_id: update["callback_query"]["id"].as_str().map(str::to_string),
            job: None,
            business_connection_id: business_connection_id.as_str().map(str::to_string),
            in_business_chat: kind != Some(UpdateKind::BusinessConnection)
                && business_connection_id.is_string(),
            ahead: runs_ahead(update),
        }
    }
}

/// The kind of an update (`None`: one newer than this build), the key its payload sits under
/// (`"message"`, `"callback_query"`, or a newer one's own key), and the payload.
pub fn kind(update: &Value) -> (Option<UpdateKind>, &str, &Value) {
    let known = UpdateKind::ALL
        .iter()
        .find_map(|kind| Some((*kind, update.get(kind.key())?)));
    if let Some((kind, payload)) = known {
        return (Some(kind), kind.key(), payload);
    }
    let other = update
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.as_str() != "update_id"));
    match other {
        Some((k, v)) => (None, k.as_str(), v),
        None => (None, "unknown", &Value::Null),
    }
}

/// Whether `update` is a query Telegram waits on (a pre-checkout or shipping query): it runs
/// ahead of the other updates, in no chat's order.
pub fn runs_ahead(update: &Value) -> bool {
    matches!(
        kind(update).0,
        Some(UpdateKind::PreCheckoutQuery | UpdateKind::ShippingQuery)
    )
}

/// The key updates are ordered by: their chat, else their user, else 0. Updates with one key
/// are handled one after another, in order.
pub fn chat_key(update: &Value) -> i64 {
    let ctx = UpdateContext::from_update(update);
    ctx.chat_id.or(ctx.user_id).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An update of `kind` carrying the kind's example payload.
    fn example(kind: UpdateKind) -> Value {
        let payload: Value =
            serde_json::from_str(kind.spec().example.unwrap_or("{}")).unwrap_or_default();
        json!({"update_id": 9, kind.key(): payload})
    }

    fn context_of(kind: UpdateKind) -> UpdateContext {
        UpdateContext::from_update(&example(kind))
    }

    #[test]
    fn each_kind_gives_its_chat_user_and_business_connection() {
        let (alice, bob, group, channel) = (1001, 1002, -1001234567890, -1002000000001);
        let expected = [
            (UpdateKind::ChannelPost, Some(channel), None, None),
            (
                UpdateKind::BusinessConnection,
                Some(alice),
                Some(alice),
                Some("AbCdEfGh12345"),
            ),
            (
                UpdateKind::BusinessMessage,
                Some(bob),
                Some(bob),
                Some("AbCdEfGh12345"),
            ),
            (
                UpdateKind::EditedBusinessMessage,
                Some(bob),
                Some(bob),
                Some("AbCdEfGh12345"),
            ),
            (
                UpdateKind::DeletedBusinessMessages,
                Some(bob),
                None,
                Some("AbCdEfGh12345"),
            ),
            (UpdateKind::MessageReaction, Some(group), Some(alice), None),
            (UpdateKind::MessageReactionCount, Some(channel), None, None),
            (UpdateKind::InlineQuery, None, Some(alice), None),
            (UpdateKind::ChosenInlineResult, None, Some(alice), None),
            (UpdateKind::ShippingQuery, None, Some(alice), None),
            (UpdateKind::PreCheckoutQuery, None, Some(alice), None),
            (UpdateKind::PurchasedPaidMedia, None, Some(alice), None),
            (UpdateKind::Poll, None, None, None),
            (UpdateKind::PollAnswer, None, Some(alice), None),
            (UpdateKind::ChatBoost, Some(channel), Some(alice), None),
            (
                UpdateKind::RemovedChatBoost,
                Some(channel),
                Some(alice),
                None,
            ),
            (UpdateKind::ManagedBot, None, Some(alice), None),
        ];
        for (kind, chat, user, connection) in expected {
            let ctx = context_of(kind);
            assert_eq!(
                (
                    ctx.chat_id,
                    ctx.user_id,
                    ctx.business_connection_id.as_deref()
                ),
                (chat, user, connection),
                "{}",
                kind.key()
            );
            assert_eq!(chat_key(&example(kind)), chat.or(user).unwrap_or(0));
        }
        assert_eq!(context_of(UpdateKind::MessageReaction).message_id, Some(7));
    }

    #[test]
    fn a_button_under_a_business_message_keeps_its_connection() {
        let update = json!({"update_id": 3, "callback_query": {"id": "cq1",
            "from": {"id": 1002, "is_bot": false, "first_name": "Bob"}, "chat_instance": "1", "data": "yes",
            "message": {"message_id": 52, "date": 1, "business_connection_id": "AbC",
                "chat": {"id": 1002, "type": "private"}}}});
        let ctx = UpdateContext::from_update(&update);
        assert_eq!(ctx.chat_id, Some(1002));
        assert_eq!(ctx.message_id, Some(52));
        assert_eq!(ctx.callback_query_id.as_deref(), Some("cq1"));
        assert_eq!(ctx.business_connection_id.as_deref(), Some("AbC"));
    }

    #[test]
    fn a_kind_newer_than_this_build_is_named_by_its_key() {
        let update = json!({"update_id": 4, "guest_arrived": {"chat": {"id": 5}}});
        let (kind, key, payload) = kind(&update);
        assert_eq!((kind, key), (None, "guest_arrived"));
        assert_eq!(payload["chat"]["id"], 5);
        assert_eq!(chat_key(&update), 5);
    }
}
