//! Photos, documents and edits of sent messages, as the sandbox answers them. An uploaded
//! file gets a `file_id` from its content, so the same bytes get the same id; a URL or a
//! `file_id` is taken as Telegram would take a reachable one.

use super::{BOT_ID, Refusal, World};
use crate::telegram::upload::Upload;
use serde_json::{Map, Value, json};

impl World {
    /// Answer the media and edit methods (`lower` in lower case); `None` for any other.
    pub(super) fn call_media(
        &mut self,
        lower: &str,
        params: &Map<String, Value>,
    ) -> Option<Result<Value, Refusal>> {
        Some(match lower {
            "sendphoto" => self.send_file(params, "photo"),
            "senddocument" => self.send_file(params, "document"),
            "editmessagetext" => self.edit_sent(params, |message, params| {
                let text = params
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| Refusal::bad_request("message text is empty"))?;
                message.insert("text".into(), text.into());
                // Without reply_markup the inline keyboard goes, as in Telegram.
                match params.get("reply_markup") {
                    Some(markup) => message.insert("reply_markup".into(), markup.clone()),
                    None => message.remove("reply_markup"),
                };
                Ok(())
            }),
            "editmessagereplymarkup" => self.edit_sent(params, |message, params| {
                match params.get("reply_markup") {
                    Some(markup) => message.insert("reply_markup".into(), markup.clone()),
                    None => message.remove("reply_markup"),
                };
                Ok(())
            }),
            _ => return None,
        })
    }

    /// `sendPhoto` / `sendDocument`: the file as Telegram describes it, in a new message.
    fn send_file(&mut self, params: &Map<String, Value>, key: &str) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let missing = || Refusal::bad_request(&format!("there is no {key} in the request"));
        let (file_id, size, name) = match params.get(key) {
            Some(Value::String(id)) if !id.is_empty() => (id.clone(), None, None),
            Some(value) => match Upload::from_json(value) {
                Ok(Some(upload)) => (
                    file_id(&upload.bytes),
                    Some(upload.bytes.len()),
                    Some(upload.filename),
                ),
                _ => return Err(missing()),
            },
            None => return Err(missing()),
        };
        let reply_to = self.reply_target(chat, params)?;
        let mut file = json!({"file_id": file_id, "file_unique_id": format!("u{file_id}")});
        if let Some(size) = size {
            file["file_size"] = size.into();
        }
        let mut content = Map::new();
        if key == "photo" {
            // The sandbox does not decode images: one size, said to be 800×600.
            file["width"] = 800.into();
            file["height"] = 600.into();
            content.insert("photo".into(), json!([file]));
        } else {
            if let Some(name) = name {
                file["file_name"] = name.into();
            }
            content.insert("document".into(), file);
        }
        for field in ["caption", "reply_markup"] {
            if let Some(value) = params.get(field) {
                content.insert(field.into(), value.clone());
            }
        }
        Ok(self.store_message(chat, BOT_ID, content, reply_to))
    }

    /// Edit a message the bot sent with `change`, after Telegram's checks; returns the edited
    /// message.
    fn edit_sent(
        &mut self,
        params: &Map<String, Value>,
        change: impl FnOnce(&mut Map<String, Value>, &Map<String, Value>) -> Result<(), Refusal>,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let id = params
            .get("message_id")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let now = self.now();
        let message = self
            .chats
            .get_mut(&chat)
            .and_then(|c| c.messages.get_mut(&id))
            .ok_or_else(|| Refusal::bad_request("message to edit not found"))?;
        if message["from"]["id"] != json!(BOT_ID) {
            return Err(Refusal::bad_request("message can't be edited"));
        }
        let Some(fields) = message.as_object_mut() else {
            return Err(Refusal::bad_request("message to edit not found"));
        };
        let before = fields.clone();
        change(fields, params)?;
        let mut unchanged = fields.clone();
        unchanged.remove("edit_date");
        let mut was = before.clone();
        was.remove("edit_date");
        if unchanged == was {
            *fields = before;
            return Err(Refusal::bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            ));
        }
        fields.insert("edit_date".into(), now.into());
        Ok(Value::Object(fields.clone()))
    }
}

/// The `file_id` the sandbox gives a file's content.
fn file_id(bytes: &[u8]) -> String {
    let hex = crate::telegram::upload::sha256_hex(bytes);
    format!("sandbox-file-{}", &hex[..24])
}
