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
    /// Whether it runs ahead of the other updates: a query Telegram waits on (pre-checkout,
    /// shipping), answered within seconds or the user's payment fails.
    #[serde(default)]
    pub ahead: bool,
}

/// The kinds of update tgscript knows, by the key their payload sits under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpdateKind {
    /// `message`
    Message,
    /// `edited_message`
    EditedMessage,
    /// `channel_post`
    ChannelPost,
    /// `edited_channel_post`
    EditedChannelPost,
    /// `callback_query`: a button press.
    CallbackQuery,
    /// `chat_member`: joins, leaves, promotions.
    ChatMember,
    /// `my_chat_member`: the bot's own membership.
    MyChatMember,
    /// `chat_join_request`
    ChatJoinRequest,
    /// `inline_query`
    InlineQuery,
    /// `poll`
    Poll,
    /// `poll_answer`
    PollAnswer,
    /// `message_reaction`
    MessageReaction,
    /// Anything newer than this build.
    Other,
}

impl UpdateKind {
    /// The known kinds.
    pub const KNOWN: [UpdateKind; 12] = [
        UpdateKind::Message,
        UpdateKind::EditedMessage,
        UpdateKind::ChannelPost,
        UpdateKind::EditedChannelPost,
        UpdateKind::CallbackQuery,
        UpdateKind::ChatMember,
        UpdateKind::MyChatMember,
        UpdateKind::ChatJoinRequest,
        UpdateKind::InlineQuery,
        UpdateKind::Poll,
        UpdateKind::PollAnswer,
        UpdateKind::MessageReaction,
    ];

    /// The key the payload sits under (`"other"` for [`UpdateKind::Other`]).
    pub fn key(self) -> &'static str {
        match self {
            UpdateKind::Message => "message",
            UpdateKind::EditedMessage => "edited_message",
            UpdateKind::ChannelPost => "channel_post",
            UpdateKind::EditedChannelPost => "edited_channel_post",
            UpdateKind::CallbackQuery => "callback_query",
            UpdateKind::ChatMember => "chat_member",
            UpdateKind::MyChatMember => "my_chat_member",
            UpdateKind::ChatJoinRequest => "chat_join_request",
            UpdateKind::InlineQuery => "inline_query",
            UpdateKind::Poll => "poll",
            UpdateKind::PollAnswer => "poll_answer",
            UpdateKind::MessageReaction => "message_reaction",
            UpdateKind::Other => "other",
        }
    }
}

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
                ahead: false,
            };
        }
        let (_, _, payload) = kind(update);
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
            job: None,
            ahead: runs_ahead(update),
        }
    }
}

/// The kind of an update, the key its payload sits under (`"message"`, `"callback_query"`,
/// or a newer one's own key), and the payload.
pub fn kind(update: &Value) -> (UpdateKind, &str, &Value) {
    for kind in UpdateKind::KNOWN {
        if let Some(payload) = update.get(kind.key()) {
            return (kind, kind.key(), payload);
        }
    }
    let other = update
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.as_str() != "update_id"));
    match other {
        Some((k, v)) => (UpdateKind::Other, k.as_str(), v),
        None => (UpdateKind::Other, "unknown", &Value::Null),
    }
}

/// Whether `update` is a query Telegram waits on (a pre-checkout or shipping query): it runs
/// ahead of the other updates, in no chat's order.
pub fn runs_ahead(update: &Value) -> bool {
    update.get("pre_checkout_query").is_some() || update.get("shipping_query").is_some()
}

/// The key updates are ordered by: their chat, else their user, else 0. Updates with one key
/// are handled one after another, in order.
pub fn chat_key(update: &Value) -> i64 {
    let ctx = UpdateContext::from_update(update);
    ctx.chat_id.or(ctx.user_id).unwrap_or(0)
}
