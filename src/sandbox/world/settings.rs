//! The bot's and the chat's own settings as the sandbox answers them: who the bot is, its
//! webhook and command list; the chat's full info, title, description and photo (changed
//! only with the right to change info).

use super::{ChatKind, Refusal, World};
use crate::telegram::upload::Upload;
use serde_json::{Map, Value, json};

impl World {
    /// `getMe`.
    pub(super) fn get_me(&mut self, _: &Map<String, Value>) -> Result<Value, Refusal> {
        Ok(self.bot.clone())
    }

    /// `close`, `logOut`: confirmed, nothing to do.
    pub(super) fn confirm(&mut self, _: &Map<String, Value>) -> Result<Value, Refusal> {
        Ok(json!(true))
    }

    /// `setWebhook`: kept with its parameters; the URL must not be empty.
    pub(super) fn set_webhook(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        match params.get("url").and_then(Value::as_str) {
            Some(url) if !url.is_empty() => {
                self.webhook = Some(params.clone());
                Ok(json!(true))
            }
            _ => Err(Refusal::bad_request("bad webhook: url is empty")),
        }
    }

    /// `deleteWebhook`.
    pub(super) fn delete_webhook(&mut self, _: &Map<String, Value>) -> Result<Value, Refusal> {
        self.webhook = None;
        Ok(json!(true))
    }

    /// `getWebhookInfo`: the URL set (empty: none) and the updates waiting.
    pub(super) fn get_webhook_info(&mut self, _: &Map<String, Value>) -> Result<Value, Refusal> {
        Ok(json!({
            "url": self.webhook.as_ref().and_then(|w| w.get("url")).cloned().unwrap_or(json!("")),
            "has_custom_certificate": false, "pending_update_count": self.updates.len(),
        }))
    }

    /// `setMyCommands`.
    pub(super) fn set_my_commands(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.commands = params.get("commands").cloned().unwrap_or(json!([]));
        Ok(json!(true))
    }

    /// `getMyCommands`.
    pub(super) fn get_my_commands(&mut self, _: &Map<String, Value>) -> Result<Value, Refusal> {
        Ok(self.commands.clone())
    }

    /// `getChat`: a `ChatFullInfo`, with every field Telegram always sends.
    pub(super) fn get_chat(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?;
        let mut full = self.chat_json(chat);
        if !chat.description.is_empty() {
            full["description"] = chat.description.clone().into();
        }
        if let Some(photo) = &chat.photo {
            full["photo"] = photo.clone();
        }
        if chat.kind != ChatKind::Private {
            full["permissions"] = default_permissions();
        }
        full["accent_color_id"] = 0.into();
        full["max_reaction_count"] = 11.into();
        full["accepted_gift_types"] = json!({
            "unlimited_gifts": false, "limited_gifts": false, "unique_gifts": false,
            "premium_subscription": false, "gifts_from_channels": false,
        });
        Ok(full)
    }

    /// `setChatTitle`.
    pub(super) fn set_chat_title(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        self.change_info(params, |chat, params| {
            let title = text(params, "title").filter(|t| !t.is_empty());
            let title = title.ok_or_else(|| Refusal::bad_request("chat title is empty"))?;
            if chat.title == title {
                return Err(Refusal::bad_request("chat title is not modified"));
            }
            chat.title = title.to_string();
            Ok(())
        })
    }

    /// `setChatDescription`.
    pub(super) fn set_chat_description(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.change_info(params, |chat, params| {
            let description = text(params, "description").unwrap_or_default();
            if chat.description == description {
                return Err(Refusal::bad_request("chat description is not modified"));
            }
            chat.description = description.to_string();
            Ok(())
        })
    }

    /// `setChatPhoto`: an uploaded photo (its file ids made from its size).
    pub(super) fn set_chat_photo(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        self.change_info(params, |chat, params| {
            let upload = params.get("photo").map(Upload::from_json);
            let Some(Ok(Some(upload))) = upload else {
                return Err(Refusal::bad_request("there is no photo in the request"));
            };
            let id = format!("sandbox-chat-photo-{}-{}", chat.id, upload.bytes.len());
            chat.photo = Some(json!({
                "small_file_id": format!("{id}-small"), "small_file_unique_id": format!("{id}-s"),
                "big_file_id": format!("{id}-big"), "big_file_unique_id": format!("{id}-b"),
            }));
            Ok(())
        })
    }

    /// `deleteChatPhoto`.
    pub(super) fn delete_chat_photo(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        self.change_info(params, |chat, _| match chat.photo.take() {
            Some(_) => Ok(()),
            None => Err(Refusal::bad_request("CHAT_NOT_MODIFIED")),
        })
    }

    /// Change the chat's info with `change`, after Telegram's checks (the right to change it).
    fn change_info(
        &mut self,
        params: &Map<String, Value>,
        change: impl FnOnce(&mut super::Chat, &Map<String, Value>) -> Result<(), Refusal>,
    ) -> Result<Value, Refusal> {
        let id = self.chat(params)?.id;
        self.require_right(id, "can_change_info", "change chat info")?;
        let chat = self
            .chats
            .get_mut(&id)
            .ok_or_else(|| Refusal::bad_request("chat not found"))?;
        change(chat, params)?;
        Ok(json!(true))
    }
}

/// What a new supergroup lets its members do (`ChatFullInfo.permissions`).
fn default_permissions() -> Value {
    json!({
        "can_send_messages": true, "can_send_audios": true, "can_send_documents": true,
        "can_send_photos": true, "can_send_videos": true, "can_send_video_notes": true,
        "can_send_voice_notes": true, "can_send_polls": true,
        "can_send_other_messages": true, "can_add_web_page_previews": true,
        "can_change_info": false, "can_invite_users": true, "can_pin_messages": false,
        "can_manage_topics": false,
    })
}

/// The string parameter `key`.
fn text<'a>(params: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str)
}
