//! Messages as the sandbox answers the bot about them: sending text, photos, documents and
//! other files,
//! editing what the bot sent, deleting, pinning, and answering callback queries. An uploaded
//! file is kept (`files`) under a `file_id` from its content, so the same bytes get the same
//! id; a URL or a `file_id` is taken as Telegram would take a reachable one.

use super::{BOT_ID, Refusal, World};
use crate::telegram::upload::Upload;
use serde_json::{Map, Value, json};

impl World {
    /// `sendMessage`: a text message (maybe replying, maybe with a keyboard).
    pub(super) fn send_message(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let text = params
            .get("text")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Refusal::bad_request("message text is empty"))?;
        let reply_to = self.reply_target(chat, params)?;
        let mut content = Map::new();
        content.insert("text".into(), text.into());
        if let Some(markup) = params.get("reply_markup") {
            content.insert("reply_markup".into(), markup.clone());
        }
        Ok(self.store_message(chat, BOT_ID, content, reply_to))
    }

    /// `editMessageText`: without `reply_markup` the inline keyboard goes, as in Telegram.
    pub(super) fn edit_message_text(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.edit_sent(params, |message, params| {
            let text = params
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Refusal::bad_request("message text is empty"))?;
            message.insert("text".into(), text.into());
            replace_markup(message, params);
            Ok(())
        })
    }

    /// `editMessageReplyMarkup`.
    pub(super) fn edit_message_reply_markup(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.edit_sent(params, |message, params| {
            replace_markup(message, params);
            Ok(())
        })
    }

    /// `deleteMessage`.
    pub(super) fn delete_message(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let id = params
            .get("message_id")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let removed = self
            .chats
            .get_mut(&chat)
            .and_then(|c| c.messages.remove(&id));
        removed
            .map(|_| json!(true))
            .ok_or_else(|| Refusal::bad_request("message to delete not found"))
    }

    /// `pinChatMessage`, `unpinChatMessage`, `unpinAllChatMessages`: confirmed when the bot
    /// may pin.
    pub(super) fn pin(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        self.require_right(
            chat,
            "can_pin_messages",
            "manage pinned messages in the chat",
        )?;
        Ok(json!(true))
    }

    /// `answerCallbackQuery`: Telegram takes one answer per query.
    pub(super) fn answer_callback_query(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let id = params.get("callback_query_id").and_then(Value::as_str);
        match id.and_then(|id| self.queries.get_mut(id)) {
            Some(answered) if !*answered => {
                *answered = true;
                Ok(json!(true))
            }
            _ => Err(Refusal::bad_request(
                "query is too old and response timeout expired or query ID is invalid",
            )),
        }
    }

    /// The message a message sent replies to: it must exist, unless
    /// `allow_sending_without_reply` (then the message is sent without the reply).
    pub(super) fn reply_target(
        &self,
        chat: i64,
        params: &Map<String, Value>,
    ) -> Result<Option<i64>, Refusal> {
        let reply = params.get("reply_parameters");
        let Some(id) = reply
            .and_then(|r| r["message_id"].as_i64())
            .or_else(|| params.get("reply_to_message_id").and_then(Value::as_i64))
        else {
            return Ok(None);
        };
        if self.message(chat, id).is_some() {
            return Ok(Some(id));
        }
        let without = reply
            .and_then(|r| r.get("allow_sending_without_reply"))
            .or_else(|| params.get("allow_sending_without_reply"));
        match without == Some(&json!(true)) {
            true => Ok(None),
            false => Err(Refusal::bad_request("message to be replied not found")),
        }
    }

    /// `sendPhoto`, `sendDocument`, `sendVideo` and the other files: the file as Telegram
    /// describes it, under `key`, in a new message.
    pub(super) fn send_file(
        &mut self,
        params: &Map<String, Value>,
        key: &str,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let missing = || Refusal::bad_request(&format!("there is no {key} in the request"));
        let (file_id, size, name) = match params.get(key) {
            Some(Value::String(id)) if !id.is_empty() => (id.clone(), None, None),
            Some(value) => match Upload::from_json(value) {
                Ok(Some(upload)) => (
                    self.keep_upload(&upload, key),
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
            content.insert(key.into(), file);
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
    pub(super) fn edit_sent(
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

/// An edit's `reply_markup` in place of the message's (none: the keyboard goes).
pub(super) fn replace_markup(message: &mut Map<String, Value>, params: &Map<String, Value>) {
    match params.get("reply_markup") {
        Some(markup) => message.insert("reply_markup".into(), markup.clone()),
        None => message.remove("reply_markup"),
    };
}
