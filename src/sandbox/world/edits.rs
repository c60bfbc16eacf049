//! Edits of what a message the bot sent carries, as the sandbox answers them: its caption
//! (only on a message that can have one) and its media (replaced by the new file, a URL,
//! `file_id` or an upload attached as `attach://<part>`).

use super::messages::replace_markup;
use super::{Refusal, World};
use crate::telegram::upload::Upload;
use serde_json::{Map, Value, json};

/// The kinds of message content that carry a caption and can be replaced by an edit.
const MEDIA: [&str; 6] = ["photo", "video", "animation", "audio", "document", "voice"];

impl World {
    /// `editMessageCaption`: `""` or none removes the caption.
    pub(super) fn edit_message_caption(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.edit_sent(params, |message, params| {
            if !MEDIA.iter().any(|kind| message.contains_key(*kind)) {
                return Err(Refusal::bad_request(
                    "there is no caption in the message to edit",
                ));
            }
            match params.get("caption").and_then(Value::as_str) {
                Some(caption) if !caption.is_empty() => {
                    message.insert("caption".into(), caption.into())
                }
                _ => message.remove("caption"),
            };
            replace_markup(message, params);
            Ok(())
        })
    }

    /// `editMessageMedia`: the old media and caption replaced by the new ones.
    pub(super) fn edit_message_media(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let media = params
            .get("media")
            .and_then(Value::as_object)
            .ok_or_else(|| Refusal::bad_request("can't parse InputMedia JSON object"))?;
        let kind = media
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !MEDIA.contains(&kind) || kind == "voice" {
            return Err(Refusal::bad_request(
                "can't parse InputMedia: media type invalid",
            ));
        }
        let file = match media.get("media").and_then(Value::as_str) {
            Some(attached) if attached.starts_with("attach://") => {
                let part = params.get(&attached["attach://".len()..]);
                match part.map(Upload::from_json) {
                    Some(Ok(Some(upload))) => self.keep_upload(&upload, kind),
                    _ => return Err(Refusal::bad_request("can't find attached file")),
                }
            }
            Some(id) if !id.is_empty() => id.to_string(),
            _ => {
                return Err(Refusal::bad_request(
                    "can't parse InputMedia: media is empty",
                ));
            }
        };
        let mut object = json!({"file_id": file, "file_unique_id": format!("u{file}")});
        if kind == "photo" {
            object["width"] = 800.into();
            object["height"] = 600.into();
            object = json!([object]);
        }
        let caption = media.get("caption").cloned();
        self.edit_sent(params, |message, params| {
            if !MEDIA.iter().any(|kind| message.contains_key(*kind)) {
                return Err(Refusal::bad_request("message has no media to edit"));
            }
            for old in MEDIA {
                message.remove(old);
            }
            message.insert(kind.into(), object);
            match caption {
                Some(caption) => message.insert("caption".into(), caption),
                None => message.remove("caption"),
            };
            replace_markup(message, params);
            Ok(())
        })
    }
}
