//! Edits of what a sent message carries, by Salebot's names: its caption
//! (`tg_edit_message_caption`) and its photo, video or file (`tg_edit_message_media`). Without
//! `message_id`, the message being handled (in `on_callback_query`, the one the button is
//! under).

use super::BUSINESS;
use super::media::{MAX_CAPTION, edited, input_media};
use super::{CHAT_ID, ChatAction, Method, Takes};
use crate::commands::FieldSpec;

/// The kinds of media `editMessageMedia` takes.
pub const MEDIA_KINDS: [&str; 5] = ["animation", "document", "audio", "photo", "video"];

/// Where an uploaded file goes in the call: the top-level part `media` points at
/// (`attach://file`), as Telegram takes files inside a JSON field.
pub const ATTACHED: &str = "file";

/// The edited message, as an edit answers it.
const EDITED: &str = r#"{"message_id": 7, "date": 1767225600, "edit_date": 1767225660, "chat": {"id": -1001234567890, "type": "supergroup"}, "photo": [{"file_id": "AgACAgIAAxkBAAIB", "file_unique_id": "AQADx7sxG"}], "caption": "New caption"}"#;

/// The message to edit, as the edits take it.
const EDITED_ID: FieldSpec = FieldSpec::required(
    "message_id",
    "integer",
    "7",
    "the message (scripts: the one being handled, e.g. the message a pressed button is under)",
);

pub(super) const TG_EDIT_MESSAGE_CAPTION: ChatAction = ChatAction {
    name: "tg_edit_message_caption",
    doc: r#"
Change the caption of a photo, video or file the bot sent (`editMessageCaption`, up to 1024
characters; `""` removes it) and return the edited message. Options: `parse_mode`,
`reply_markup` (left out, the buttons go, as in Telegram), … Optional leading `chat_id` and
`message_id`.

# Example
```rhai
fn on_callback_query(query) {
    tg_edit_message_caption("Sold out", #{reply_markup: query.message.reply_markup});
}
```
"#,
    overloads: edit_overloads!("caption: String", "Map"),
    method: Method::Fixed("editMessageCaption"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        EDITED_ID,
        FieldSpec::required(
            "caption",
            "string",
            r#""New caption""#,
            "the new caption, up to 1024 characters",
        ),
    ]),
    returns: EDITED,
    build: |f, ctx| {
        let mut params = edited(f, ctx)?;
        let caption = super::settings::text(f, "caption", 0, MAX_CAPTION)?;
        params.insert("caption".into(), caption.into());
        Ok(params)
    },
};

pub(super) const TG_EDIT_MESSAGE_MEDIA: ChatAction = ChatAction {
    name: "tg_edit_message_media",
    doc: r#"
Replace the photo, video, animation, audio or file of a message the bot sent
(`editMessageMedia`) and return the edited message. `media` is an `InputMedia` map:
`#{type, media, caption, parse_mode}` where `type` is "photo", "video", "animation", "audio" or
"document" and `media` a URL, a `file_id`, or a file (`asset("…")` or a blob, uploaded).
Optional leading `chat_id` and `message_id`.

# Example
```rhai
fn on_callback_query(query) {
    tg_edit_message_media(#{type: "photo", media: asset("sold.jpg"), caption: "Sold"});
}
```
"#,
    overloads: edit_overloads!("media: Map", "Map"),
    method: Method::Fixed("editMessageMedia"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        EDITED_ID,
        FieldSpec::required(
            "media",
            "map",
            r#"{"type": "photo", "media": "https://example.com/sold.jpg", "caption": "Sold"}"#,
            "an InputMedia: {type, media (a URL, file_id or upload), caption, …}",
        ),
    ]),
    returns: EDITED,
    build: |f, ctx| {
        let mut params = edited(f, ctx)?;
        let media = f
            .get("media")
            .ok_or_else(|| f.error("media is required: #{type, media, caption}"))?;
        let media = input_media(f, "media", media, &MEDIA_KINDS, ATTACHED, &mut params)?;
        params.insert("media".into(), media);
        Ok(params)
    },
};
