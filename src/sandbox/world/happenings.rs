//! What the sandbox's users do: post (text, a photo or a document, maybe replying), edit,
//! join, leave, ask to join, press a button, react to a message, boost the chat. Each is refused where Telegram's app would not let it happen (a
//! non-member cannot post, a banned user cannot come back, a button that is not on the
//! message cannot be pressed), with a sentence that says why and what to do.

use super::{Status, World, generated};
use serde_json::{Map, Value, json};

/// A message a user posts.
#[derive(Debug, Clone, Default)]
pub struct Post<'a> {
    /// The text (the caption of a photo).
    pub text: &'a str,
    /// The message it replies to.
    pub reply_to: Option<i64>,
    /// A photo (with `text` as its caption) instead of a text message.
    pub photo: bool,
    /// A document of this name (with `text` as its caption) instead of a text message.
    pub document: Option<&'a str>,
    /// The album (`media_group_id`) the photo is a part of.
    pub album: Option<&'a str>,
}

/// The size of a photo a sandbox user sends (small enough for a blob under the default
/// `[limits] max_array_size`).
const PHOTO_BYTES: usize = 4096;
/// The size of a document a sandbox user sends.
const DOCUMENT_BYTES: usize = 2048;

impl World {
    /// How the sandbox chat names `user`: the username, else the id.
    pub fn name(&self, user: i64) -> String {
        self.users
            .get(&user)
            .and_then(|u| u["username"].as_str())
            .map_or_else(|| user.to_string(), str::to_string)
    }

    /// A message from `user` in `chat`, for tests and set-ups: `user` becomes a member first
    /// if need be and nothing is refused. Queues the update; returns the message.
    pub fn user_message(
        &mut self,
        chat: i64,
        user: i64,
        text: &str,
        reply_to: Option<i64>,
    ) -> Value {
        if !self.is_member(chat, user) {
            self.set_status(chat, user, Status::Member);
        }
        let post = Post {
            text,
            reply_to,
            ..Post::default()
        };
        self.store_post(chat, user, &post)
    }

    /// `user` posts an album of `count` photos in `chat` (Telegram's 2 to 10), `caption` under
    /// the first, as [`World::post`] allows it: each part its own update, as Telegram sends
    /// them. Returns the parts.
    pub fn post_album(
        &mut self,
        chat: i64,
        user: i64,
        count: usize,
        caption: &str,
        reply_to: Option<i64>,
    ) -> Result<Vec<Value>, String> {
        if !(2..=crate::telegram::album::MAX_PARTS).contains(&count) {
            return Err(format!(
                "an album has 2 to {} parts, not {count}",
                crate::telegram::album::MAX_PARTS
            ));
        }
        let group = format!("sandbox-album-{}", self.pending() + 1);
        (0..count)
            .map(|n| {
                let post = Post {
                    text: if n == 0 { caption } else { "" },
                    reply_to,
                    photo: true,
                    album: Some(&group),
                    document: None,
                };
                self.post(chat, user, &post)
            })
            .collect()
    }

    /// `user` posts in `chat`, as Telegram allows it: members only, not banned, not
    /// restricted from sending this kind of message, replying only to a message that exists.
    /// Queues the update; returns the message.
    pub fn post(&mut self, chat: i64, user: i64, post: &Post) -> Result<Value, String> {
        let name = self.name(user);
        let right = match (post.photo, post.document) {
            (true, _) => ("can_send_photos", "photos"),
            (false, Some(_)) => ("can_send_documents", "documents"),
            (false, None) => ("can_send_messages", "messages"),
        };
        match self.status(chat, user) {
            Status::Kicked(until) => return Err(self.banned(&name, until)),
            Status::Left | Status::Requested => {
                return Err(format!(
                    "{name} is not a member of the group: /join {name} first"
                ));
            }
            Status::Restricted(perms, until) if perms.get(right.0) != Some(&json!(true)) => {
                return Err(format!(
                    "{name} is restricted and cannot send {}{}",
                    right.1,
                    self.ending(until)
                ));
            }
            _ => {}
        }
        if let Some(id) = post.reply_to
            && self.message(chat, id).is_none()
        {
            return Err(format!(
                "message #{id} does not exist (never sent, or deleted)"
            ));
        }
        Ok(self.store_post(chat, user, post))
    }

    fn store_post(&mut self, chat: i64, user: i64, post: &Post) -> Value {
        let mut content = Map::new();
        // A file's bytes are generated from the update it comes with: each is new.
        let seed = format!("{}", self.pending() + 1);
        let text_key = match (post.photo, post.document) {
            (true, _) => {
                let id = self.keep_file(generated(&seed, PHOTO_BYTES), "photo", None);
                content.insert(
                    "photo".into(),
                    json!([{"file_id": id, "file_unique_id": format!("u{id}"),
                        "width": 800, "height": 600, "file_size": PHOTO_BYTES}]),
                );
                "caption"
            }
            (false, Some(name)) => {
                let id = self.keep_file(generated(&seed, DOCUMENT_BYTES), "document", Some(name));
                content.insert(
                    "document".into(),
                    json!({"file_id": id, "file_unique_id": format!("u{id}"),
                        "file_name": name, "file_size": DOCUMENT_BYTES}),
                );
                "caption"
            }
            (false, None) => "text",
        };
        let captioned = post.photo || post.document.is_some();
        if !post.text.is_empty() || !captioned {
            content.insert(text_key.into(), post.text.into());
        }
        if let Some(album) = post.album {
            content.insert("media_group_id".into(), album.into());
        }
        if post.text.starts_with('/') {
            let len = post
                .text
                .split_whitespace()
                .next()
                .map_or(0, |w| w.encode_utf16().count());
            let key = match captioned {
                true => "caption_entities",
                false => "entities",
            };
            content.insert(
                key.into(),
                json!([{"type": "bot_command", "offset": 0, "length": len}]),
            );
        }
        let message = self.store_message(chat, user, content, post.reply_to);
        self.push_update(json!({"message": message.clone()}));
        message
    }

    /// `user` edits their message `id` in `chat` to `text`: queues an `edited_message`.
    pub fn edit(&mut self, chat: i64, user: i64, id: i64, text: &str) -> Result<Value, String> {
        let name = self.name(user);
        let now = self.now();
        let message = self
            .chats
            .get_mut(&chat)
            .and_then(|c| c.messages.get_mut(&id))
            .ok_or_else(|| format!("message #{id} does not exist (never sent, or deleted)"))?;
        if message["from"]["id"].as_i64() != Some(user) {
            return Err(format!(
                "message #{id} is not {name}'s: only its sender can edit it"
            ));
        }
        let key = match message.get("photo").or_else(|| message.get("document")) {
            Some(_) => "caption",
            None => "text",
        };
        message[key] = text.into();
        message["edit_date"] = now.into();
        let edited = message.clone();
        self.push_update(json!({"edited_message": edited.clone()}));
        Ok(edited)
    }

    /// `user` reacts to message `id` of `chat` (the newest when `None`) with `emoji` (one of
    /// Telegram's reactions): queues a `message_reaction`; returns the message's id.
    pub fn react(
        &mut self,
        chat: i64,
        user: i64,
        id: Option<i64>,
        emoji: &str,
    ) -> Result<i64, String> {
        if !crate::commands::chat::REACTIONS.contains(&emoji) {
            return Err(format!(
                "{emoji:?} is not one of Telegram's reactions (👍, ❤, 🔥, 🎉, …)"
            ));
        }
        let id = match id {
            Some(id) => id,
            None => self
                .chats
                .get(&chat)
                .and_then(|c| c.messages.keys().next_back().copied())
                .ok_or("no message to react to")?,
        };
        if self.message(chat, id).is_none() {
            return Err(format!(
                "message #{id} does not exist (never sent, or deleted)"
            ));
        }
        let (chat_json, user_json) = (self.chat_of(chat), self.user_json(user));
        self.push_update(json!({"message_reaction": {
            "chat": chat_json, "message_id": id, "user": user_json, "date": self.now(),
            "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": emoji}],
        }}));
        Ok(id)
    }

    /// `user` boosts `chat` with Telegram Premium for a year: queues a `chat_boost`.
    pub fn boost(&mut self, chat: i64, user: i64) -> Result<(), String> {
        if !self.is_member(chat, user) {
            return Err(format!(
                "{} is not a member of the group: /join first",
                self.name(user)
            ));
        }
        let now = self.now();
        let (chat_json, user_json) = (self.chat_of(chat), self.user_json(user));
        self.push_update(json!({"chat_boost": {
            "chat": chat_json,
            "boost": {
                "boost_id": format!("sandbox-boost-{}", self.pending() + 1),
                "add_date": now, "expiration_date": now + 365 * 86_400,
                "source": {"source": "premium", "user": user_json},
            },
        }}));
        Ok(())
    }

    /// `user` joins `chat` (a `chat_member` update, left → member); a banned user cannot.
    pub fn user_joins(&mut self, chat: i64, user: i64) -> Result<(), String> {
        let name = self.name(user);
        match self.status(chat, user) {
            Status::Kicked(until) => Err(self.banned(&name, until)),
            Status::Left | Status::Requested => {
                self.member_change(chat, user, Status::Member);
                Ok(())
            }
            _ => Err(format!("{name} is already in the group")),
        }
    }

    /// `user` leaves `chat` (a `chat_member` update, member → left).
    pub fn user_leaves(&mut self, chat: i64, user: i64) -> Result<(), String> {
        let name = self.name(user);
        match self.status(chat, user) {
            Status::Creator => Err(format!("{name} owns the group and cannot leave it")),
            _ if !self.is_member(chat, user) => Err(format!("{name} is not in the group")),
            _ => {
                self.member_change(chat, user, Status::Left);
                Ok(())
            }
        }
    }

    /// `user` asks to join `chat` (a `chat_join_request` update) until an administrator
    /// approves or declines.
    pub fn request_join(&mut self, chat: i64, user: i64) -> Result<(), String> {
        let name = self.name(user);
        match self.status(chat, user) {
            Status::Kicked(until) => return Err(self.banned(&name, until)),
            Status::Requested => return Err(format!("{name} has already asked to join")),
            Status::Left => {}
            _ => return Err(format!("{name} is already in the group")),
        }
        self.set_status(chat, user, Status::Requested);
        let date = self.now();
        let Some(c) = self.chats.get(&chat) else {
            return Err(format!("chat {chat} not found"));
        };
        let update = json!({"chat_join_request": {
            "chat": self.chat_json(c), "from": self.user_json(user), "user_chat_id": user,
            "date": date,
        }});
        self.push_update(update);
        Ok(())
    }

    /// Set `user`'s status in `chat` and queue the `chat_member` update that says so.
    pub(super) fn member_change(&mut self, chat: i64, user: i64, status: Status) {
        let old = self.member_json(chat, user);
        self.set_status(chat, user, status);
        let new = self.member_json(chat, user);
        let date = self.now();
        let Some(c) = self.chats.get(&chat) else {
            return;
        };
        let update = json!({"chat_member": {
            "chat": self.chat_json(c), "from": self.user_json(user), "date": date,
            "old_chat_member": old, "new_chat_member": new,
        }});
        self.push_update(update);
    }

    /// `user` presses the button with callback `data` under message `message_id` (default:
    /// the newest message with buttons): queues a `callback_query`; returns the message id.
    pub fn press_button(
        &mut self,
        chat: i64,
        user: i64,
        message_id: Option<i64>,
        data: &str,
    ) -> Result<i64, String> {
        let message_id = match message_id {
            Some(id) => id,
            None => self
                .last_message_with_buttons(chat)
                .ok_or("no message with buttons to press")?,
        };
        let message = self
            .message(chat, message_id)
            .ok_or_else(|| format!("message #{message_id} does not exist"))?
            .clone();
        let on_message: Vec<&str> = message["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|button| button["callback_data"].as_str())
            .collect();
        if !on_message.contains(&data) {
            return Err(match on_message.is_empty() {
                true => format!("message #{message_id} has no buttons"),
                false => format!(
                    "no button [{data}] under #{message_id}; its buttons: {}",
                    on_message
                        .iter()
                        .map(|d| format!("[{d}]"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            });
        }
        let id = format!("{}", 4_000_000 + self.next_update_id);
        self.queries.insert(id.clone(), false);
        self.push_update(json!({"callback_query": {
            "id": id, "from": self.user_json(user), "message": message,
            "chat_instance": format!("{chat}"), "data": data,
        }}));
        Ok(message_id)
    }

    /// The newest message in `chat` that has inline buttons.
    fn last_message_with_buttons(&self, chat: i64) -> Option<i64> {
        self.chats
            .get(&chat)?
            .messages
            .values()
            .rev()
            .find(|m| m.get("reply_markup").is_some())
            .and_then(|m| m["message_id"].as_i64())
    }

    fn banned(&self, name: &str, until: i64) -> String {
        format!("{name} is banned from the group{}", self.ending(until))
    }

    /// When a restriction or ban ends, said in the sandbox chat.
    fn ending(&self, until: i64) -> String {
        match until {
            0 => " until an administrator lifts it".to_string(),
            until => format!(
                " for {} s more (/wait to move the sandbox's clock)",
                until.saturating_sub(self.now())
            ),
        }
    }
}
