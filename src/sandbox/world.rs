//! The simulated Telegram world behind the local Bot API server: a bot, users, chats with
//! members and rights, messages, and the queue of updates `getUpdates` hands out. Methods
//! answer the way the real Bot API does, including its refusals, word for word.
//!
//! Longer than the other files on purpose: it is one state machine (the world) with one
//! method per Bot API method it simulates, and its rules (who may restrict whom, what a ban
//! does to membership) refer to each other; split, they would be read in three places.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};

/// The sandbox supergroup's id.
pub const SANDBOX_CHAT_ID: i64 = -1001234567890;
/// The sandbox bot's user id.
pub const BOT_ID: i64 = 7_000_000_001;
/// The sandbox group owner's user id (`/as owner`).
pub const OWNER_ID: i64 = 1000;

/// A Bot API refusal: HTTP status, `error_code`, `description` and optional `parameters`.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// `error_code` (also the HTTP status).
    pub code: u16,
    /// Telegram's `description`.
    pub description: String,
    /// `parameters` (`retry_after`, `migrate_to_chat_id`), omitted when `None`.
    pub parameters: Option<Value>,
}

impl Refusal {
    /// A `400 Bad Request: …` refusal.
    pub fn bad_request(what: &str) -> Self {
        Self {
            code: 400,
            description: format!("Bad Request: {what}"),
            parameters: None,
        }
    }

    /// The response body, exactly as Telegram sends it (`parameters` only when present).
    pub fn body(&self) -> Value {
        let mut body = json!({
            "ok": false,
            "error_code": self.code,
            "description": self.description,
        });
        if let Some(parameters) = &self.parameters {
            body["parameters"] = parameters.clone();
        }
        body
    }
}

/// What kind of chat a simulated chat is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// A supergroup: restrictions work.
    Supergroup,
    /// A basic group: restrictions are refused.
    Group,
}

/// A member's standing in a chat.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// The chat owner.
    Creator,
    /// An administrator with these rights.
    Administrator(Map<String, Value>),
    /// An ordinary member.
    Member,
    /// A restricted member with these permissions and end date (0 = forever).
    Restricted(Map<String, Value>, i64),
    /// Not in the chat.
    Left,
    /// Banned until the date (0 = forever).
    Kicked(i64),
}

/// A simulated chat.
#[derive(Debug, Clone)]
pub struct Chat {
    /// Chat id.
    pub id: i64,
    /// Supergroup or basic group.
    pub kind: ChatKind,
    /// Title.
    pub title: String,
    /// Members by user id.
    pub members: BTreeMap<i64, Status>,
    /// Messages by id (the whole Message object).
    pub messages: BTreeMap<i64, Value>,
    next_message_id: i64,
}

/// The whole simulated world.
#[derive(Debug)]
pub struct World {
    /// The bot's own user object.
    pub bot: Value,
    /// Users by id.
    pub users: BTreeMap<i64, Value>,
    /// Chats by id.
    pub chats: BTreeMap<i64, Chat>,
    updates: VecDeque<Value>,
    next_update_id: i64,
    failures: Vec<(String, Refusal)>,
    clock: i64,
    /// The parameters of the last `setWebhook`, until `deleteWebhook`.
    webhook: Option<Map<String, Value>>,
}

/// Rights the sandbox bot has as an administrator of the sandbox group: every right
/// `promoteChatMember` grants, not anonymous.
fn full_admin_rights() -> Map<String, Value> {
    let mut rights: Map<String, Value> = crate::commands::chat::ADMIN_RIGHTS
        .iter()
        .map(|right| (right.to_string(), Value::Bool(*right != "is_anonymous")))
        .collect();
    rights.insert("can_be_edited".into(), true.into());
    rights
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// An empty world with just the bot.
    pub fn empty() -> Self {
        Self {
            bot: json!({
                "id": BOT_ID, "is_bot": true, "first_name": "Sandbox Bot", "username": "sandbox_bot",
                "can_join_groups": true, "can_read_all_group_messages": true, "supports_inline_queries": false,
            }),
            users: BTreeMap::new(),
            chats: BTreeMap::new(),
            updates: VecDeque::new(),
            next_update_id: 1,
            failures: Vec::new(),
            clock: 1_767_225_600,
            webhook: None,
        }
    }

    /// The sandbox: a supergroup owned by `owner` where the bot is an administrator with
    /// every right.
    pub fn new() -> Self {
        let mut world = Self::empty();
        world.add_chat(SANDBOX_CHAT_ID, ChatKind::Supergroup, "Sandbox Group");
        world.add_user(OWNER_ID, "owner");
        world.set_status(SANDBOX_CHAT_ID, OWNER_ID, Status::Creator);
        world.set_status(
            SANDBOX_CHAT_ID,
            BOT_ID,
            Status::Administrator(full_admin_rights()),
        );
        world
    }

    /// Add a chat.
    pub fn add_chat(&mut self, id: i64, kind: ChatKind, title: &str) {
        self.chats.insert(
            id,
            Chat {
                id,
                kind,
                title: title.to_string(),
                members: BTreeMap::new(),
                messages: BTreeMap::new(),
                next_message_id: 1,
            },
        );
    }

    /// Add a user (a human) by id and first name; returns the user object.
    pub fn add_user(&mut self, id: i64, first_name: &str) -> Value {
        let user = json!({
            "id": id, "is_bot": false, "first_name": first_name,
            "username": first_name.to_ascii_lowercase(), "language_code": "en",
        });
        self.users.insert(id, user.clone());
        user
    }

    /// Set a member's status in a chat.
    pub fn set_status(&mut self, chat: i64, user: i64, status: Status) {
        if let Some(c) = self.chats.get_mut(&chat) {
            c.members.insert(user, status);
        }
    }

    /// A member's status (`Left` when unknown).
    pub fn status(&self, chat: i64, user: i64) -> Status {
        self.chats
            .get(&chat)
            .and_then(|c| c.members.get(&user))
            .cloned()
            .unwrap_or(Status::Left)
    }

    /// Make the next call of `method` (any case) fail with `refusal`.
    pub fn fail_next(&mut self, method: &str, refusal: Refusal) {
        self.failures.push((method.to_ascii_lowercase(), refusal));
    }

    fn now(&mut self) -> i64 {
        self.clock += 1;
        self.clock
    }

    /// Queue a raw update (its `update_id` is assigned); returns the id.
    pub fn push_update(&mut self, mut update: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        update["update_id"] = id.into();
        self.updates.push_back(update);
        id
    }

    /// The parameters of the webhook set (`setWebhook`), if one is.
    pub fn webhook(&self) -> Option<&Map<String, Value>> {
        self.webhook.as_ref()
    }

    /// How many updates were ever queued.
    pub fn pending(&self) -> usize {
        usize::try_from(self.next_update_id - 1).unwrap_or_default()
    }

    /// Updates with `update_id >= offset` (older ones are confirmed and dropped), at most
    /// `limit`.
    pub fn updates_from(&mut self, offset: i64, limit: usize) -> Vec<Value> {
        while self
            .updates
            .front()
            .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
        {
            self.updates.pop_front();
        }
        self.updates.iter().take(limit).cloned().collect()
    }

    fn chat_json(&self, chat: &Chat) -> Value {
        match chat.kind {
            ChatKind::Supergroup => {
                json!({"id": chat.id, "type": "supergroup", "title": chat.title})
            }
            ChatKind::Group => json!({"id": chat.id, "type": "group", "title": chat.title}),
        }
    }

    fn user_json(&self, id: i64) -> Value {
        if id == BOT_ID {
            return self.bot.clone();
        }
        self.users.get(&id).cloned().unwrap_or_else(
            || json!({"id": id, "is_bot": false, "first_name": format!("user{id}")}),
        )
    }

    /// Post a message from `user` in `chat` (optionally replying to message `reply_to`) and
    /// queue its update; returns the message.
    pub fn user_message(
        &mut self,
        chat: i64,
        user: i64,
        text: &str,
        reply_to: Option<i64>,
    ) -> Value {
        if matches!(self.status(chat, user), Status::Left) {
            self.set_status(chat, user, Status::Member);
        }
        let mut message = self.store_message(chat, user, text, reply_to, None);
        if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .map_or(0, |w| w.encode_utf16().count());
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
            self.replace_message(chat, &message);
        }
        self.push_update(json!({"message": message.clone()}));
        message
    }

    fn replace_message(&mut self, chat: i64, message: &Value) {
        if let (Some(c), Some(id)) = (self.chats.get_mut(&chat), message["message_id"].as_i64()) {
            c.messages.insert(id, message.clone());
        }
    }

    fn store_message(
        &mut self,
        chat: i64,
        from: i64,
        text: &str,
        reply_to: Option<i64>,
        extra: Option<&Map<String, Value>>,
    ) -> Value {
        let date = self.now();
        let from_json = self.user_json(from);
        let Some(c) = self.chats.get(&chat) else {
            return Value::Null;
        };
        let chat_json = self.chat_json(c);
        let reply = reply_to.and_then(|id| c.messages.get(&id).cloned());
        let Some(c) = self.chats.get_mut(&chat) else {
            return Value::Null;
        };
        let id = c.next_message_id;
        c.next_message_id += 1;
        let mut message = json!({
            "message_id": id, "date": date, "chat": chat_json, "from": from_json, "text": text,
        });
        if let Some(reply) = reply {
            message["reply_to_message"] = reply;
        }
        if let Some(markup) = extra.and_then(|e| e.get("reply_markup")) {
            message["reply_markup"] = markup.clone();
        }
        c.messages.insert(id, message.clone());
        message
    }

    /// `user` joins `chat`: queue a `chat_member` update (left → member).
    pub fn user_joins(&mut self, chat: i64, user: i64) {
        let old = self.member_json(chat, user);
        self.set_status(chat, user, Status::Member);
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

    /// `user` presses the button with `data` under `message_id`: queue a `callback_query`.
    pub fn press_button(
        &mut self,
        chat: i64,
        user: i64,
        message_id: i64,
        data: &str,
    ) -> Option<i64> {
        let message = self.chats.get(&chat)?.messages.get(&message_id)?.clone();
        let id = format!("{}", 4_000_000 + self.next_update_id);
        Some(self.push_update(json!({"callback_query": {
            "id": id, "from": self.user_json(user), "message": message,
            "chat_instance": format!("{chat}"), "data": data,
        }})))
    }

    /// The newest message in `chat` that has inline buttons.
    pub fn last_message_with_buttons(&self, chat: i64) -> Option<i64> {
        self.chats
            .get(&chat)?
            .messages
            .values()
            .rev()
            .find(|m| m.get("reply_markup").is_some())
            .and_then(|m| m["message_id"].as_i64())
    }

    /// The `ChatMember` object of a user.
    pub fn member_json(&self, chat: i64, user: i64) -> Value {
        let user_json = self.user_json(user);
        match self.status(chat, user) {
            Status::Creator => {
                json!({"status": "creator", "user": user_json, "is_anonymous": false})
            }
            Status::Administrator(rights) => {
                let mut m = rights;
                m.insert("status".into(), "administrator".into());
                m.insert("user".into(), user_json);
                Value::Object(m)
            }
            Status::Member => json!({"status": "member", "user": user_json}),
            Status::Restricted(perms, until) => {
                let mut m = perms;
                m.insert("status".into(), "restricted".into());
                m.insert("user".into(), user_json);
                m.insert("is_member".into(), true.into());
                m.insert("until_date".into(), until.into());
                Value::Object(m)
            }
            Status::Left => json!({"status": "left", "user": user_json}),
            Status::Kicked(until) => {
                json!({"status": "kicked", "user": user_json, "until_date": until})
            }
        }
    }

    /// Answer Bot API `method` (case-insensitive) with `params`, as Telegram would.
    pub fn call(&mut self, method: &str, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let lower = method.to_ascii_lowercase();
        if let Some(i) = self.failures.iter().position(|(m, _)| *m == lower) {
            return Err(self.failures.remove(i).1);
        }
        match lower.as_str() {
            "getme" => Ok(self.bot.clone()),
            "setwebhook" => match params.get("url").and_then(Value::as_str) {
                Some(url) if !url.is_empty() => {
                    self.webhook = Some(params.clone());
                    Ok(json!(true))
                }
                _ => Err(Refusal::bad_request("bad webhook: url is empty")),
            },
            "deletewebhook" => {
                self.webhook = None;
                Ok(json!(true))
            }
            "close" | "logout" | "setmycommands" => Ok(json!(true)),
            "getwebhookinfo" => Ok(json!({
                "url": self.webhook.as_ref().and_then(|w| w.get("url")).cloned().unwrap_or(json!("")),
                "has_custom_certificate": false, "pending_update_count": self.updates.len(),
            })),
            "getchat" => {
                let chat = self.chat(params)?;
                Ok(self.chat_json(chat))
            }
            "getchatmember" => {
                let (chat, user) = self.chat_and_user(params)?;
                Ok(self.member_json(chat, user))
            }
            "restrictchatmember" => {
                let (chat, user) = self.moderate(
                    params,
                    "can_restrict_members",
                    "restrict/unrestrict chat member",
                )?;
                let perms = params
                    .get("permissions")
                    .and_then(Value::as_object)
                    .cloned()
                    .ok_or_else(|| Refusal::bad_request("can't parse permissions JSON object"))?;
                let until = params
                    .get("until_date")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                self.set_status(chat, user, Status::Restricted(perms, until));
                Ok(json!(true))
            }
            "banchatmember" => {
                let (chat, user) = self.moderate(
                    params,
                    "can_restrict_members",
                    "restrict/unrestrict chat member",
                )?;
                let until = params
                    .get("until_date")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                self.set_status(chat, user, Status::Kicked(until));
                Ok(json!(true))
            }
            "unbanchatmember" => {
                let (chat, user) = self.moderate(
                    params,
                    "can_restrict_members",
                    "restrict/unrestrict chat member",
                )?;
                let only_if_banned = params
                    .get("only_if_banned")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if matches!(self.status(chat, user), Status::Kicked(_)) || !only_if_banned {
                    self.set_status(chat, user, Status::Left);
                }
                Ok(json!(true))
            }
            "promotechatmember" => {
                let (chat, user) = self.chat_and_user(params)?;
                self.require_right(chat, "can_promote_members", "promote chat member")?;
                if matches!(self.status(chat, user), Status::Creator) {
                    return Err(Refusal::bad_request("can't remove chat owner"));
                }
                let rights: Map<String, Value> = params
                    .iter()
                    .filter(|(k, _)| k.starts_with("can_") || k.as_str() == "is_anonymous")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let any = rights.values().any(|v| v == &json!(true));
                self.set_status(
                    chat,
                    user,
                    if any {
                        Status::Administrator(rights)
                    } else {
                        Status::Member
                    },
                );
                Ok(json!(true))
            }
            "deletemessage" => {
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
            "pinchatmessage" | "unpinchatmessage" | "unpinallchatmessages" => {
                let chat = self.chat(params)?.id;
                self.require_right(
                    chat,
                    "can_pin_messages",
                    "manage pinned messages in the chat",
                )?;
                Ok(json!(true))
            }
            "approvechatjoinrequest" | "declinechatjoinrequest" => {
                let (chat, user) = self.chat_and_user(params)?;
                self.require_right(chat, "can_invite_users", "invite users")?;
                if lower == "approvechatjoinrequest" {
                    self.set_status(chat, user, Status::Member);
                }
                Ok(json!(true))
            }
            "createchatinvitelink" => {
                let chat = self.chat(params)?.id;
                self.require_right(chat, "can_invite_users", "invite users")?;
                let mut link = json!({
                    "invite_link": format!("https://t.me/+sandbox{}", self.now()),
                    "creator": self.bot.clone(), "creates_join_request": false,
                    "is_primary": false, "is_revoked": false,
                });
                for key in [
                    "name",
                    "expire_date",
                    "member_limit",
                    "creates_join_request",
                ] {
                    if let Some(v) = params.get(key) {
                        link[key] = v.clone();
                    }
                }
                Ok(link)
            }
            "sendmessage" => {
                let chat = self.chat(params)?.id;
                let text = params
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| Refusal::bad_request("message text is empty"))?;
                let reply_to = params
                    .get("reply_parameters")
                    .and_then(|r| r["message_id"].as_i64())
                    .or_else(|| params.get("reply_to_message_id").and_then(Value::as_i64));
                Ok(self.store_message(chat, BOT_ID, text, reply_to, Some(params)))
            }
            "answercallbackquery" => Ok(json!(true)),
            _ => Err(Refusal {
                code: 404,
                description: "Not Found".to_string(),
                parameters: None,
            }),
        }
    }

    fn chat(&self, params: &Map<String, Value>) -> Result<&Chat, Refusal> {
        let id = match params.get("chat_id") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => return Err(Refusal::bad_request("chat_id is empty")),
        };
        id.and_then(|id| self.chats.get(&id))
            .ok_or_else(|| Refusal::bad_request("chat not found"))
    }

    fn chat_and_user(&self, params: &Map<String, Value>) -> Result<(i64, i64), Refusal> {
        let chat = self.chat(params)?.id;
        let user = params
            .get("user_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Refusal::bad_request("user_id is empty"))?;
        if user != BOT_ID && !self.users.contains_key(&user) {
            return Err(Refusal::bad_request("user not found"));
        }
        Ok((chat, user))
    }

    fn require_right(&self, chat: i64, right: &str, what: &str) -> Result<(), Refusal> {
        match self.status(chat, BOT_ID) {
            Status::Administrator(rights) if rights.get(right) == Some(&json!(true)) => Ok(()),
            _ => Err(Refusal::bad_request(&format!(
                "not enough rights to {what}"
            ))),
        }
    }

    /// The checks Telegram makes before restricting or banning a member.
    fn moderate(
        &self,
        params: &Map<String, Value>,
        right: &str,
        what: &str,
    ) -> Result<(i64, i64), Refusal> {
        let chat = self.chat(params)?;
        if chat.kind != ChatKind::Supergroup {
            return Err(Refusal::bad_request(
                "method is available only for supergroups",
            ));
        }
        let (chat, user) = self.chat_and_user(params)?;
        if user == BOT_ID {
            return Err(Refusal::bad_request("can't restrict self"));
        }
        self.require_right(chat, right, what)?;
        match self.status(chat, user) {
            Status::Creator => Err(Refusal::bad_request("can't remove chat owner")),
            Status::Administrator(_) => {
                Err(Refusal::bad_request("user is an administrator of the chat"))
            }
            _ => Ok((chat, user)),
        }
    }
}
