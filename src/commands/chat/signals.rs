//! What the bot shows without sending a message, by Salebot's names: a chat action
//! ("typing…", `tg_send_chat_action`), a reaction on a message (`tg_set_message_reaction`),
//! and a button press answered by opening a URL (`tg_callback_url_open`).

use super::BUSINESS;
use super::messages::{CACHE_TIME, CALLBACK_QUERY_ID, callback_query, message};
use super::{CHAT_ID, ChatAction, Method, Takes, put_opt_int};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use serde_json::{Map, Value, json};

/// The actions `sendChatAction` takes.
pub const CHAT_ACTIONS: [&str; 11] = [
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

/// The emoji Telegram takes as a reaction (`ReactionTypeEmoji`), without variation
/// selectors.
pub const REACTIONS: [&str; 73] = [
    "❤",
    "👍",
    "👎",
    "🔥",
    "🥰",
    "👏",
    "😁",
    "🤔",
    "🤯",
    "😱",
    "🤬",
    "😢",
    "🎉",
    "🤩",
    "🤮",
    "💩",
    "🙏",
    "👌",
    "🕊",
    "🤡",
    "🥱",
    "🥴",
    "😍",
    "🐳",
    "❤\u{200d}🔥",
    "🌚",
    "🌭",
    "💯",
    "🤣",
    "⚡",
    "🍌",
    "🏆",
    "💔",
    "🤨",
    "😐",
    "🍓",
    "🍾",
    "💋",
    "🖕",
    "😈",
    "😴",
    "😭",
    "🤓",
    "👻",
    "👨\u{200d}💻",
    "👀",
    "🎃",
    "🙈",
    "😇",
    "😨",
    "🤝",
    "✍",
    "🤗",
    "🫡",
    "🎅",
    "🎄",
    "☃",
    "💅",
    "🤪",
    "🗿",
    "🆒",
    "💘",
    "🙉",
    "🦄",
    "😘",
    "💊",
    "🙊",
    "😎",
    "👾",
    "🤷\u{200d}♂",
    "🤷",
    "🤷\u{200d}♀",
    "😡",
];

pub(super) const TG_SEND_CHAT_ACTION: ChatAction = ChatAction {
    name: "tg_send_chat_action",
    doc: r#"
Show what the bot is doing in a chat (`sendChatAction`) for up to 5 seconds or until it sends
something: "typing", "upload_photo", "record_video", "upload_video", "record_voice",
"upload_voice", "upload_document", "choose_sticker", "find_location", "record_video_note" or
"upload_video_note" (Salebot's `bot_action`, the gateway's field too, as `action` names the
gateway's action). As Salebot's: optional leading `chat_id` and trailing `message_thread_id`
(a forum topic).

# Example
```rhai
tg_send_chat_action("typing");
let answer = http_get("https://example.com/slow-answer").body;
reply(answer);
```
"#,
    overloads: &[
        &["bot_action: String", "bool"],
        &["chat_id: INT | String", "bot_action: String", "bool"],
        &[
            "chat_id: INT | String",
            "bot_action: String",
            "message_thread_id: INT",
            "bool",
        ],
    ],
    method: Method::Confirmed("sendChatAction"),
    takes: Takes::Only(&[
        BUSINESS,
        CHAT_ID,
        FieldSpec::required(
            "bot_action",
            "string",
            r#""typing""#,
            "what the bot is doing (Salebot's name; sent as the Bot API's action)",
        ),
        FieldSpec::optional(
            "message_thread_id",
            "integer",
            "the forum topic it shows in",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let action = f
            .opt_str("bot_action")?
            .ok_or_else(|| f.error("bot_action is required"))?;
        if !CHAT_ACTIONS.contains(&action) {
            return Err(f.error(format!(
                "bot_action must be one of {}, got {action:?}",
                CHAT_ACTIONS.join(", ")
            )));
        }
        let mut params = super::settings::params_with(f, ctx, "action", action.into())?;
        put_opt_int(f, &mut params, "message_thread_id")?;
        Ok(params)
    },
};

pub(super) const TG_SET_MESSAGE_REACTION: ChatAction = ChatAction {
    name: "tg_set_message_reaction",
    doc: r#"
Put the bot's reaction on a message (`setMessageReaction`): an emoji from Telegram's list
(👍 ❤ 🔥 🎉 👀 …), a list of them, or `""` to take the reaction away. Without `message_id`, the
message being handled. Optional leading `chat_id`.

# Example
```rhai
fn on_message(msg) {
    if msg.text.contains("thanks") { tg_set_message_reaction("❤"); }
}
```
"#,
    overloads: &[
        &["reaction: String | Array", "bool"],
        &["message_id: INT", "reaction: String | Array", "bool"],
        &[
            "chat_id: INT | String",
            "message_id: INT",
            "reaction: String | Array",
            "bool",
        ],
    ],
    method: Method::Confirmed("setMessageReaction"),
    takes: Takes::Only(&[
        CHAT_ID,
        FieldSpec::required(
            "message_id",
            "integer",
            "7",
            "the message (scripts: the one being handled when left out)",
        ),
        FieldSpec::required(
            "reaction",
            "string|list",
            r#""👍""#,
            "an emoji, a list of ReactionType maps or emoji, or \"\" to remove",
        ),
        FieldSpec::optional("is_big", "boolean", "show it with a big animation"),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = message(f, ctx)?;
        params.insert("reaction".into(), reactions(f)?);
        super::put_opt_bool(f, &mut params, "is_big")?;
        Ok(params)
    },
};

pub(super) const TG_CALLBACK_URL_OPEN: ChatAction = ChatAction {
    name: "tg_callback_url_open",
    doc: r#"
Answer a button press by opening a URL (`answerCallbackQuery` with `url`): a t.me link to a
bot with a start parameter (`t.me/your_bot?start=XXXX`) or a game's URL. Without
`callback_query_id`, the press being handled. Optional `cache_time` (seconds).

# Example
```rhai
fn on_callback_query(query) {
    tg_callback_url_open("https://t.me/sandbox_bot?start=" + query.data);
}
```
"#,
    overloads: &[
        &["url: String", "bool"],
        &["callback_query_id: String", "url: String", "bool"],
        &[
            "callback_query_id: String",
            "url: String",
            "cache_time: INT",
            "bool",
        ],
    ],
    method: Method::Confirmed("answerCallbackQuery"),
    takes: Takes::Only(&[
        CALLBACK_QUERY_ID,
        FieldSpec::required(
            "url",
            "string",
            r#""https://t.me/sandbox_bot?start=promo""#,
            "the URL to open",
        ),
        CACHE_TIME,
    ]),
    returns: "true",
    build: |f, ctx| {
        let id = callback_query(f, ctx)?;
        let url = f
            .opt_str("url")?
            .filter(|u| !u.is_empty() && !u.chars().any(char::is_whitespace))
            .ok_or_else(|| f.error("url is required: a link without spaces"))?;
        let mut params = Map::new();
        params.insert("callback_query_id".into(), id.into());
        params.insert("url".into(), url.into());
        put_opt_int(f, &mut params, "cache_time")?;
        Ok(params)
    },
};

/// The `reaction` field as Telegram's list of `ReactionType`: an emoji or a list of emoji
/// (each from [`REACTIONS`]) or of `ReactionType` maps; `""` or `[]` is none.
fn reactions(f: &Fields) -> Result<Value, CommandError> {
    let one = |value: &Value| -> Result<Value, CommandError> {
        match value {
            Value::String(emoji) => {
                let emoji: String = emoji.chars().filter(|c| *c != '\u{fe0f}').collect();
                match REACTIONS.contains(&emoji.as_str()) {
                    true => Ok(json!({"type": "emoji", "emoji": emoji})),
                    false => Err(f.error(format!(
                        "reaction {emoji:?} is not one Telegram takes (e.g. 👍 ❤ 🔥 🎉 👀; see the docs)"
                    ))),
                }
            }
            Value::Object(map) if map.get("type").is_some_and(Value::is_string) => {
                Ok(value.clone())
            }
            _ => Err(f.error(
                "a reaction is an emoji or a ReactionType map like #{type: \"emoji\", emoji: \"👍\"}",
            )),
        }
    };
    match f.get("reaction") {
        None => Err(f.error("reaction is required (\"\" removes the bot's)")),
        Some(Value::String(s)) if s.is_empty() => Ok(json!([])),
        Some(Value::Array(list)) => list
            .iter()
            .map(one)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Some(value) => Ok(Value::Array(vec![one(value)?])),
    }
}
