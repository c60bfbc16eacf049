//! Albums sent: `send_media_group`, 2 to 10 photos and videos (or documents, or audio files)
//! as one album, files among them uploaded as parts of one multipart call.

use super::BUSINESS;
use super::media::input_media;
use super::{CHAT_ID, ChatAction, Method, Params, Takes, chat_id};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::UpdateContext;
use crate::telegram::album::MAX_PARTS;
use serde_json::Value;

/// The kinds of media an album holds.
pub const ALBUM_KINDS: [&str; 4] = ["photo", "video", "document", "audio"];

/// Kinds that group only with their own kind.
const ALONE: [&str; 2] = ["document", "audio"];

pub(super) const SEND_MEDIA_GROUP: ChatAction = ChatAction {
    name: "send_media_group",
    doc: r#"
Send 2 to 10 photos and videos as one album (`sendMediaGroup`), or 2 to 10 documents, or 2 to 10
audio files (those group only with their own kind), and return the sent messages. Each item is
`#{type, media, caption, parse_mode, …}`: `type` is "photo", "video", "document" or "audio",
`media` a URL, a `file_id` or a file (`asset("…")` or a blob); files go up in the same call.
The first item's caption shows under the album. Options: `disable_notification`,
`reply_parameters`, … Optional leading `chat_id`.

# Example
```rhai
let sent = send_media_group([
    #{type: "photo", media: "https://example.com/front.jpg", caption: "Our new flat"},
    #{type: "photo", media: "https://example.com/kitchen.jpg"},
    #{type: "video", media: "https://example.com/tour.mp4"},
]);
print(`album ${sent[0].media_group_id} of ${sent.len()}`);
```
"#,
    overloads: &[
        &["media: Array", "Array"],
        &["media: Array", "options: Map", "Array"],
        &["chat_id: INT | String", "media: Array", "Array"],
        &[
            "chat_id: INT | String",
            "media: Array",
            "options: Map",
            "Array",
        ],
    ],
    method: Method::Fixed("sendMediaGroup"),
    takes: Takes::AndMore(&[
        CHAT_ID,
        BUSINESS,
        FieldSpec::required(
            "media",
            "list",
            r#"[{"type": "photo", "media": "https://example.com/front.jpg", "caption": "Our new flat"}, {"type": "photo", "media": "https://example.com/kitchen.jpg"}]"#,
            "2–10 InputMedia {type: photo|video|document|audio, media: a URL, file_id or upload {\"base64\": …, \"filename\": …}, caption, …}",
        ),
    ]),
    returns: r#"[{"message_id": 11, "date": 1767225600, "media_group_id": "13579246810", "chat": {"id": -1001234567890, "type": "supergroup"}, "photo": [{"file_id": "AgACAgIAAxkBAAIB", "file_unique_id": "AQADx7sxG"}], "caption": "Our new flat"}, {"message_id": 12, "date": 1767225600, "media_group_id": "13579246810", "chat": {"id": -1001234567890, "type": "supergroup"}, "photo": [{"file_id": "AgACAgIAAxkBAAIC", "file_unique_id": "AQADx7sxH"}]}]"#,
    build: send_media_group,
};

/// The `sendMediaGroup` call: the items checked, each upload a part of its own (`file0`, …).
fn send_media_group(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let mut params = f.map.clone();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    let items = media_list(f, &ALBUM_KINDS, 2, &mut params)?;
    let kinds: Vec<&str> = items
        .iter()
        .filter_map(|item| item["type"].as_str())
        .collect();
    if let Some(alone) = ALONE.iter().find(|kind| kinds.contains(kind))
        && kinds.iter().any(|kind| kind != alone)
    {
        return Err(f.error(format!(
            "an album with a {alone} holds only {alone}s (Telegram groups documents and audio only with their own kind), got {}",
            kinds.join(", ")
        )));
    }
    params.insert("media".into(), Value::Array(items));
    Ok(params)
}

/// The `media` list of `min` to 10 `InputMedia` items of `kinds`, checked, each upload put into
/// `params` as a part of its own (`file0`, `file1`, …) the item points at.
pub(super) fn media_list(
    f: &Fields,
    kinds: &[&str],
    min: usize,
    params: &mut Params,
) -> Result<Vec<Value>, CommandError> {
    let items = match f.get("media") {
        Some(Value::Array(items)) if (min..=MAX_PARTS).contains(&items.len()) => items,
        Some(Value::Array(items)) => {
            return Err(f.error(format!(
                "media must hold {min} to {MAX_PARTS} items, got {}",
                items.len()
            )));
        }
        _ => {
            return Err(f.error(format!(
                "media must be a list of {min} to {MAX_PARTS} items #{{type, media, caption}}"
            )));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            input_media(
                f,
                &format!("media[{n}]"),
                item,
                kinds,
                &format!("file{n}"),
                params,
            )
        })
        .collect()
}
