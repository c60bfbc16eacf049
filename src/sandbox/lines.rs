//! The sandbox chat's lines (typed on stdin, or sent by the web console's `sandbox_chat`):
//! each line becomes an update from a sandbox user, and
//! every Bot API call the scripts make is printed as one line with its JSON.
//!
//! A line that starts with none of the sandbox commands ([`LINES`], each with its usage;
//! `/help` lists them) is a message from the current user (alice at first) in the sandbox
//! group: `/start` too is a message. Prefixes combine: `/as owner /reply 3 /ban`,
//! `/dm bob /photo hi`. A sandbox command without what it needs prints its usage and
//! changes nothing. The lines about business accounts, reactions and boosts are in `business`.

mod business;

use super::server::{BotApiServer, Recorded};
use super::world::{OWNER_ID, Post, Refusal, SANDBOX_CHAT_ID, SANDBOX_MEMBERS, World};
use crate::accounts::Accounts;
use crate::accounts::sandbox::SandboxAccount;
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
    /// The id of user `name` (any case), creating the user in `world` on first use (with
    /// their private chat with the bot).
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

    /// Whether `name` (any case) is a sandbox user already.
    pub fn knows(&self, name: &str) -> bool {
        self.ids.contains_key(&name.to_lowercase())
    }
}

/// Why a line was refused: it lacks what its command needs (its usage is shown), or the
/// sandbox would not let it happen (the sentence says why).
enum Refused {
    Usage,
    Because(String),
}

impl From<String> for Refused {
    fn from(why: String) -> Self {
        Refused::Because(why)
    }
}

impl From<&str> for Refused {
    fn from(why: &str) -> Self {
        Refused::Because(why.to_string())
    }
}

/// Who says a line and where, as its prefixes set it.
struct Said {
    /// The user's name in lower case.
    user: String,
    /// In the user's private chat with the bot rather than the group.
    private: bool,
    /// The message it replies to.
    reply_to: Option<i64>,
}

/// A prefix: sets who says the rest of the line, where, or what it replies to; the rest.
type Prefix = for<'a> fn(&mut Said, &Users, &'a str) -> Result<&'a str, Refused>;
/// A command: what it did, as the sandbox echoes it.
type Act = fn(&Said, &mut World, &mut Users, &str) -> Result<String, Refused>;
/// A line about the sandbox account (the default one): what happened.
type AccountAct = fn(&SandboxAccount, i64, &str) -> Result<String, Refused>;

/// What a sandbox command does.
enum Run {
    Prefix(Prefix),
    Act(Act),
    /// A command that moves the sandbox's clock: jobs that became due run before the next
    /// line.
    Clock(Act),
    Account(AccountAct),
}

/// One sandbox command: its name, its usage, what it does, and how.
pub struct LineSpec {
    /// The command, e.g. `/dm`.
    pub name: &'static str,
    /// How it is written, e.g. `/dm [NAME] text`.
    pub usage: &'static str,
    /// What it does.
    pub what: &'static str,
    run: Run,
}

/// Every sandbox command.
pub const LINES: &[LineSpec] = &[
    LineSpec {
        name: "/as",
        usage: "/as NAME text",
        what: "say the rest as NAME (any case; alice, bob and carol are members from the start, owner owns the group, anyone else must /join first): also /as NAME /press DATA, /as NAME /join, …",
        run: Run::Prefix(as_user),
    },
    LineSpec {
        name: "/dm",
        usage: "/dm [NAME] text",
        what: "say the rest in the private chat of NAME (a known user; default: the current one) with the bot: also /dm bob /photo, /dm /reply 2 text",
        run: Run::Prefix(in_private),
    },
    LineSpec {
        name: "/reply",
        usage: "/reply N text",
        what: "a message replying to message #N (it must exist; #N in the log)",
        run: Run::Prefix(replying),
    },
    LineSpec {
        name: "/photo",
        usage: "/photo [caption]",
        what: "a photo, with its caption",
        run: Run::Act(photo),
    },
    LineSpec {
        name: "/document",
        usage: "/document [NAME] [caption]",
        what: "a document (default name notes.txt) of generated bytes, with its caption: the bot can download(file_id) it",
        run: Run::Act(document),
    },
    LineSpec {
        name: "/album",
        usage: "/album N [caption]",
        what: "an album of N photos (2 to 10), the caption under the first: each part its own update, as Telegram sends them; on_album gets them together",
        run: Run::Act(album),
    },
    LineSpec {
        name: "/edit",
        usage: "/edit N new text",
        what: "edit one's own message #N",
        run: Run::Act(edit),
    },
    LineSpec {
        name: "/join",
        usage: "/join [NAME]",
        what: "NAME (default: the current user) joins the group (chat_member)",
        run: Run::Act(join),
    },
    LineSpec {
        name: "/leave",
        usage: "/leave [NAME]",
        what: "NAME (default: the current user) leaves the group (chat_member)",
        run: Run::Act(leave),
    },
    LineSpec {
        name: "/request",
        usage: "/request [NAME]",
        what: "NAME (default: the current user) asks to join the group (chat_join_request)",
        run: Run::Act(request),
    },
    LineSpec {
        name: "/press",
        usage: "/press [#N] DATA",
        what: "press the button with callback data DATA under message #N (default: the newest with buttons)",
        run: Run::Act(press),
    },
    LineSpec {
        name: "/inline",
        usage: "/inline TEXT",
        what: "type @sandbox_bot TEXT: the bot gets an inline_query, and /choose picks from its answer",
        run: Run::Act(inline),
    },
    LineSpec {
        name: "/choose",
        usage: "/choose N",
        what: "pick result N of the bot's last inline answer: it is posted as your message via the bot (chosen_inline_result)",
        run: Run::Act(choose),
    },
    LineSpec {
        name: "/pay",
        usage: "/pay [#N]",
        what: "pay the bot's invoice #N (default: the newest here): the bot gets a pre_checkout_query (for a flexible invoice first a shipping_query, and its first option is taken), and once it answers yes a message with successful_payment",
        run: Run::Act(pay),
    },
    LineSpec {
        name: "/business",
        usage: "/business connect [RIGHT…] | disconnect | edit N text | delete N… | text",
        what: "connect the bot to your business account (rights: reply, read_messages, delete_sent_messages, …; default: reply read_messages), turn it off, or, /as another user, write to the connected account, edit or delete those messages",
        run: Run::Act(business::business),
    },
    LineSpec {
        name: "/react",
        usage: "/react EMOJI [#N]",
        what: "react to message #N (default: the newest here) with one of Telegram's reactions (message_reaction)",
        run: Run::Act(business::react),
    },
    LineSpec {
        name: "/boost",
        usage: "/boost",
        what: "boost the group with Telegram Premium (chat_boost)",
        run: Run::Act(business::boost),
    },
    LineSpec {
        name: "/wait",
        usage: "/wait DURATION",
        what: "move the sandbox's clock ahead (30s, 10m, 2h, 1d): mutes and bans end on time",
        run: Run::Clock(wait),
    },
    LineSpec {
        name: "/login_from",
        usage: "/login_from PLACE",
        what: "someone logs in to the sandbox account from a new device at PLACE, e.g. /login_from Berlin, Germany (updateUnconfirmedSession)",
        run: Run::Account(login_from),
    },
    LineSpec {
        name: "/confirm_qr",
        usage: "/confirm_qr",
        what: "the QR link of the sandbox account's login_qr is confirmed",
        run: Run::Account(confirm_qr),
    },
    LineSpec {
        name: "/help",
        usage: "/help",
        what: "list these commands",
        run: Run::Act(help_line),
    },
];

/// Every sandbox command, one per line: its usage and what it does.
pub fn help() -> String {
    let mut out = String::from(
        "Type a message (from alice at first; /start too is a message), or a sandbox command:",
    );
    for line in LINES {
        out.push_str(&format!("\n  {:<20} {}", line.usage, line.what));
    }
    out
}

/// What the sandbox says when it starts: where its Bot API server is (`url`, with `token`),
/// the group and its members, and [`help`].
pub fn introduction(url: &str, token: &str) -> String {
    format!(
        "sandbox: no TELOXIDE_TOKEN, so scripts run against a simulated supergroup \"Sandbox Group\" ({SANDBOX_CHAT_ID}) \
         where the bot is an administrator, with members alice, bob and carol, each also in a private chat with the bot. \
         Its Bot API server is {url} (token {token}: other clients can use it too, e.g. TELOXIDE_API_URL={url}). \
         End of input or Ctrl-C stops (with the gateway on, the web console keeps it going after the end of input).\n{}",
        help()
    )
}

/// The command `line` starts with, and its argument (`""` when it has none).
fn command(line: &str) -> Option<(&'static LineSpec, &str)> {
    LINES.iter().find_map(|spec| {
        let rest = line.strip_prefix(spec.name)?;
        match rest.chars().next() {
            None => Some((spec, "")),
            Some(c) if c.is_whitespace() => Some((spec, rest.trim_start())),
            Some(_) => None,
        }
    })
}

/// Why `spec` refused, in words: its usage, or the sentence it gave.
fn said_why(spec: &LineSpec, refused: Refused) -> String {
    match refused {
        Refused::Usage => format!("usage: {} ({})", spec.usage, spec.what),
        Refused::Because(why) => why,
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

/// Apply a line about the sandbox account (`/login_from PLACE`, `/confirm_qr`) to the
/// default account; `None` when the line is about the chat.
pub fn account_line(accounts: &Accounts, line: &str) -> Option<Result<String, String>> {
    let (spec, argument) = command(line.trim())?;
    let Run::Account(act) = spec.run else {
        return None;
    };
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
    Some(act(sandbox, id, argument).map_err(|refused| said_why(spec, refused)))
}

fn login_from(sandbox: &SandboxAccount, id: i64, place: &str) -> Result<String, Refused> {
    if place.is_empty() {
        return Err("/login_from needs a place, e.g. /login_from Berlin, Germany".into());
    }
    let session = sandbox.login_from(place);
    Ok(format!(
        "account {id}: session {session} logs in from {place} (waiting for confirmation)"
    ))
}

fn confirm_qr(sandbox: &SandboxAccount, id: i64, _: &str) -> Result<String, Refused> {
    sandbox
        .confirm_qr()
        .map(|state| format!("account {id}: QR link confirmed, {}", state.describe()))
        .map_err(|e| Refused::Because(e.message))
}

/// What one input line did.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Updates were queued; the line to echo.
    Queued(String),
    /// The line was not understood; why.
    Invalid(String),
}

/// Whether `line` may move the sandbox's clock (it has a `/wait`, perhaps after `/as NAME`):
/// jobs that became due then run before the next line.
pub fn moves_the_clock(line: &str) -> bool {
    line.split_whitespace()
        .filter_map(command)
        .any(|(spec, _)| matches!(spec.run, Run::Clock(_)))
}

/// Apply one input line to the world.
pub fn apply_line(world: &mut World, users: &mut Users, line: &str) -> Input {
    match apply(world, users, line) {
        Ok(echo) => Input::Queued(echo),
        Err(why) => Input::Invalid(why),
    }
}

fn apply(world: &mut World, users: &mut Users, line: &str) -> Result<String, String> {
    let mut said = Said {
        user: "alice".to_string(),
        private: false,
        reply_to: None,
    };
    let mut rest = line.trim();
    while let Some((spec, argument)) = command(rest) {
        let act = match spec.run {
            Run::Prefix(prefix) => {
                rest = prefix(&mut said, users, argument).map_err(|r| said_why(spec, r))?;
                continue;
            }
            Run::Act(act) | Run::Clock(act) => act,
            Run::Account(_) => {
                return Err(format!(
                    "{} is about the sandbox account: say it on a line of its own",
                    spec.name
                ));
            }
        };
        return act(&said, world, users, argument).map_err(|r| said_why(spec, r));
    }
    if rest.is_empty() {
        return Err("empty message".into());
    }
    post(&said, world, users, rest, (false, None)).map_err(|r| match r {
        Refused::Usage => "empty message".to_string(),
        Refused::Because(why) => why,
    })
}

fn as_user<'a>(said: &mut Said, _: &Users, argument: &'a str) -> Result<&'a str, Refused> {
    let (name, text) = first_word(argument);
    if name.is_empty() || text.is_empty() {
        return Err(Refused::Usage);
    }
    if name.eq_ignore_ascii_case("bot") {
        return Err("the bot's messages come from the scripts: /as takes a user (alice, bob, carol, owner, or a new name)".into());
    }
    said.user = name.to_lowercase();
    Ok(text)
}

fn in_private<'a>(said: &mut Said, users: &Users, argument: &'a str) -> Result<&'a str, Refused> {
    let (name, text) = first_word(argument);
    let text = match users.knows(name) {
        true => {
            said.user = name.to_lowercase();
            text
        }
        false => argument,
    };
    if text.is_empty() {
        return Err(Refused::Usage);
    }
    said.private = true;
    Ok(text)
}

fn replying<'a>(said: &mut Said, _: &Users, argument: &'a str) -> Result<&'a str, Refused> {
    let (number, text) = first_word(argument);
    match message_number(number) {
        Some(id) if !text.is_empty() => {
            said.reply_to = Some(id);
            Ok(text)
        }
        _ => Err(Refused::Usage),
    }
}

/// The chat a line is said in, and who says it.
fn chat_and_user(said: &Said, world: &mut World, users: &mut Users) -> (i64, i64) {
    let id = users.id(world, &said.user);
    match said.private {
        true => (id, id),
        false => (SANDBOX_CHAT_ID, id),
    }
}

/// The user a group command is about: `name`, else the one saying it; refused in a
/// private chat.
fn someone(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    name: &str,
) -> Result<(String, i64), Refused> {
    if said.private {
        return Err("this is about the group: say it without /dm".into());
    }
    Ok(match name.is_empty() {
        true => (said.user.clone(), users.id(world, &said.user)),
        false => (name.to_lowercase(), users.id(world, name)),
    })
}

fn join(said: &Said, world: &mut World, users: &mut Users, name: &str) -> Result<String, Refused> {
    let (name, id) = someone(said, world, users, name)?;
    world.user_joins(SANDBOX_CHAT_ID, id)?;
    Ok(format!("{name} joined the group"))
}

fn leave(said: &Said, world: &mut World, users: &mut Users, name: &str) -> Result<String, Refused> {
    let (name, id) = someone(said, world, users, name)?;
    world.user_leaves(SANDBOX_CHAT_ID, id)?;
    Ok(format!("{name} left the group"))
}

fn request(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    name: &str,
) -> Result<String, Refused> {
    let (name, id) = someone(said, world, users, name)?;
    world.request_join(SANDBOX_CHAT_ID, id)?;
    Ok(format!("{name} asked to join the group"))
}

fn wait(_: &Said, world: &mut World, _: &mut Users, after: &str) -> Result<String, Refused> {
    let by = crate::clock::duration_seconds(after).ok_or(Refused::Usage)?;
    world.advance(by);
    Ok(format!("the sandbox's clock moved {after} ahead"))
}

fn press(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    after: &str,
) -> Result<String, Refused> {
    let (first, data) = first_word(after);
    let (message, data) = match first.starts_with('#') {
        true => (message_number(first), data),
        false => (None, after),
    };
    if data.is_empty() || (first.starts_with('#') && message.is_none()) {
        return Err(Refused::Usage);
    }
    let (chat, id) = chat_and_user(said, world, users);
    let message = world.press_button(chat, id, message, data)?;
    Ok(format!("{} pressed [{data}] under #{message}", said.user))
}

fn inline(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    after: &str,
) -> Result<String, Refused> {
    let (chat, id) = chat_and_user(said, world, users);
    world.ask_inline(chat, id, after);
    Ok(format!("{} types @sandbox_bot {after}", said.user))
}

fn choose(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    after: &str,
) -> Result<String, Refused> {
    let n: usize = after.trim().parse().map_err(|_| Refused::Usage)?;
    let (_, id) = chat_and_user(said, world, users);
    let chosen = world.choose_inline(id, n)?;
    Ok(format!("{} sends {chosen:?} via @sandbox_bot", said.user))
}

fn pay(said: &Said, world: &mut World, users: &mut Users, after: &str) -> Result<String, Refused> {
    let message = match after {
        "" => None,
        number => Some(message_number(number).ok_or(Refused::Usage)?),
    };
    let (chat, id) = chat_and_user(said, world, users);
    let invoice = world.pay(chat, id, message)?;
    Ok(format!(
        "{} pays invoice #{invoice}{}: the bot is asked to confirm",
        said.user,
        place(said)
    ))
}

fn edit(said: &Said, world: &mut World, users: &mut Users, after: &str) -> Result<String, Refused> {
    let (number, text) = first_word(after);
    let number = message_number(number)
        .filter(|_| !text.is_empty())
        .ok_or(Refused::Usage)?;
    let (chat, id) = chat_and_user(said, world, users);
    world.edit(chat, id, number, text)?;
    Ok(format!(
        "#{number} {}{} (edited): {text}",
        said.user,
        place(said)
    ))
}

fn photo(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    caption: &str,
) -> Result<String, Refused> {
    post(said, world, users, caption, (true, None))
}

fn document(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    after: &str,
) -> Result<String, Refused> {
    let (name, caption) = match first_word(after) {
        ("", _) => ("notes.txt", ""),
        (name, caption) => (name, caption),
    };
    if name.contains(['/', '\\']) {
        return Err("a document's name has no '/' or '\\'".into());
    }
    post(said, world, users, caption, (false, Some(name)))
}

fn album(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    after: &str,
) -> Result<String, Refused> {
    let (count, caption) = first_word(after);
    let count = count.parse::<usize>().map_err(|_| Refused::Usage)?;
    let (chat, id) = chat_and_user(said, world, users);
    let parts = world.post_album(chat, id, count, caption, said.reply_to)?;
    let number = |part: Option<&Value>| {
        part.and_then(|m| m["message_id"].as_i64())
            .unwrap_or_default()
    };
    Ok(format!(
        "#{}–#{} {}{}: [album of {count} photos] {caption}",
        number(parts.first()),
        number(parts.last()),
        said.user,
        place(said)
    )
    .trim_end()
    .to_string())
}

fn help_line(_: &Said, _: &mut World, _: &mut Users, _: &str) -> Result<String, Refused> {
    Ok(help())
}

/// How an echo says where a line was said: nothing for the group.
fn place(said: &Said) -> &'static str {
    match said.private {
        true => " (private)",
        false => "",
    }
}

/// A message from the user of `said`: `text`, or a photo or a document (`file`: whether a
/// photo, the document's name) with `text` as caption.
fn post(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    text: &str,
    (photo, document): (bool, Option<&str>),
) -> Result<String, Refused> {
    if text.is_empty() && !photo && document.is_none() {
        return Err("empty message".into());
    }
    let (chat, id) = chat_and_user(said, world, users);
    let post = Post {
        text,
        reply_to: said.reply_to,
        photo,
        document,
        album: None,
    };
    let message = world.post(chat, id, &post)?;
    let number = message["message_id"].as_i64().unwrap_or_default();
    let replying = said
        .reply_to
        .map(|r| format!(" (reply to #{r})"))
        .unwrap_or_default();
    let shown = match (photo, document) {
        (true, _) => format!("[photo] {text}").trim_end().to_string(),
        (false, Some(name)) => format!("[document {name}] {text}").trim_end().to_string(),
        (false, None) => text.to_string(),
    };
    Ok(format!(
        "#{number} {}{}{replying}: {shown}",
        said.user,
        place(said)
    ))
}

/// Print every Bot API call the scripts make: `→ method {json}`, refusals under it, and bot
/// messages as `#N 🤖 bot: text` (`#N 🤖 bot → NAME (private): text` in a private chat; a
/// user's line is `#N name: text`); each is also kept in the process's [`crate::activity`]
/// for the web console.
pub fn print_calls(server: &BotApiServer) {
    server.observe(Box::new(
        |call: &Recorded, result: &Result<Value, Refusal>| {
            if INFRASTRUCTURE.contains(&call.method.to_ascii_lowercase().as_str()) {
                return;
            }
            let mut out = format!("→ {} {}", call.method, call.params);
            match result {
                Ok(message) if call.method.eq_ignore_ascii_case("sendMessage") => {
                    let chat = &message["chat"];
                    let to = match chat["type"].as_str() {
                        Some("private") => format!(
                            " → {} ({})",
                            chat["username"]
                                .as_str()
                                .or(chat["first_name"].as_str())
                                .unwrap_or_default(),
                            match message.get(crate::telegram::business::FIELD) {
                                Some(_) => "business",
                                None => "private",
                            }
                        ),
                        _ => String::new(),
                    };
                    out.push_str(&format!(
                        "\n#{} 🤖 bot{to}: {}",
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
