//! Proactive flood control: Telegram's published limits (about 30 messages a second per
//! bot, one a second per chat, 20 a minute per group) kept before a request goes out, rather
//! than waited out after a `429`. Built on `governor`'s GCRA limiters with a burst of one, so
//! requests are evenly spaced: a rate of 20 a minute is one request every three seconds.
//!
//! Every rate counts the requests that post into a chat ([`posts_message`]); moderation
//! (restricting, banning, deleting) and reads are not held back. A group is a chat whose id
//! is negative or an `@username`.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// `[flood]`: the rates a bot keeps to; 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FloodConfig {
    /// Whether the rates are kept at all (default true; off for a benchmark against a fake
    /// server, never against Telegram).
    pub enabled: bool,
    /// Messages a second per bot, into all chats together (default 30).
    pub per_second: u32,
    /// Messages a second into one chat (default 1).
    pub per_chat_per_second: u32,
    /// Messages a minute into one group (default 20).
    pub per_group_per_minute: u32,
}

impl Default for FloodConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            per_second: 30,
            per_chat_per_second: 1,
            per_group_per_minute: 20,
        }
    }
}

impl FloodConfig {
    /// One line for the start-up log.
    pub fn summary(&self) -> String {
        let rate = |n: u32, unit: &str| match n {
            0 => "off".to_string(),
            n => format!("{n}/{unit}"),
        };
        if !self.enabled {
            return "off".to_string();
        }
        format!(
            "per bot {}, per chat {}, per group {}",
            rate(self.per_second, "s"),
            rate(self.per_chat_per_second, "s"),
            rate(self.per_group_per_minute, "min")
        )
    }
}

/// Whether `method` posts a message into its chat (and so counts against the per-chat and
/// per-group rates): `send…` (but `sendChatAction`), `copyMessage(s)`, `forwardMessage(s)`.
pub fn posts_message(method: &str) -> bool {
    let m = method.to_ascii_lowercase();
    (m.starts_with("send") && m != "sendchataction")
        || m.starts_with("copymessage")
        || m.starts_with("forwardmessage")
}

/// The chat a request's `chat_id` names, and whether it is a group.
fn target(chat_id: Option<&Value>) -> Option<(String, bool)> {
    match chat_id? {
        Value::Number(n) => Some((n.to_string(), n.as_i64().is_some_and(|id| id < 0))),
        Value::String(s) => Some((s.clone(), s.starts_with('@') || s.starts_with('-'))),
        _ => None,
    }
}

/// A GCRA quota of `count` per `period`, `burst` at once; `None` when `count` is 0.
fn quota(count: u32, period: Duration, burst: NonZeroU32) -> Option<Quota> {
    let count = NonZeroU32::new(count)?;
    Quota::with_period(period / count.get()).map(|q| q.allow_burst(burst))
}

/// How many checks pass between sweeps of the per-chat limiters' idle entries.
const SWEEP_EVERY: u32 = 4096;

/// One bot's limiters.
#[derive(Debug)]
pub struct Throttle {
    global: Option<DefaultDirectRateLimiter>,
    chats: Option<DefaultKeyedRateLimiter<String>>,
    groups: Option<DefaultKeyedRateLimiter<String>>,
    checks: AtomicU32,
}

impl Throttle {
    /// Limiters for `config`, letting `burst` requests through at once (1 for a bot; a
    /// server enforcing the limits tolerates a little more). `None` when every rate is off.
    pub fn new(config: &FloodConfig, burst: NonZeroU32) -> Option<Self> {
        if !config.enabled {
            return None;
        }
        let second = Duration::from_secs(1);
        let global = quota(config.per_second, second, burst).map(RateLimiter::direct);
        let chats = quota(config.per_chat_per_second, second, burst).map(RateLimiter::keyed);
        let groups = quota(config.per_group_per_minute, second * 60, burst).map(RateLimiter::keyed);
        (global.is_some() || chats.is_some() || groups.is_some()).then(|| Self {
            global,
            chats,
            groups,
            checks: AtomicU32::new(0),
        })
    }

    /// The rates `method` for the chat `chat_id` counts against: the group's and the chat's
    /// first, the bot's last (its turn is the shortest wait, so the others go stale least).
    fn turns(&self, method: &str, chat_id: Option<&Value>) -> Vec<Turn<'_>> {
        let mut turns = Vec::new();
        if !posts_message(method) {
            return turns;
        }
        if let Some((chat, group)) = target(chat_id) {
            if let (Some(groups), true) = (&self.groups, group) {
                turns.push(Turn::Chat(groups, chat.clone()));
            }
            if let Some(chats) = &self.chats {
                turns.push(Turn::Chat(chats, chat));
            }
            self.sweep();
        }
        if let Some(global) = &self.global {
            turns.push(Turn::Bot(global));
        }
        turns
    }

    /// Wait until `method` for the chat `chat_id` may go out under every rate; returns how
    /// long it was held back (zero when it went at once).
    pub async fn wait(&self, method: &str, chat_id: Option<&Value>) -> Duration {
        let started = Instant::now();
        let mut held = false;
        for turn in self.turns(method, chat_id) {
            if turn.check().is_err() {
                held = true;
                turn.until_ready().await;
            }
        }
        match held {
            true => started.elapsed(),
            false => Duration::ZERO,
        }
    }

    /// Whether `method` for the chat `chat_id` may go out now: `Err` with how long until it
    /// could, when a rate is exceeded (what a server enforcing the limits answers with a
    /// `429`).
    pub fn check(&self, method: &str, chat_id: Option<&Value>) -> Result<(), Duration> {
        let now = Clock::now(&DefaultClock::default());
        for turn in self.turns(method, chat_id) {
            turn.check().map_err(|n| n.wait_time_from(now))?;
        }
        Ok(())
    }

    /// Now and then, forget the chats that are idle again (the limiters keep an entry per
    /// chat otherwise).
    fn sweep(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for limiter in [&self.chats, &self.groups].into_iter().flatten() {
                limiter.retain_recent();
            }
        }
    }
}

/// One rate a request counts against.
enum Turn<'a> {
    /// The bot's own.
    Bot(&'a DefaultDirectRateLimiter),
    /// A chat's (or group's), with the chat.
    Chat(&'a DefaultKeyedRateLimiter<String>, String),
}

/// A refused turn: when it comes.
type NotYet = governor::NotUntil<<DefaultClock as Clock>::Instant>;

impl Turn<'_> {
    /// Take the turn now, if it has come.
    fn check(&self) -> Result<(), NotYet> {
        match self {
            Turn::Bot(limiter) => limiter.check(),
            Turn::Chat(limiter, chat) => limiter.check_key(chat),
        }
    }

    /// Wait for the turn and take it.
    async fn until_ready(&self) {
        match self {
            Turn::Bot(limiter) => limiter.until_ready().await,
            Turn::Chat(limiter, chat) => limiter.until_key_ready(chat).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn posting_methods_and_groups_are_told_apart() {
        assert!(posts_message("sendMessage") && posts_message("SENDPHOTO"));
        assert!(posts_message("copyMessages") && posts_message("forwardMessage"));
        assert!(!posts_message("sendChatAction") && !posts_message("restrictChatMember"));
        assert_eq!(target(Some(&json!(-100))), Some(("-100".into(), true)));
        assert_eq!(target(Some(&json!(7))), Some(("7".into(), false)));
        assert_eq!(target(Some(&json!("@news"))), Some(("@news".into(), true)));
        assert_eq!(target(Some(&json!([1]))), None);
        assert_eq!(target(None), None);
    }

    #[test]
    fn a_rate_lets_one_through_then_says_how_long_to_wait() {
        let config = FloodConfig {
            per_second: 0,
            per_chat_per_second: 2,
            ..FloodConfig::default()
        };
        let throttle = Throttle::new(&config, NonZeroU32::MIN).expect("a rate is on");
        let chat = json!(5);
        let post = Some(&chat);
        assert_eq!(throttle.check("sendMessage", post), Ok(()));
        let wait = throttle.check("sendMessage", post).expect_err("too soon");
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500));
        // Another chat, and a method that posts nothing, are not held up.
        assert_eq!(throttle.check("sendMessage", Some(&json!(6))), Ok(()));
        assert_eq!(throttle.check("restrictChatMember", post), Ok(()));
        let config = FloodConfig {
            per_group_per_minute: 0,
            ..config
        };
        let throttle = Throttle::new(&config, NonZeroU32::MIN).expect("a rate is on");
        let group = json!(-100);
        assert_eq!(throttle.check("sendPhoto", Some(&group)), Ok(()));
        let none = FloodConfig {
            per_chat_per_second: 0,
            ..config
        };
        assert!(Throttle::new(&none, NonZeroU32::MIN).is_none());
        let off = FloodConfig {
            enabled: false,
            ..FloodConfig::default()
        };
        assert!(Throttle::new(&off, NonZeroU32::MIN).is_none());
        assert_eq!(off.summary(), "off");
    }
}
