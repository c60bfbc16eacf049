//! The sandbox's chat console: each input line becomes an update from a sandbox user, and
//! every Bot API call the scripts make is printed as one line with its JSON.
//!
//! Input lines:
//! - `text` — a message from the current user (alice at first);
//! - `/as NAME text` — a message from NAME (any case; alice, bob and carol are members from
//!   the start, `owner` owns the group, anyone else must `/join` first);
//! - `/reply N text` — a message replying to message #N (it must exist);
//! - `/photo [caption]` — a photo; `/edit N text` — edit one's own message #N;
//! - `/join [NAME]`, `/leave [NAME]`, `/request [NAME]` — NAME (default: the current user)
//!   joins or leaves the group (`chat_member`), or asks to join (`chat_join_request`);
//! - `/press [#N] DATA` — press the button with callback data DATA under message #N (default:
//!   the newest message with buttons);
//! - `/wait DURATION` — move the sandbox's clock ahead (`30s`, `10m`, `2h`, `1d`): mutes and
//!   bans end on time;
//! - `/login_from PLACE` — someone logs in to the sandbox account from a new device at PLACE
//!   (`updateUnconfirmedSession`);
//! - `/confirm_qr` — the QR link of the sandbox account's `login_qr` is confirmed.
//!
//! Prefixes combine: `/as owner /reply 3 /ban`. A console command without what it needs prints
//! its usage and changes nothing.

use super::server::{BotApiServer, Recorded};
use super::world::{OWNER_ID, Post, Refusal, SANDBOX_CHAT_ID, SANDBOX_MEMBERS, World};
use crate::accounts::Accounts;
use crate::activity::{self, Entry};
use serde_json::Value;
use std::collections::BTreeMap;

/// Methods the runtime itself calls; they are not printed.
const INFRASTRUCTURE: &[&str] = &[
    "getme",
    "deletewebhook",
    "getwebhookinfo",
    "getupdates",
    "close",
];

/// Sandbox users by name, with stable ids (owner 1000, the rest from 1001 in order of use).
#[derive(Debug)]
pub struct Users {
    ids: BTreeMap<String, i64>,
    next: i64,
}

impl Default for Users {
    fn default() -> Self {
        let mut ids = BTreeMap::new();
        ids.insert("owner".to_string(), OWNER_ID);
        for (id, name) in SANDBOX_MEMBERS {
            ids.insert(name.to_ascii_lowercase(), id);
        }
        let next = ids.values().max().map_or(OWNER_ID, |m| m + 1);
        Self { ids, next }
    }
}

impl Users {
    /// The id of user `name` (any case), creating the user in `world` on first use.
    pub fn id(&mut self, world: &mut World, name: &str) -> i64 {
        let name = name.to_lowercase();
        if let Some(id) = self.ids.get(&name) {
            return *id;
        }
        let id = self.next;
        self.next += 1;
        let mut first = name.clone();
        if let Some(c) = first.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        self.ids.insert(name, id);
        world.add_user(id, &first);
        id
    }
}

/// Apply a line about the sandbox account (`/login_from PLACE`, `/confirm_qr`) to the
/// default account; `None` when the line is about the chat.
pub fn account_line(accounts: &Accounts, line: &str) -> Option<Result<String, String>> {
    let line = line.trim();
    let place = line.strip_prefix("/login_from").map(str::trim);
    if place.is_none() && line != "/confirm_qr" {
        return None;
    }
    let account = accounts
        .default_id()
        .and_then(|id| accounts.get(id).map(|a| (id, a)));
    let (id, account) = match account {
        Ok(found) => found,
        Err(e) => return Some(Err(e.to_string())),
    };
    let Some(sandbox) = account.as_sandbox() else {
        return Some(Err(format!("account {id} is not a sandbox account")));
    };
    Some(match place {
        Some("") => Err("/login_from needs a place, e.g. /login_from Berlin, Germany".into()),
        Some(place) => {
            let session = sandbox.login_from(place);
            Ok(format!(
                "account {id}: session {session} logs in from {place} (waiting for confirmation)"
            ))
        }
        None => sandbox
            .confirm_qr()
            .map(|state| format!("account {id}: QR link confirmed, {}", state.describe()))
            .map_err(|e| e.message),
    })
}

/// What one input line did.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Updates were queued; the line to echo.
    Queued(String),
    /// The line was not understood; why.
    Invalid(String),
}

/// The argument of console command `name` at the start of `line` (`""` when it has none), or
/// `None` when the line does not start with it.
fn command<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(name)?;
    match rest.chars().next() {
        None => Some(""),
        Some(c) if c.is_whitespace() => Some(rest.trim_start()),
        Some(_) => None,
    }
}

/// Split `text` into its first word and the rest.
fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim_start()),
        None => (text, ""),
    }
}

/// A message number as the log shows it (`3` or `#3`).
fn message_number(word: &str) -> Option<i64> {
    word.strip_prefix('#').unwrap_or(word).parse().ok()
}

/// Whether `line` may move the sandbox's clock (it has a `/wait`, perhaps after `/as NAME`):
/// jobs that became due then run before the next line.
pub fn moves_the_clock(line: &str) -> bool {
    line.split_whitespace().any(|word| word == "/wait")
}

/// Apply one input line to the world.
pub fn apply_line(world: &mut World, users: &mut Users, line: &str) -> Input {
    match apply(world, users, line) {
        Ok(echo) => Input::Queued(echo),
        Err(why) => Input::Invalid(why),
    }
}

fn apply(world: &mut World, users: &mut Users, line: &str) -> Result<String, String> {
    let mut user = "alice".to_string();
    let mut reply_to = None;
    let mut rest = line.trim();
    loop {
        if let Some(after) = command(rest, "/as") {
            let (name, text) = first_word(after);
            if name.is_empty() || text.is_empty() {
                return Err(
                    "usage: /as NAME text (also /as NAME /press DATA, /as NAME /join, …)".into(),
                );
            }
            if name.eq_ignore_ascii_case("bot") {
                return Err("the bot's messages come from the scripts: /as takes a user (alice, bob, carol, owner, or a new name)".into());
            }
            user = name.to_lowercase();
            rest = text;
        } else if let Some(after) = command(rest, "/reply") {
            let (number, text) = first_word(after);
            match message_number(number) {
                Some(id) if !text.is_empty() => reply_to = Some(id),
                _ => return Err("usage: /reply N text (N: a message number, #N in the log)".into()),
            }
            rest = text;
        } else {
            break;
        }
    }
    let chat = SANDBOX_CHAT_ID;
    let id = users.id(world, &user);
    let someone = |users: &mut Users, world: &mut World, name: &str| match name.is_empty() {
        true => (user.clone(), id),
        false => (name.to_lowercase(), users.id(world, name)),
    };
    if let Some(name) = command(rest, "/join") {
        let (name, id) = someone(users, world, name);
        world.user_joins(chat, id)?;
        return Ok(format!("{name} joined the group"));
    }
    if let Some(name) = command(rest, "/leave") {
        let (name, id) = someone(users, world, name);
        world.user_leaves(chat, id)?;
        return Ok(format!("{name} left the group"));
    }
    if let Some(name) = command(rest, "/request") {
        let (name, id) = someone(users, world, name);
        world.request_join(chat, id)?;
        return Ok(format!("{name} asked to join the group"));
    }
    if let Some(after) = command(rest, "/wait") {
        let by = crate::clock::duration_seconds(after)
            .ok_or("usage: /wait DURATION (30s, 10m, 2h, 1d)")?;
        world.advance(by);
        return Ok(format!("the sandbox's clock moved {after} ahead"));
    }
    if let Some(after) = command(rest, "/press") {
        let (first, data) = first_word(after);
        let (message, data) = match first.starts_with('#') {
            true => (message_number(first), data),
            false => (None, after),
        };
        if data.is_empty() || (first.starts_with('#') && message.is_none()) {
            return Err("usage: /press [#N] DATA (the callback data of a button under message #N, default: the newest with buttons)".into());
        }
        let message = world.press_button(chat, id, message, data)?;
        return Ok(format!("{user} pressed [{data}] under #{message}"));
    }
    if let Some(after) = command(rest, "/edit") {
        let (number, text) = first_word(after);
        let Some(number) = message_number(number).filter(|_| !text.is_empty()) else {
            return Err("usage: /edit N new text (N: one of your messages)".into());
        };
        world.edit(chat, id, number, text)?;
        return Ok(format!("#{number} {user} (edited): {text}"));
    }
    let (text, photo) = match command(rest, "/photo") {
        Some(caption) => (caption, true),
        None => (rest, false),
    };
    if text.is_empty() && !photo {
        return Err("empty message".into());
    }
    let post = Post {
        text,
        reply_to,
        photo,
    };
    let message = world.post(chat, id, &post)?;
    let number = message["message_id"].as_i64().unwrap_or_default();
    let replying = reply_to
        .map(|r| format!(" (reply to #{r})"))
        .unwrap_or_default();
    let shown = match photo {
        true => format!("[photo] {text}").trim_end().to_string(),
        false => text.to_string(),
    };
    Ok(format!("#{number} {user}{replying}: {shown}"))
}

/// Print every Bot API call the scripts make: `→ method {json}`, refusals under it, and bot
/// messages as `#N 🤖 bot: text` (a user's line is `#N name: text`); each is also kept in the
/// process's [`crate::activity`] for the web console.
pub fn print_calls(server: &BotApiServer) {
    server.observe(Box::new(
        |call: &Recorded, result: &Result<Value, Refusal>| {
            if INFRASTRUCTURE.contains(&call.method.to_ascii_lowercase().as_str()) {
                return;
            }
            let mut out = format!("→ {} {}", call.method, call.params);
            match result {
                Ok(message) if call.method.eq_ignore_ascii_case("sendMessage") => {
                    out.push_str(&format!(
                        "\n#{} 🤖 bot: {}",
                        message["message_id"],
                        message["text"].as_str().unwrap_or_default()
                    ));
                }
                Ok(_) => {}
                Err(refusal) => {
                    out.push_str(&format!("\n  ✗ {} {}", refusal.code, refusal.description))
                }
            }
            println!("{out}");
            let answer = match result {
                Ok(value) => Ok(value.clone()),
                Err(refusal) => Err(format!("{} {}", refusal.code, refusal.description)),
            };
            activity::log().record(Entry::call(&call.method, call.params.clone(), answer));
        },
    ));
}
