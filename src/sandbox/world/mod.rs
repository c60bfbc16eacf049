//! The simulated Telegram world behind the local Bot API server: a bot, users, chats with
//! members and rights, messages, and the queue of updates `getUpdates` hands out. Methods
//! answer the way the real Bot API does, including its refusals, word for word, and where a
//! script could tell the difference the world behaves like Telegram: time is the real time
//! (plus what [`World::advance`] added), restrictions and bans end at their `until_date`, a
//! banned user cannot come back, a callback query is answered once.
//!
//! This file holds the state and what is read from it. The Bot API calls the bot makes are
//! dispatched in `methods` (one table of every method answered) to the concept answering
//! them: `settings` (the bot's and the chat's own), `bot_profile` (its descriptions),
//! `members`, `roster` (administrators' titles), `messages`, `sends` (contacts, dice,
//! places), `polls`, `relay` (copies and forwards), `edits` (captions, media), `signals`
//! (chat actions, reactions), `forum` (topics), `invite_links`, `files` (what users and the
//! bot sent, `getFile`, a local server's disk), `payments` (invoices, and a
//! user paying one), `inline` (a user's inline query, and the result they pick), `business`
//! (a user's business account connected to the bot, their customers' messages);
//! `happenings` is what the users do (post, join, leave, press a button).

mod albums;
mod bot_profile;
mod business;
mod edits;
mod files;
mod forum;
mod happenings;
mod inline;
mod invite_links;
mod members;
mod messages;
mod methods;
mod payments;
mod polls;
mod relay;
mod roster;
mod sends;
mod settings;
mod signals;

pub use files::{Content, generated};
pub use forum::{Forum, Topic};
pub use happenings::Post;
pub use methods::NOT_SIMULATED;

use crate::clock::Clock;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

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

    /// `502 Bad Gateway`: what a failing proxy in front of the Bot API answers (a server
    /// error, so the call may be tried again).
    pub fn bad_gateway() -> Self {
        Self {
            code: 502,
            description: "Bad Gateway".into(),
            parameters: None,
        }
    }

    /// Telegram's `429 Too Many Requests: retry after N`.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Self {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            parameters: Some(json!({ "retry_after": retry_after })),
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
    /// A user's private chat with the bot (its id is the user's).
    Private,
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
    /// Asked to join (`chat_join_request`), waiting for an administrator.
    Requested,
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
    /// The description (`setChatDescription`).
    pub description: String,
    /// The photo (`setChatPhoto`): its `ChatPhoto` object.
    pub photo: Option<Value>,
    /// Channels banned from posting in the chat (`banChatSenderChat`).
    pub banned_senders: BTreeSet<i64>,
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
    /// The real time plus what [`World::advance`] added (the scheduler of jobs goes by it).
    clock: Arc<Clock>,
    /// Callback query ids handed out, and whether each was answered.
    queries: HashMap<String, bool>,
    /// Invite links created so far (each gets a new one).
    links: u64,
    /// Every invite link made, by link: the chat and its `ChatInviteLink` object.
    invite_links: BTreeMap<String, (i64, Value)>,
    /// The bot's command list (`setMyCommands`).
    commands: Value,
    /// The parameters of the last `setWebhook`, until `deleteWebhook`.
    webhook: Option<Map<String, Value>>,
    /// The forum supergroups' topics, by chat.
    forums: BTreeMap<i64, Forum>,
    /// The bot's reactions, by chat and message.
    reactions: BTreeMap<(i64, i64), Value>,
    /// The bot's descriptions, by kind ("description", "short_description") and language.
    descriptions: BTreeMap<(&'static str, String), String>,
    /// The update kinds the last `getUpdates` that named some asked for: as on Telegram, a
    /// request without `allowed_updates` keeps them, and other kinds are not delivered.
    allowed_updates: Option<Vec<String>>,
    /// Invoices, payments and refunds.
    payments: payments::Payments,
    /// Inline queries and their answers.
    inline: inline::Inline,
    /// Business connections and the accounts' chats with their customers.
    business: business::Business,
    /// Files sent and uploaded, by `file_id`.
    files: files::Files,
}

/// The members of the sandbox group from the start, besides the owner: (id, first name).
pub const SANDBOX_MEMBERS: [(i64, &str); 3] = [(1001, "Alice"), (1002, "Bob"), (1003, "Carol")];

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
            clock: Arc::default(),
            queries: HashMap::new(),
            links: 0,
            invite_links: BTreeMap::new(),
            commands: json!([]),
            webhook: None,
            forums: BTreeMap::new(),
            reactions: BTreeMap::new(),
            descriptions: BTreeMap::new(),
            allowed_updates: None,
            payments: payments::Payments::default(),
            inline: inline::Inline::default(),
            business: business::Business::default(),
            files: files::Files::default(),
        }
    }

    /// The sandbox: a supergroup (a forum, with topics) owned by `owner` where the bot is an
    /// administrator with every right, and alice (1001), bob (1002) and carol (1003) are
    /// members.
    pub fn new() -> Self {
        let mut world = Self::empty();
        world.add_chat(SANDBOX_CHAT_ID, ChatKind::Supergroup, "Sandbox Group");
        world.make_forum(SANDBOX_CHAT_ID);
        world.add_user(OWNER_ID, "owner");
        world.set_status(SANDBOX_CHAT_ID, OWNER_ID, Status::Creator);
        world.set_status(
            SANDBOX_CHAT_ID,
            BOT_ID,
            Status::Administrator(full_admin_rights()),
        );
        for (id, name) in SANDBOX_MEMBERS {
            world.add_user(id, name);
            world.set_status(SANDBOX_CHAT_ID, id, Status::Member);
        }
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
                description: String::new(),
                photo: None,
                banned_senders: BTreeSet::new(),
            },
        );
    }

    /// Add a user (a human) by id and first name, with their private chat with the bot
    /// (whose id is the user's, as on Telegram); returns the user object.
    pub fn add_user(&mut self, id: i64, first_name: &str) -> Value {
        let user = json!({
            "id": id, "is_bot": false, "first_name": first_name,
            "username": first_name.to_ascii_lowercase(), "language_code": "en",
        });
        self.users.insert(id, user.clone());
        self.add_chat(id, ChatKind::Private, first_name);
        self.set_status(id, id, Status::Member);
        self.set_status(id, BOT_ID, Status::Member);
        user
    }

    /// Set a member's status in a chat.
    pub fn set_status(&mut self, chat: i64, user: i64, status: Status) {
        if let Some(c) = self.chats.get_mut(&chat) {
            c.members.insert(user, status);
        }
    }

    /// A member's status now (`Left` when unknown): a restriction whose `until_date` has
    /// passed is over (a member again), so is a ban (left).
    pub fn status(&self, chat: i64, user: i64) -> Status {
        let now = self.now();
        let status = self
            .chats
            .get(&chat)
            .and_then(|c| c.members.get(&user))
            .cloned()
            .unwrap_or(Status::Left);
        match status {
            Status::Restricted(_, until) if until != 0 && until <= now => Status::Member,
            Status::Kicked(until) if until != 0 && until <= now => Status::Left,
            status => status,
        }
    }

    /// Whether `user` is in `chat` (a member, restricted, an administrator or the owner).
    pub fn is_member(&self, chat: i64, user: i64) -> bool {
        !matches!(
            self.status(chat, user),
            Status::Left | Status::Kicked(_) | Status::Requested
        )
    }

    /// Make the next call of `method` (any case) fail with `refusal`.
    pub fn fail_next(&mut self, method: &str, refusal: Refusal) {
        self.failures.push((method.to_ascii_lowercase(), refusal));
    }

    /// The world's time: the real Unix time plus what [`World::advance`] added.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The world's clock, for whoever acts on its time (scripts' `now()`, timers).
    pub fn clock(&self) -> Arc<Clock> {
        self.clock.clone()
    }

    /// Move the world's time `seconds` ahead (restrictions and bans may end).
    pub fn advance(&mut self, seconds: i64) {
        self.clock.advance(seconds);
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
    /// `limit`, of the kinds [`World::allowed_updates`] names (any, when none were named).
    pub fn updates_from(&mut self, offset: i64, limit: usize) -> Vec<Value> {
        while self
            .updates
            .front()
            .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
        {
            self.updates.pop_front();
        }
        self.updates
            .iter()
            .filter(|update| self.delivers(update))
            .take(limit)
            .cloned()
            .collect()
    }

    /// The ids of the updates queued after update `after` that `getUpdates` delivers (of
    /// the kinds [`World::allowed_updates`] names), in order.
    pub fn deliverable_after(&self, after: i64) -> Vec<i64> {
        self.updates
            .iter()
            .filter(|u| u["update_id"].as_i64().unwrap_or(0) > after)
            .filter(|update| self.delivers(update))
            .filter_map(|u| u["update_id"].as_i64())
            .collect()
    }

    /// Whether `getUpdates` delivers `update`: of a kind [`World::allowed_updates`] names
    /// (any, when none were named).
    fn delivers(&self, update: &Value) -> bool {
        match &self.allowed_updates {
            Some(kinds) => {
                let (_, key, _) = crate::telegram::update::kind(update);
                kinds.iter().any(|kind| kind == key)
            }
            None => true,
        }
    }

    /// The update kinds `getUpdates` last asked for (`allowed_updates`), if it named any.
    pub fn allowed_updates(&self) -> Option<&[String]> {
        self.allowed_updates.as_deref()
    }

    /// A `getUpdates` with `params`: its `allowed_updates`, when it names kinds, replace
    /// those kept; without them the kept ones stay, as Telegram does.
    pub fn poll_asks(&mut self, params: &Map<String, Value>) {
        let named: Option<Vec<String>> = params
            .get("allowed_updates")
            .and_then(Value::as_array)
            .map(|kinds| {
                kinds
                    .iter()
                    .filter_map(|kind| kind.as_str().map(str::to_string))
                    .collect()
            });
        if let Some(kinds) = named.filter(|kinds| !kinds.is_empty()) {
            self.allowed_updates = Some(kinds);
        }
    }

    fn chat_json(&self, chat: &Chat) -> Value {
        match chat.kind {
            ChatKind::Supergroup => {
                json!({"id": chat.id, "type": "supergroup", "title": chat.title})
            }
            ChatKind::Group => json!({"id": chat.id, "type": "group", "title": chat.title}),
            ChatKind::Private => {
                let user = self.user_json(chat.id);
                json!({"id": chat.id, "type": "private", "first_name": user["first_name"],
                    "username": user["username"]})
            }
        }
    }

    /// Chat `id` as updates show it (`Null` for an unknown chat).
    fn chat_of(&self, id: i64) -> Value {
        self.chats
            .get(&id)
            .map_or(Value::Null, |chat| self.chat_json(chat))
    }

    fn user_json(&self, id: i64) -> Value {
        if id == BOT_ID {
            return self.bot.clone();
        }
        self.users.get(&id).cloned().unwrap_or_else(
            || json!({"id": id, "is_bot": false, "first_name": format!("user{id}")}),
        )
    }

    /// Store a new message from `from` in `chat` with `content` (its `text`, or `photo` and
    /// `caption`, its `reply_markup`, …), replying to message `reply_to` when that exists;
    /// returns the whole message (`Null` for an unknown chat).
    fn store_message(
        &mut self,
        chat: i64,
        from: i64,
        content: Map<String, Value>,
        reply_to: Option<i64>,
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
            "message_id": id, "date": date, "chat": chat_json, "from": from_json,
        });
        if let Some(fields) = message.as_object_mut() {
            fields.extend(content);
        }
        if let Some(reply) = reply {
            message["reply_to_message"] = reply;
        }
        c.messages.insert(id, message.clone());
        message
    }

    /// The message `id` of `chat`, if it exists (was sent and not deleted).
    pub fn message(&self, chat: i64, id: i64) -> Option<&Value> {
        self.chats.get(&chat)?.messages.get(&id)
    }

    /// The `ChatMember` object of a user, with every field Telegram sends for its status
    /// (a right or permission not set is `false`).
    pub fn member_json(&self, chat: i64, user: i64) -> Value {
        let user_json = self.user_json(user);
        let every = |names: &[&str], set: &Map<String, Value>| -> Map<String, Value> {
            names
                .iter()
                .map(|name| {
                    let value = set.get(*name).and_then(Value::as_bool).unwrap_or(false);
                    (name.to_string(), Value::Bool(value))
                })
                .collect()
        };
        let mut member = match self.status(chat, user) {
            Status::Creator => json!({"status": "creator", "is_anonymous": false}),
            Status::Administrator(rights) => {
                let mut m = every(&administrator_rights(), &rights);
                m.insert("status".into(), "administrator".into());
                if let Some(title) = rights.get("custom_title") {
                    m.insert("custom_title".into(), title.clone());
                }
                Value::Object(m)
            }
            Status::Member => json!({"status": "member"}),
            Status::Restricted(perms, until) => {
                let mut m = every(
                    &crate::telegram::permissions::CHAT_PERMISSION_FIELDS,
                    &perms,
                );
                m.insert("status".into(), "restricted".into());
                m.insert("is_member".into(), true.into());
                m.insert("until_date".into(), until.into());
                Value::Object(m)
            }
            Status::Left | Status::Requested => json!({"status": "left"}),
            Status::Kicked(until) => json!({"status": "kicked", "until_date": until}),
        };
        member["user"] = user_json;
        member
    }

    /// The chat a call's `chat_id` names (an integer or a string of digits).
    fn chat(&self, params: &Map<String, Value>) -> Result<&Chat, Refusal> {
        let id = match params.get("chat_id") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => return Err(Refusal::bad_request("chat_id is empty")),
        };
        id.and_then(|id| self.chats.get(&id))
            .ok_or_else(|| Refusal::bad_request("chat not found"))
    }

    /// The chat and the user a call names (`chat_id`, `user_id`), both known.
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

    /// Telegram's refusal unless the bot is an administrator of `chat` with `right` (`what`
    /// words the refusal).
    fn require_right(&self, chat: i64, right: &str, what: &str) -> Result<(), Refusal> {
        match self.status(chat, BOT_ID) {
            Status::Administrator(rights) if rights.get(right) == Some(&json!(true)) => Ok(()),
            _ => Err(Refusal::bad_request(&format!(
                "not enough rights to {what}"
            ))),
        }
    }
}

/// The fields of a supergroup's `ChatMemberAdministrator` besides `status` and `user`:
/// `can_be_edited` and the rights `tg_promote_chat_member` takes
/// ([`crate::commands::chat::ADMIN_RIGHTS`]), but those of channels only.
fn administrator_rights() -> Vec<&'static str> {
    const CHANNEL_ONLY: &[&str] = &["can_post_messages", "can_edit_messages"];
    std::iter::once("can_be_edited")
        .chain(
            crate::commands::chat::ADMIN_RIGHTS
                .iter()
                .copied()
                .filter(|right| !CHANNEL_ONLY.contains(right)),
        )
        .collect()
}
