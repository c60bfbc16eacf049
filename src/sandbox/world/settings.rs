//! The chat's own settings as the sandbox answers them: title, description, photo, channels
//! banned from posting, invite links, and the bot's command list.

use super::{ChatKind, Refusal, World};
use crate::telegram::upload::Upload;
use serde_json::{Map, Value, json};

impl World {
    /// Answer the settings methods (`lower` is the method name in lower case); `None` for any
    /// other method.
    pub(super) fn call_settings(
        &mut self,
        lower: &str,
        params: &Map<String, Value>,
    ) -> Option<Result<Value, Refusal>> {
        Some(match lower {
            "setchattitle" => self.change_info(params, |chat, params| {
                let title = text(params, "title").filter(|t| !t.is_empty());
                let title = title.ok_or_else(|| Refusal::bad_request("chat title is empty"))?;
                if chat.title == title {
                    return Err(Refusal::bad_request("chat title is not modified"));
                }
                chat.title = title.to_string();
                Ok(())
            }),
            "setchatdescription" => self.change_info(params, |chat, params| {
                let description = text(params, "description").unwrap_or_default();
                if chat.description == description {
                    return Err(Refusal::bad_request("chat description is not modified"));
                }
                chat.description = description.to_string();
                Ok(())
            }),
            "setchatphoto" => self.change_info(params, |chat, params| {
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
            }),
            "deletechatphoto" => self.change_info(params, |chat, _| match chat.photo.take() {
                Some(_) => Ok(()),
                None => Err(Refusal::bad_request("CHAT_NOT_MODIFIED")),
            }),
            "banchatsenderchat" | "unbanchatsenderchat" => self.sender_chat(lower, params),
            "revokechatinvitelink" => self.revoke_link(params),
            "exportchatinvitelink" => self.export_link(params),
            "setmycommands" => {
                self.commands = params.get("commands").cloned().unwrap_or(json!([]));
                Ok(json!(true))
            }
            "getmycommands" => Ok(self.commands.clone()),
            _ => return None,
        })
    }

    /// A new invite link, primary or not.
    pub(super) fn new_invite_link(&mut self, primary: bool) -> Value {
        self.links += 1;
        json!({
            "invite_link": format!("https://t.me/+sandbox{}", self.links),
            "creator": self.bot.clone(), "creates_join_request": false,
            "is_primary": primary, "is_revoked": false,
        })
    }

    /// Remember `link` of `chat`, so it can be revoked.
    pub(super) fn keep_invite_link(&mut self, chat: i64, link: &Value) {
        if let Some(url) = link["invite_link"].as_str() {
            self.invite_links
                .insert(url.to_string(), (chat, link.clone()));
        }
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

    fn sender_chat(&mut self, lower: &str, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?;
        if chat.kind != ChatKind::Supergroup {
            return Err(Refusal::bad_request(
                "method is available only for supergroups",
            ));
        }
        let id = chat.id;
        self.require_right(
            id,
            "can_restrict_members",
            "restrict/unrestrict chat member",
        )?;
        let sender = params
            .get("sender_chat_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Refusal::bad_request("sender_chat_id is empty"))?;
        if let Some(chat) = self.chats.get_mut(&id) {
            match lower == "banchatsenderchat" {
                true => chat.banned_senders.insert(sender),
                false => chat.banned_senders.remove(&sender),
            };
        }
        Ok(json!(true))
    }

    fn revoke_link(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        self.require_right(chat, "can_invite_users", "invite users")?;
        let url = text(params, "invite_link").unwrap_or_default();
        match self.invite_links.get_mut(url) {
            Some((of, link)) if *of == chat => {
                link["is_revoked"] = true.into();
                Ok(link.clone())
            }
            _ => Err(Refusal::bad_request("INVITE_HASH_EXPIRED")),
        }
    }

    fn export_link(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        self.require_right(chat, "can_invite_users", "invite users")?;
        // The old primary link stops working.
        for (of, link) in self.invite_links.values_mut() {
            if *of == chat && link["is_primary"] == json!(true) {
                link["is_revoked"] = true.into();
            }
        }
        let link = self.new_invite_link(true);
        self.keep_invite_link(chat, &link);
        Ok(link["invite_link"].clone())
    }
}

/// The string parameter `key`.
fn text<'a>(params: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str)
}
