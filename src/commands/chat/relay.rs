//! Passing a message on, by Salebot's names: `tg_copy_message` (a copy, without a link to the
//! original) and `tg_forward_message` (with "Forwarded from"). Without `from_chat_id` and
//! `message_id`, the message being handled is passed on.

use super::{ChatAction, Method, Params, Takes, chat_id};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::UpdateContext;
use serde_json::Value;

/// The target chat, the message (the one being handled when left out), and options.
const RELAY: &[&[&str]] = &[
    &["chat_id: INT | String", "Map"],
    &["chat_id: INT | String", "options: Map", "Map"],
    &[
        "chat_id: INT | String",
        "from_chat_id: INT | String",
        "message_id: INT",
        "Map",
    ],
    &[
        "chat_id: INT | String",
        "from_chat_id: INT | String",
        "message_id: INT",
        "options: Map",
        "Map",
    ],
];

/// The fields a relay takes.
const RELAYED: &[FieldSpec] = &[
    FieldSpec::required(
        "chat_id",
        "integer|string",
        "-1009876543210",
        "the chat it goes to: an integer id or \"@username\"",
    ),
    FieldSpec::required(
        "from_chat_id",
        "integer|string",
        "-1001234567890",
        "the chat the message is in (scripts: the current chat when left out)",
    ),
    FieldSpec::required(
        "message_id",
        "integer",
        "7",
        "the message (scripts: the one being handled when left out)",
    ),
];

pub(super) const TG_COPY_MESSAGE: ChatAction = ChatAction {
    name: "tg_copy_message",
    doc: r#"
Copy a message to a chat (`copyMessage`): the same content, without a link to the original;
returns `#{message_id}` of the copy. Without `from_chat_id` and `message_id`, the message being
handled. Options: `caption` (a new one), `reply_markup`, `message_thread_id`, …

# Example
```rhai
fn on_message(msg) {
    tg_copy_message(-1009876543210);   // to the moderators' chat
}
```
"#,
    overloads: RELAY,
    method: Method::Fixed("copyMessage"),
    takes: Takes::AndMore(RELAYED),
    returns: r#"{"message_id": 12}"#,
    build: relayed,
};

pub(super) const TG_FORWARD_MESSAGE: ChatAction = ChatAction {
    name: "tg_forward_message",
    doc: r#"
Forward a message to a chat (`forwardMessage`), shown as "Forwarded from", and return the new
message. Without `from_chat_id` and `message_id`, the message being handled. Options:
`disable_notification`, `protect_content`, `message_thread_id`.

# Example
```rhai
tg_forward_message(-1009876543210, -1001234567890, 7);
```
"#,
    overloads: RELAY,
    method: Method::Fixed("forwardMessage"),
    takes: Takes::AndMore(RELAYED),
    returns: r#"{"message_id": 12, "date": 1767225600, "chat": {"id": -1009876543210, "type": "supergroup"}, "forward_origin": {"type": "user", "date": 1767225500, "sender_user": {"id": 42, "is_bot": false, "first_name": "Ann"}}, "text": "hello"}"#,
    build: relayed,
};

/// The fields passed through, with the target chat and the message passed on (the one
/// being handled when `from_chat_id` and `message_id` are left out).
fn relayed(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let mut params = f.map.clone();
    if f.get("chat_id").is_none() {
        return Err(f.error("chat_id is required: the chat the message goes to"));
    }
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    let from = match f.get("from_chat_id") {
        Some(value) => super::chat_ref(value)
            .ok_or_else(|| f.error("from_chat_id must be an integer or an \"@username\""))?,
        None => ctx
            .chat_id
            .map(Value::from)
            .ok_or_else(|| f.error("from_chat_id is required (no current chat)"))?,
    };
    params.insert("from_chat_id".into(), from);
    params.insert("message_id".into(), super::message_id(f, ctx)?.into());
    super::check_markup(f, &params)?;
    Ok(params)
}
