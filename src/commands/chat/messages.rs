//! Messages and the rest: delete, pin and unpin (one or all), invite links, `send_message`, `reply`,
//! `answer_callback_query`, and the raw `bot_api`.

use super::BUSINESS;
use super::{
    CHAT_ID, ChatAction, Method, Params, Takes, chat_id, put_opt_bool, put_opt_int, put_opt_str,
};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::UpdateContext;
use serde_json::{Map, Value, json};

/// The message an action is about.
const MESSAGE_ID: FieldSpec = FieldSpec::required(
    "message_id",
    "integer",
    "7",
    "the message (scripts: the one being handled when left out)",
);

/// The text of a message to send.
const TEXT: FieldSpec = FieldSpec::required("text", "string", r#""hello""#, "the message text");

/// The current message / a message / a message of another chat.
const MESSAGE: &[&[&str]] = &[
    &["bool"],
    &["message_id: INT", "bool"],
    &["chat_id: INT | String", "message_id: INT", "bool"],
];

pub(super) const TG_DELETE_MESSAGE: ChatAction = ChatAction {
    name: "tg_delete_message",
    doc: r#"
Delete a message; without `message_id`, the message being handled. Optional leading `chat_id`.

# Example
```rhai
tg_delete_message();              // the current message
tg_delete_message(msg.message_id);
```
"#,
    overloads: MESSAGE,
    method: Method::Fixed("deleteMessage"),
    takes: Takes::Only(&[CHAT_ID, MESSAGE_ID]),
    returns: "true",
    build: message,
};

pub(super) const TG_PIN_CHAT_MESSAGE: ChatAction = ChatAction {
    name: "tg_pin_chat_message",
    doc: r#"
Pin a message; without `message_id`, the message being handled. Optional leading `chat_id`.

# Example
```rhai
tg_pin_chat_message(msg.message_id);
```
"#,
    overloads: MESSAGE,
    method: Method::Fixed("pinChatMessage"),
    takes: Takes::Only(&[
        BUSINESS,
        CHAT_ID,
        MESSAGE_ID,
        FieldSpec::optional(
            "disable_notification",
            "boolean",
            "pin without notifying members",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = message(f, ctx)?;
        put_opt_bool(f, &mut params, "disable_notification")?;
        Ok(params)
    },
};

pub(super) const TG_UNPIN_CHAT_MESSAGE: ChatAction = ChatAction {
    name: "tg_unpin_chat_message",
    doc: r#"
Unpin a message; without `message_id`, the most recent pinned message. Optional leading
`chat_id`.

# Example
```rhai
tg_unpin_chat_message();
```
"#,
    overloads: MESSAGE,
    method: Method::Fixed("unpinChatMessage"),
    takes: Takes::Only(&[
        BUSINESS,
        CHAT_ID,
        FieldSpec::optional(
            "message_id",
            "integer",
            "the message (left out: the most recent pinned one)",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = Map::new();
        params.insert("chat_id".into(), chat_id(f, ctx)?);
        put_opt_int(f, &mut params, "message_id")?;
        Ok(params)
    },
};

pub(super) const TG_UNPIN_ALL: ChatAction = ChatAction {
    name: "tg_unpin_all",
    doc: r#"
Unpin every pinned message of the chat (`unpinAllChatMessages`), as Salebot's `tg_unpin_all`.
Optional `chat_id`.

# Example
```rhai
tg_unpin_all();
```
"#,
    overloads: &[&["bool"], &["chat_id: INT | String", "bool"]],
    method: Method::Confirmed("unpinAllChatMessages"),
    takes: Takes::Only(&[CHAT_ID]),
    returns: "true",
    build: |f, ctx| {
        let mut params = Map::new();
        params.insert("chat_id".into(), chat_id(f, ctx)?);
        Ok(params)
    },
};

pub(super) const TG_CREATE_CHAT_INVITE_LINK: ChatAction = ChatAction {
    name: "tg_create_chat_invite_link",
    doc: r#"
Create an invite link (`createChatInviteLink`) and return the `ChatInviteLink` map. Options:
`#{name, expire_date, member_limit, creates_join_request}`. Optional leading `chat_id`.

# Example
```rhai
let link = tg_create_chat_invite_link(#{member_limit: 1, name: "one guest"});
reply(link.invite_link);
```
"#,
    overloads: &[
        &["Map"],
        &["options: Map", "Map"],
        &["chat_id: INT | String", "options: Map", "Map"],
    ],
    method: Method::Fixed("createChatInviteLink"),
    takes: Takes::Only(&[
        CHAT_ID,
        FieldSpec::optional("name", "string", "the link's name").eg(r#""one guest""#),
        FieldSpec::optional("expire_date", "integer", "Unix seconds the link expires at"),
        FieldSpec::optional(
            "member_limit",
            "integer",
            "how many may join through it, 1–99999",
        )
        .eg("1"),
        FieldSpec::optional(
            "creates_join_request",
            "boolean",
            "joining needs an admin's approval",
        ),
    ]),
    returns: r#"{"invite_link": "https://t.me/+AbCdEfGhIjKl", "name": "one guest", "member_limit": 1, "creates_join_request": false, "is_primary": false, "is_revoked": false}"#,
    build: |f, ctx| {
        let mut params = Map::new();
        params.insert("chat_id".into(), chat_id(f, ctx)?);
        put_opt_str(f, &mut params, "name")?;
        put_opt_int(f, &mut params, "expire_date")?;
        put_opt_int(f, &mut params, "member_limit")?;
        put_opt_bool(f, &mut params, "creates_join_request")?;
        Ok(params)
    },
};

pub const SEND_MESSAGE: ChatAction = ChatAction {
    name: "send_message",
    doc: r#"
Send a text message to a chat (`sendMessage`) and return the sent `Message`. Options are Bot
API fields passed through (`parse_mode`, `reply_markup`, `disable_notification`, …).

# Example
```rhai
send_message(-1001234567890, "<b>Rules</b> updated", #{parse_mode: "HTML"});
```
"#,
    overloads: &[
        &["chat_id: INT | String", "text: String", "Map"],
        &[
            "chat_id: INT | String",
            "text: String",
            "options: Map",
            "Map",
        ],
    ],
    method: Method::Fixed("sendMessage"),
    takes: Takes::AndMore(&[BUSINESS, CHAT_ID, TEXT]),
    returns: r#"{"message_id": 8, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "text": "hello"}"#,
    build: text_message,
};

pub(super) const REPLY: ChatAction = ChatAction {
    name: "reply",
    doc: r#"
Reply to the message being handled, in its chat. Options are Bot API `sendMessage` fields
(`reply_markup` for buttons, `parse_mode`, …).

# Example
```rhai
reply("Press the button to get in", #{reply_markup: #{inline_keyboard: [[
    #{text: "I am human", callback_data: "human"}
]]}});
```
"#,
    overloads: &[
        &["text: String", "Map"],
        &["text: String", "options: Map", "Map"],
    ],
    method: Method::Fixed("sendMessage"),
    takes: Takes::AndMore(&[
        BUSINESS,
        TEXT,
        FieldSpec::optional(
            "chat_id",
            "integer|string",
            "the chat (scripts: left out, the one of the message being handled; the gateway \
             needs it)",
        )
        .eg("-1001234567890"),
        FieldSpec::optional(
            "message_id",
            "integer",
            "the message replied to (scripts: left out, the one being handled; the gateway \
             needs it, or `reply_parameters`)",
        )
        .eg("1"),
    ]),
    returns: r#"{"message_id": 8, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "text": "hello"}"#,
    build: |f, ctx| {
        let mut params = text_message(f, ctx)?;
        // The message replied to: named, else the one being handled (none over the gateway).
        let message_id = f.opt_int("message_id")?.or(ctx.message_id);
        params.remove("message_id");
        if !params.contains_key("reply_parameters") {
            let message_id = message_id.ok_or_else(|| {
                f.error("no message to reply to: pass message_id (the gateway has no current message), or use send_message(chat_id, text)")
            })?;
            params.insert(
                "reply_parameters".into(),
                json!({ "message_id": message_id }),
            );
        }
        Ok(params)
    },
};

pub(super) const ANSWER_CALLBACK_QUERY: ChatAction = ChatAction {
    name: "answer_callback_query",
    doc: r#"
Answer the button press being handled (`answerCallbackQuery`), optionally with a text.
Options: `#{show_alert, url, cache_time}`.

# Example
```rhai
fn on_callback_query(query) { answer_callback_query("Welcome!"); }
```
"#,
    overloads: &[
        &["bool"],
        &["text: String", "bool"],
        &["text: String", "options: Map", "bool"],
    ],
    method: Method::Fixed("answerCallbackQuery"),
    takes: Takes::Only(&[
        CALLBACK_QUERY_ID,
        FieldSpec::optional("text", "string", "a notification to show").eg(r#""Welcome!""#),
        FieldSpec::optional(
            "show_alert",
            "boolean",
            "an alert instead of a notification",
        ),
        FieldSpec::optional("url", "string", "a URL to open (games, t.me links)"),
        CACHE_TIME,
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = Map::new();
        params.insert("callback_query_id".into(), callback_query(f, ctx)?.into());
        put_opt_str(f, &mut params, "text")?;
        put_opt_bool(f, &mut params, "show_alert")?;
        put_opt_str(f, &mut params, "url")?;
        put_opt_int(f, &mut params, "cache_time")?;
        Ok(params)
    },
};

pub(super) const BOT_API: ChatAction = ChatAction {
    name: "bot_api",
    doc: r#"
Call any Bot API method with a parameter map and return its `result`. Refusals throw
`#{command, code, error, hint}` like the other chat builtins. The methods that would take the
bot over from tgscript (`getUpdates`, `setWebhook`, `deleteWebhook`, `logOut`, `close`) are
refused before anything is sent.

# Example
```rhai
let chat = bot_api("getChat", #{chat_id: -1001234567890});
print(chat.title);
```
"#,
    overloads: &[&["method: String", "params: Map", "Dynamic"]],
    method: Method::Field("method"),
    takes: Takes::Only(&[
        FieldSpec::required(
            "method",
            "string",
            r#""getChat""#,
            "the Bot API method (getUpdates, setWebhook, deleteWebhook, logOut, close refused)",
        ),
        FieldSpec::optional("params", "map", "its parameters")
            .or("{}")
            .eg(r#"{"chat_id": -1001234567890}"#),
    ]),
    returns: r#"{"id": -1001234567890, "type": "supergroup", "title": "Rules"}"#,
    build: |f, _| {
        let method = f
            .opt_str("method")?
            .ok_or_else(|| f.error("method is required"))?;
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(f.error(format!(
                "method must be a Bot API method name like \"getChat\", got {method:?}"
            )));
        }
        if let Some(why) = crate::telegram::takeover(method) {
            return Err(f.error(format!("{method} is refused: {why}")));
        }
        match f.get("params") {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => Err(f.error("params must be a map")),
        }
    },
};

/// The button press an answer is for.
pub(super) const CALLBACK_QUERY_ID: FieldSpec = FieldSpec::required(
    "callback_query_id",
    "string",
    r#""4382bfdwdsb323b2d9""#,
    "the button press (scripts: the one being handled)",
);

/// How long clients may keep an answer to a button press.
pub(super) const CACHE_TIME: FieldSpec = FieldSpec::optional(
    "cache_time",
    "integer",
    "seconds clients may cache the answer",
);

/// The request's `callback_query_id`, else the button press being handled.
pub(super) fn callback_query(f: &Fields, ctx: &UpdateContext) -> Result<String, CommandError> {
    match f.get("callback_query_id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        Some(_) => Err(f.error("callback_query_id must be a non-empty string")),
        None => ctx.callback_query_id.clone().ok_or_else(|| {
            f.error("no current callback query: call it from on_callback_query or pass callback_query_id")
        }),
    }
}

/// `chat_id` and `message_id` (the message being handled when left out).
pub(super) fn message(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let mut params = Map::new();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    params.insert("message_id".into(), super::message_id(f, ctx)?.into());
    Ok(params)
}

/// `sendMessage`: the request's fields passed through, `text` checked, `chat_id` filled in.
fn text_message(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let mut params = f.map.clone();
    let text = f
        .opt_str("text")?
        .ok_or_else(|| f.error("text is required"))?;
    params.insert("text".into(), text.into());
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    super::check_markup(f, &params)?;
    Ok(params)
}
