//! Photos and documents, edits of sent messages, and the checks of what a message carries:
//! a media argument is a URL or `file_id` (sent to Telegram as is) or an upload (sent as
//! multipart), and a button's `callback_data` fits Telegram's 64 bytes.

use super::BUSINESS;
use super::{CHAT_ID, ChatAction, Method, Params, Takes, chat_id};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::UpdateContext;
use crate::telegram::upload::Upload;
use serde_json::{Map, Value};

/// Telegram's limit on a photo sent as an upload.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Telegram's limit on any other file a bot uploads.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
/// Telegram's limit on a button's `callback_data`.
pub const MAX_CALLBACK_DATA: usize = 64;
/// Telegram's limit on a caption.
pub const MAX_CAPTION: usize = 1024;

/// A message to edit: the one being handled (a button's message) or one by id, perhaps in
/// another chat; then what the overload takes.
macro_rules! edit_overloads {
    ($arg:literal, $returns:literal) => {
        &[
            &[$arg, $returns],
            &[$arg, "options: Map", $returns],
            &["message_id: INT", $arg, $returns],
            &["message_id: INT", $arg, "options: Map", $returns],
            &["chat_id: INT | String", "message_id: INT", $arg, $returns],
            &[
                "chat_id: INT | String",
                "message_id: INT",
                $arg,
                "options: Map",
                $returns,
            ],
        ]
    };
}

/// A file to send to the current chat or another one, with options.
macro_rules! send_overloads {
    ($arg:literal) => {
        &[
            &[$arg, "Map"],
            &[$arg, "options: Map", "Map"],
            &["chat_id: INT | String", $arg, "Map"],
            &["chat_id: INT | String", $arg, "options: Map", "Map"],
        ]
    };
}

/// The message to edit, as the edits take it.
const EDITED_ID: FieldSpec = FieldSpec::required(
    "message_id",
    "integer",
    "7",
    "the message (scripts: the one being handled, e.g. the message a pressed button is under)",
);

/// What `send_photo` answers: the sent message.
const SENT_PHOTO: &str = r#"{"message_id": 8, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "photo": [{"file_id": "AgACAgIAAxkBAAIB", "file_unique_id": "AQADx7sxG"}]}"#;
/// What `send_document` answers: the sent message.
const SENT_DOCUMENT: &str = r#"{"message_id": 9, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "document": {"file_id": "BQACAgIAAxkBAAIC", "file_unique_id": "AgADy8sxG"}}"#;

pub(super) const EDIT_MESSAGE_TEXT: ChatAction = ChatAction {
    name: "edit_message_text",
    doc: r#"
Change the text of a message the bot sent (`editMessageText`) and return the edited message.
Without `message_id`, the message being handled (in `on_callback_query`: the message the
button is under). Options are Bot API fields passed through (`parse_mode`, `reply_markup`, …);
without `reply_markup` the message loses its buttons, as in Telegram.

# Example
```rhai
fn on_callback_query(query) {
    // without reply_markup, the buttons go
    edit_message_text("Thanks, " + query.from.first_name + "!");
}
```
"#,
    overloads: edit_overloads!("text: String", "Map"),
    method: Method::Fixed("editMessageText"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        EDITED_ID,
        FieldSpec::required("text", "string", r#""hello""#, "the new text"),
    ]),
    returns: r#"{"message_id": 7, "date": 1767225600, "edit_date": 1767225660, "chat": {"id": -1001234567890, "type": "supergroup"}, "text": "hello"}"#,
    build: |f, ctx| {
        let mut params = edited(f, ctx)?;
        let text = f
            .opt_str("text")?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| f.error("text is required and may not be empty"))?;
        params.insert("text".into(), text.into());
        Ok(params)
    },
};

pub(super) const EDIT_MESSAGE_REPLY_MARKUP: ChatAction = ChatAction {
    name: "edit_message_reply_markup",
    doc: r#"
Change the buttons under a message the bot sent (`editMessageReplyMarkup`); an empty map
`#{}` removes them. Without `message_id`, the message being handled.

# Example
```rhai
fn on_callback_query(query) {
    edit_message_reply_markup(buttons([[button("Done ✓", "noop")]]));
}
```
"#,
    overloads: &[
        &["reply_markup: Map", "Map"],
        &["message_id: INT", "reply_markup: Map", "Map"],
        &[
            "chat_id: INT | String",
            "message_id: INT",
            "reply_markup: Map",
            "Map",
        ],
    ],
    method: Method::Fixed("editMessageReplyMarkup"),
    takes: Takes::Only(&[
        BUSINESS,
        CHAT_ID,
        EDITED_ID,
        FieldSpec::required(
            "reply_markup",
            "map",
            r#"{"inline_keyboard": [[{"text": "Done", "callback_data": "noop"}]]}"#,
            "the new inline keyboard ({} removes the buttons)",
        ),
    ]),
    returns: r#"{"message_id": 7, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "text": "hello"}"#,
    build: |f, ctx| {
        let mut params = edited(f, ctx)?;
        let markup = f
            .opt_map("reply_markup")?
            .ok_or_else(|| f.error("reply_markup is required ({} removes the buttons)"))?;
        if markup.is_empty() {
            params.remove("reply_markup");
        }
        check_markup(f, &params)?;
        Ok(params)
    },
};

pub(super) const SEND_PHOTO: ChatAction = ChatAction {
    name: "send_photo",
    doc: r#"
Send a photo (`sendPhoto`) and return the sent message. `photo` is a URL or `file_id` (sent to
Telegram as is) or a file: `asset("welcome.jpg")` or a blob (uploaded, at most 10 MB). Options
are Bot API fields passed through (`caption`, `parse_mode`, `reply_markup`, …). Optional
leading `chat_id`.

# Example
```rhai
send_photo(asset("welcome.jpg"), #{caption: "Welcome to the group!"});
send_photo(-1001234567890, "https://example.com/rules.png");
```
"#,
    overloads: send_overloads!("photo: String | Asset | Blob"),
    method: Method::Fixed("sendPhoto"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        FieldSpec::required(
            "photo",
            "string|upload",
            r#""https://example.com/rules.png""#,
            "a URL or file_id, or an upload {\"base64\": …, \"filename\": …}",
        ),
    ]),
    returns: SENT_PHOTO,
    build: |f, ctx| send_file(f, ctx, "photo", MAX_PHOTO_BYTES),
};

pub(super) const SEND_DOCUMENT: ChatAction = ChatAction {
    name: "send_document",
    doc: r#"
Send a file as a document (`sendDocument`) and return the sent message. `document` is a URL or
`file_id`, or a file: `asset("rules.pdf")` (its name is the file name users see) or a blob
(uploaded, at most 50 MB). Options are Bot API fields passed through (`caption`, …). Optional
leading `chat_id`.

# Example
```rhai
send_document(asset("rules.pdf"), #{caption: "The rules, to keep"});
```
"#,
    overloads: send_overloads!("document: String | Asset | Blob"),
    method: Method::Fixed("sendDocument"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        FieldSpec::required(
            "document",
            "string|upload",
            r#""https://example.com/rules.pdf""#,
            "a URL or file_id, or an upload {\"base64\": …, \"filename\": …}",
        ),
    ]),
    returns: SENT_DOCUMENT,
    build: |f, ctx| send_file(f, ctx, "document", MAX_FILE_BYTES),
};

/// `sendPhoto` / `sendDocument`: the request's fields passed through, the file checked.
pub(super) fn send_file(
    f: &Fields,
    ctx: &UpdateContext,
    key: &str,
    max: usize,
) -> Result<Params, CommandError> {
    let mut params = f.map.clone();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    params.insert(key.into(), file(f, key, max)?);
    check_markup(f, &params)?;
    Ok(params)
}

/// `chat_id` and `message_id` of the message to edit (the one being handled when left out),
/// and the other fields passed through.
pub(super) fn edited(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let mut params = f.map.clone();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    params.insert("message_id".into(), super::message_id(f, ctx)?.into());
    check_markup(f, &params)?;
    Ok(params)
}

/// A media field: a URL or `file_id` as is, or an upload of at most `max` bytes.
pub fn file(f: &Fields, key: &str, max: usize) -> Result<Value, CommandError> {
    match f.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Value::String(s.clone())),
        Some(value) => match upload(f, key, value, max)? {
            Some(upload) => Ok(upload),
            None => Err(f.error(format!(
                "{key} must be a URL, a file_id or a file (asset(\"name\") or a blob)"
            ))),
        },
        None => Err(f.error(format!("{key} is required"))),
    }
}

/// A field Telegram takes only as an upload (`setChatPhoto`).
pub fn upload_only(f: &Fields, key: &str) -> Result<Value, CommandError> {
    let refused = || {
        f.error(format!(
            "{key} must be an uploaded file: Telegram takes no URL or file_id here; pass asset(\"name\") or a blob"
        ))
    };
    let value = f
        .get(key)
        .ok_or_else(|| f.error(format!("{key} is required")))?;
    upload(f, key, value, MAX_PHOTO_BYTES)?.ok_or_else(refused)
}

/// The `InputMedia` `item` (named `what` in errors: `media`, `media[2]`), checked: its
/// `type` one of `kinds`; its `media` a URL or `file_id`, or an upload put into `params` as
/// the part `part` it then points at (`attach://part`: Telegram takes files inside a JSON
/// field so); its caption within Telegram's limit.
pub(super) fn input_media(
    f: &Fields,
    what: &str,
    item: &Value,
    kinds: &[&str],
    part: &str,
    params: &mut Params,
) -> Result<Value, CommandError> {
    let mut media = item
        .as_object()
        .ok_or_else(|| f.error(format!("{what} must be a map #{{type, media, caption}}")))?
        .clone();
    let kind = media
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !kinds.contains(&kind) {
        return Err(f.error(format!(
            "{what}.type must be one of {}, got {kind:?}",
            kinds.join(", ")
        )));
    }
    let file = media.get("media").cloned().unwrap_or(Value::Null);
    let max = match kind {
        "photo" => MAX_PHOTO_BYTES,
        _ => MAX_FILE_BYTES,
    };
    match &file {
        Value::String(s) if !s.trim().is_empty() => {}
        _ => match upload(f, &format!("{what}.media"), &file, max)? {
            Some(uploaded) => {
                params.insert(part.into(), uploaded);
                media.insert("media".into(), format!("attach://{part}").into());
            }
            None => {
                return Err(f.error(format!(
                    "{what}.media must be a URL, a file_id or a file (asset(\"name\") or a blob)"
                )));
            }
        },
    }
    if let Some(caption) = media.get("caption").and_then(Value::as_str)
        && caption.chars().count() > MAX_CAPTION
    {
        return Err(f.error(format!(
            "{what}.caption must be at most {MAX_CAPTION} characters"
        )));
    }
    Ok(Value::Object(media))
}

/// `value` when it is a valid upload of at most `max` bytes.
pub(super) fn upload(
    f: &Fields,
    key: &str,
    value: &Value,
    max: usize,
) -> Result<Option<Value>, CommandError> {
    let upload = Upload::from_json(value).map_err(|e| f.error(format!("{key}: {e}")))?;
    match upload {
        Some(upload) if upload.bytes.is_empty() => Err(f.error(format!("{key} is an empty file"))),
        Some(upload) if upload.bytes.len() > max => Err(f.error(format!(
            "{key} is {} bytes; Telegram takes at most {max} here",
            upload.bytes.len()
        ))),
        Some(_) => Ok(Some(value.clone())),
        None => Ok(None),
    }
}

/// Refuse an inline button whose `callback_data` Telegram would refuse (over 64 bytes, or
/// empty), before anything is sent.
pub fn check_markup(f: &Fields, params: &Map<String, Value>) -> Result<(), CommandError> {
    let Some(rows) = params
        .get("reply_markup")
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    for button in rows.iter().filter_map(Value::as_array).flatten() {
        if let Some(data) = button.get("callback_data").and_then(Value::as_str)
            && (data.is_empty() || data.len() > MAX_CALLBACK_DATA)
        {
            {
                return Err(f.error(format!(
                    "a button's callback_data must be 1–{MAX_CALLBACK_DATA} bytes, {:?} is {}",
                    button
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    data.len()
                )));
            }
        }
    }
    Ok(())
}
