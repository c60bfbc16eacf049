//! The sandbox's chat console: each input line becomes an update from a sandbox user, and
//! every Bot API call the scripts make is printed as one line with its JSON.
//!
//! Input lines:
//! - `text` — a message from the current user (alice at first);
//! - `/as NAME text` — a message from NAME (users are created on first use; `owner` owns the
//!   group);
//! - `/join NAME` — NAME joins the group (a `chat_member` update);
//! - `/reply ID text` — a message replying to message #ID;
//! - `/press DATA` — press the button with callback data DATA under the newest bot message
//!   that has buttons;
//! - `/login_from PLACE` — someone logs in to the sandbox account from a new device at PLACE
//!   (`updateUnconfirmedSession`);
//! - `/confirm_qr` — the QR link of the sandbox account's `login_qr` is confirmed.
//!
//! Prefixes combine: `/as owner /reply 3 /ban`.

use super::server::{BotApiServer, Recorded};
use super::world::{OWNER_ID, Refusal, SANDBOX_CHAT_ID, Status, World};
use crate::accounts::Accounts;
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
        Self {
            ids,
            next: OWNER_ID + 1,
        }
    }
}

impl Users {
    /// The id of user `name`, creating the user in `world` on first use.
    pub fn id(&mut self, world: &mut World, name: &str) -> i64 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.next;
        self.next += 1;
        self.ids.insert(name.to_string(), id);
        let mut first = name.to_string();
        if let Some(c) = first.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
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

/// Apply one input line to the world.
pub fn apply_line(world: &mut World, users: &mut Users, line: &str) -> Input {
    let mut user = "alice".to_string();
    let mut reply_to = None;
    let mut rest = line.trim();
    loop {
        if let Some(after) = rest.strip_prefix("/as ") {
            let mut parts = after.trim_start().splitn(2, ' ');
            user = parts.next().unwrap_or_default().to_string();
            rest = parts.next().unwrap_or("").trim_start();
        } else if let Some(after) = rest.strip_prefix("/reply ") {
            let mut parts = after.trim_start().splitn(2, ' ');
            match parts
                .next()
                .and_then(|id| id.trim_start_matches('#').parse::<i64>().ok())
            {
                Some(id) => reply_to = Some(id),
                None => {
                    return Input::Invalid("/reply needs a message number: /reply 3 text".into());
                }
            }
            rest = parts.next().unwrap_or("").trim_start();
        } else {
            break;
        }
    }
    if user.is_empty() {
        return Input::Invalid("/as needs a name: /as bob hello".into());
    }
    if let Some(name) = rest.strip_prefix("/join") {
        let name = name.trim();
        let name = if name.is_empty() { user.as_str() } else { name };
        let id = users.id(world, name);
        world.user_joins(SANDBOX_CHAT_ID, id);
        return Input::Queued(format!("{name} joined the group"));
    }
    let id = users.id(world, &user);
    if let Some(data) = rest.strip_prefix("/press ") {
        let Some(message) = world.last_message_with_buttons(SANDBOX_CHAT_ID) else {
            return Input::Invalid("no bot message with buttons to press".into());
        };
        world.press_button(SANDBOX_CHAT_ID, id, message, data.trim());
        return Input::Queued(format!("{user} pressed [{}] under #{message}", data.trim()));
    }
    if rest.is_empty() {
        return Input::Invalid("empty message".into());
    }
    match world.status(SANDBOX_CHAT_ID, id) {
        Status::Restricted(perms, _)
            if perms.get("can_send_messages") != Some(&Value::Bool(true)) =>
        {
            return Input::Invalid(format!("{user} is restricted and cannot send messages"));
        }
        Status::Kicked(_) => return Input::Invalid(format!("{user} is banned from the group")),
        _ => {}
    }
    let message = world.user_message(SANDBOX_CHAT_ID, id, rest, reply_to);
    let number = message["message_id"].as_i64().unwrap_or_default();
    let replying = reply_to
        .map(|r| format!(" (reply to #{r})"))
        .unwrap_or_default();
    Input::Queued(format!("#{number} {user}{replying}: {rest}"))
}

/// Print every Bot API call the scripts make: `→ method {json}`, refusals under it, and bot
/// messages as `#N bot: text`.
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
                        "\n#{} bot: {}",
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
        },
    ));
}
