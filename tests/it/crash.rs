//! The `kill -9` load shared by the crash tests (one process in `inbox.rs`, a cluster's
//! instances in `cluster.rs`): messages queued up front over many chats, two scenarios that
//! answer each, and the check that every update was handled, each handler's message sent once
//! (twice only for a call logged as without an answer) and in order per chat.

use crate::util::{TOKEN, TestDir};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, Recorded, World};

/// The user every message is from.
pub(crate) const USER: i64 = 1001;

/// Replies `TEXT #n`, `n` counting the chat's messages in chat state: a handler run twice on
/// one update, or out of order, shows in the numbers.
pub(crate) const ECHO: &str = r#"
fn on_message(msg) {
    let n = (chat_get("n") ?? 0) + 1;
    chat_set("n", n);
    reply(`${msg.text} #${n}`);
}
"#;

/// A second scenario with its own handler for every message.
pub(crate) const AUDIT: &str = r#"
fn on_message(msg) {
    send_message(msg.chat.id, `audit ${msg.text}`);
}
"#;

pub(crate) fn chat_id(index: usize) -> i64 {
    -1_002_000_000_000 - index as i64
}

pub(crate) fn server(chats: usize) -> BotApiServer {
    let mut world = World::empty();
    world.add_user(USER, "Alice");
    for index in 0..chats {
        world.add_chat(
            chat_id(index),
            ChatKind::Supergroup,
            &format!("chat {index}"),
        );
    }
    BotApiServer::start(world, Some(TOKEN)).expect("start the local Bot API server")
}

/// The texts of the messages the bot's scenarios sent (not those sent over the gateway), in
/// the order the server received them.
pub(crate) fn sent(calls: &[Recorded]) -> Vec<(i64, String)> {
    calls
        .iter()
        .filter(|c| c.method.eq_ignore_ascii_case("sendMessage"))
        .map(|c| {
            (
                c.params["chat_id"].as_i64().unwrap_or_default(),
                c.params["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .filter(|(_, text)| !text.starts_with(GATEWAY_TEXT))
        .collect()
}

/// How the texts the tests send over the gateway begin (no scenario's do).
pub(crate) const GATEWAY_TEXT: &str = "gw ";

/// xorshift64*: the kill points of one run; `TGSCRIPT_TEST_SEED` repeats a run.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new() -> Self {
        let seed = std::env::var("TGSCRIPT_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(7)
            });
        eprintln!("crash test seed: TGSCRIPT_TEST_SEED={seed}");
        Rng(seed | 1)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) % n
    }
}

/// Which (update, scenario) calls a restarted process reported as having got no answer
/// before the crash: the only ones that may reach Telegram twice.
pub(crate) fn in_doubt(logs: &str) -> BTreeSet<(i64, String)> {
    logs.lines()
        .filter(|line| line.contains("got no answer in an earlier try"))
        .filter_map(|line| {
            let rest = &line[line.find("update ")? + "update ".len()..];
            let (id, rest) = rest.split_once(", ")?;
            let (scenario, _) = rest.split_once(':')?;
            Some((id.parse().ok()?, scenario.to_string()))
        })
        .collect()
}

/// `updates` messages queued up front on a local Bot API server, spread at random over
/// `chats` chats, and what must come of them.
pub(crate) struct Load {
    /// The bot's server (token [`TOKEN`]).
    pub(crate) server: BotApiServer,
    updates: usize,
    /// Each chat's messages, in the order sent.
    per_chat: Vec<Vec<String>>,
    /// The update id of each message.
    update_of: HashMap<String, i64>,
}

impl Load {
    /// Queue the messages and write the two scenarios into `t`'s `scripts/`.
    pub(crate) fn queue(t: &TestDir, chats: usize, updates: usize, rng: &mut Rng) -> Load {
        let server = server(chats);
        let mut per_chat: Vec<Vec<String>> = vec![Vec::new(); chats];
        let mut update_of: HashMap<String, i64> = HashMap::new();
        server.world(|w| {
            for _ in 0..updates {
                let index = rng.below(chats as u64) as usize;
                let text = format!("c{index}-{}", per_chat[index].len() + 1);
                w.user_message(chat_id(index), USER, &text, None);
                update_of.insert(text.clone(), w.pending() as i64);
                per_chat[index].push(text);
            }
        });
        t.write("scripts/echo.rhai", ECHO);
        t.write("scripts/audit.rhai", AUDIT);
        Load {
            server,
            updates,
            per_chat,
            update_of,
        }
    }

    /// How many messages the bot has sent so far.
    pub(crate) fn sent(&self) -> usize {
        sent(&self.server.calls()).len()
    }

    /// Wait until the bot has sent `n` messages; `false` if it did not within `wait`.
    pub(crate) fn wait_sent(&self, n: usize, wait: Duration) -> bool {
        self.server
            .wait_for(wait, |calls| sent(calls).len() >= n)
            .is_ok()
    }

    /// Wait until every update got both answers; `false` if not within `wait`.
    pub(crate) fn wait_all_handled(&self, wait: Duration) -> bool {
        let all_handled = |calls: &[Recorded]| {
            let texts: BTreeSet<String> = sent(calls).into_iter().map(|(_, text)| text).collect();
            let echoes = texts.iter().filter(|t| !t.starts_with("audit ")).count();
            echoes == self.updates && texts.len() == 2 * self.updates
        };
        self.server.wait_for(wait, all_handled).is_ok()
    }

    /// Assert that each message got one echo and one audit, except a call that was in
    /// flight at a kill (reported as such in `logs`, the processes' stderr), which may have
    /// gone twice — never more — and that the echoes came in order per chat with the chat's
    /// counter moved once per message. Returns how many calls `logs` reported without an
    /// answer and how many of those were made again.
    pub(crate) fn assert_handled_once(&self, logs: &str) -> (usize, usize) {
        let doubt = in_doubt(logs);
        let mut count: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
        for (_, text) in sent(&self.server.calls()) {
            let (scenario, message) = match text.strip_prefix("audit ") {
                Some(message) => ("audit.rhai", message.to_string()),
                None => (
                    "echo.rhai",
                    text.split(" #").next().unwrap_or_default().to_string(),
                ),
            };
            let update = self.update_of[&message];
            count
                .entry((update, scenario.to_string()))
                .or_default()
                .push(text);
        }
        assert_eq!(
            count.len(),
            2 * self.updates,
            "one entry per update and handler"
        );
        for (key, texts) in &count {
            let allowed = if doubt.contains(key) { 2 } else { 1 };
            assert!(
                texts.len() <= allowed,
                "{key:?} sent {} times: {texts:?} (in doubt: {doubt:?})",
                texts.len()
            );
            assert!(
                texts.iter().all(|t| t == &texts[0]),
                "a repeated call repeats the same message: {texts:?}"
            );
        }
        for (index, expected) in self.per_chat.iter().enumerate() {
            let mut echoes: Vec<String> = Vec::new();
            for (chat, text) in sent(&self.server.calls()) {
                if chat == chat_id(index) && !text.starts_with("audit ") && !echoes.contains(&text)
                {
                    echoes.push(text);
                }
            }
            let wanted: Vec<String> = expected
                .iter()
                .enumerate()
                .map(|(i, text)| format!("{text} #{}", i + 1))
                .collect();
            assert_eq!(echoes, wanted, "chat {index}");
        }
        let repeated = count.values().filter(|texts| texts.len() > 1).count();
        (doubt.len(), repeated)
    }
}
