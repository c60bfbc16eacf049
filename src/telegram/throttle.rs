//! Proactive flood control: Telegram's published limits (about 30 messages a second per
//! bot, one a second per chat, 20 a minute per group) kept before a request goes out, rather
//! than waited out after a `429`. A message *reserves* its send time under all its rates at
//! once: the first time at or after its chat's and group's next free slot (each a GCRA
//! schedule: one interval after the chat's previous message) that is one bot interval away
//! from every other message the bot has booked. So messages are evenly spaced (20 a minute is
//! one every three seconds), a message waiting for its group does not hold up other chats,
//! and no rate is exceeded however they interleave (limiter crates such as `governor` take
//! each rate's turn separately, and a turn taken while waiting for another goes stale).
//!
//! Every rate counts the requests that post into a chat ([`posts_message`]); moderation
//! (restricting, banning, deleting) and reads are not held back. A group is a chat whose id
//! is negative or an `@username`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// `[flood]`: the rates a bot keeps to; 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    // Bytes, not `str` slices: a script may name any method, in any characters.
    let starts = |prefix: &str| {
        method
            .as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    (starts("send") && !method.eq_ignore_ascii_case("sendChatAction"))
        || starts("copyMessage")
        || starts("forwardMessage")
}

/// The chat a request's `chat_id` names, and whether it is a group.
fn target(chat_id: Option<&Value>) -> Option<(String, bool)> {
    match chat_id? {
        Value::Number(n) => Some((n.to_string(), n.as_i64().is_some_and(|id| id < 0))),
        Value::String(s) => Some((s.clone(), s.starts_with('@') || s.starts_with('-'))),
        _ => None,
    }
}

/// How many reservations pass between sweeps of the chats whose schedule is idle again.
const SWEEP_EVERY: u32 = 4096;

/// The spacing of each rate (`None`: off).
#[derive(Debug, Clone, Copy)]
struct Intervals {
    bot: Option<Duration>,
    chat: Option<Duration>,
    group: Option<Duration>,
}

/// When each rate next has a free slot (its theoretical arrival time), and the send times the
/// bot has booked.
#[derive(Debug, Default)]
struct Schedule {
    bot: Option<Instant>,
    booked: BTreeSet<Instant>,
    chats: HashMap<String, Instant>,
    groups: HashMap<String, Instant>,
    reservations: u32,
}

/// One bot's flood control (or a server's enforcement of it).
#[derive(Debug)]
pub struct Throttle {
    intervals: Intervals,
    /// How many messages may come at once: 1 for a bot; a server enforcing the limits
    /// tolerates a little jitter.
    burst: u32,
    schedule: Mutex<Schedule>,
}

impl Throttle {
    /// The schedule for `config`, `burst` messages at once (at least 1). `None` when every
    /// rate is off.
    pub fn new(config: &FloodConfig, burst: u32) -> Option<Self> {
        if !config.enabled {
            return None;
        }
        let every = |count: u32, period: Duration| (count > 0).then(|| period / count);
        let second = Duration::from_secs(1);
        let intervals = Intervals {
            bot: every(config.per_second, second),
            chat: every(config.per_chat_per_second, second),
            group: every(config.per_group_per_minute, second * 60),
        };
        let on = intervals.bot.is_some() || intervals.chat.is_some() || intervals.group.is_some();
        on.then(|| Self {
            intervals,
            burst: burst.max(1),
            schedule: Mutex::default(),
        })
    }

    /// Wait until `method` for the chat `chat_id` may go out under every rate; returns how
    /// long it was held back (zero when it went at once).
    pub async fn wait(&self, method: &str, chat_id: Option<&Value>) -> Duration {
        let now = Instant::now();
        let at = self.reserve(method, chat_id, now);
        if at <= now {
            return Duration::ZERO;
        }
        tokio::time::sleep_until(at.into()).await;
        at - now
    }

    /// Whether `method` for the chat `chat_id` may go out now: `Err` with how long until it
    /// could when a rate is exceeded (what a server enforcing the limits answers with a
    /// `429`); a message let through takes its slots.
    pub fn check(&self, method: &str, chat_id: Option<&Value>) -> Result<(), Duration> {
        let now = Instant::now();
        let Some(slots) = self.slots(method, chat_id) else {
            return Ok(());
        };
        let mut schedule = self.schedule.lock().unwrap_or_else(PoisonError::into_inner);
        let tolerance = |interval: Duration| interval * (self.burst - 1);
        let wait = slots
            .iter()
            .filter_map(|(slot, interval)| {
                let free = schedule.next(slot)?.checked_sub(tolerance(*interval))?;
                free.checked_duration_since(now).filter(|d| !d.is_zero())
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        for (slot, interval) in &slots {
            let next = schedule.next(slot).map_or(now, |t| t.max(now)) + *interval;
            schedule.set(slot, next);
        }
        schedule.sweep(now);
        Ok(())
    }

    /// Book `method` for `chat_id` at the first time every rate allows from `now` (see the
    /// module's doc) and take its slots; returns that time.
    fn reserve(&self, method: &str, chat_id: Option<&Value>, now: Instant) -> Instant {
        let Some(slots) = self.slots(method, chat_id) else {
            return now;
        };
        let mut schedule = self.schedule.lock().unwrap_or_else(PoisonError::into_inner);
        let mut at = slots
            .iter()
            .filter(|(slot, _)| !matches!(slot, Slot::Bot))
            .filter_map(|(slot, _)| schedule.next(slot))
            .fold(now, Instant::max);
        if let Some(interval) = self.intervals.bot {
            // Booked times are an interval apart: one pass finds the first gap that fits.
            let from = at.checked_sub(interval).unwrap_or(at);
            for booked in schedule.booked.range(from..) {
                if *booked >= at + interval {
                    break;
                }
                at = at.max(*booked + interval);
            }
            schedule.booked.insert(at);
            let past = now.checked_sub(interval).unwrap_or(now);
            schedule.booked = schedule.booked.split_off(&past);
        }
        for (slot, interval) in slots.iter().filter(|(slot, _)| !matches!(slot, Slot::Bot)) {
            schedule.set(slot, at + *interval);
        }
        schedule.sweep(now);
        at
    }

    /// The rates `method` for `chat_id` counts against, each with its interval; `None` when
    /// it does not post a message.
    fn slots(&self, method: &str, chat_id: Option<&Value>) -> Option<Vec<(Slot, Duration)>> {
        if !posts_message(method) {
            return None;
        }
        let mut slots = Vec::with_capacity(3);
        if let Some(interval) = self.intervals.bot {
            slots.push((Slot::Bot, interval));
        }
        if let Some((chat, group)) = target(chat_id) {
            if let (Some(interval), true) = (self.intervals.group, group) {
                slots.push((Slot::Group(chat.clone()), interval));
            }
            if let Some(interval) = self.intervals.chat {
                slots.push((Slot::Chat(chat), interval));
            }
        }
        Some(slots)
    }
}

/// One rate's schedule a message takes a slot in.
#[derive(Debug)]
enum Slot {
    /// The bot's own.
    Bot,
    /// A chat's.
    Chat(String),
    /// A group's (per minute).
    Group(String),
}

impl Schedule {
    /// When `slot`'s rate next has a free slot (`None`: never used, or idle again).
    fn next(&self, slot: &Slot) -> Option<Instant> {
        match slot {
            Slot::Bot => self.bot,
            Slot::Chat(chat) => self.chats.get(chat).copied(),
            Slot::Group(chat) => self.groups.get(chat).copied(),
        }
    }

    fn set(&mut self, slot: &Slot, next: Instant) {
        match slot {
            Slot::Bot => self.bot = Some(next),
            Slot::Chat(chat) => {
                self.chats.insert(chat.clone(), next);
            }
            Slot::Group(chat) => {
                self.groups.insert(chat.clone(), next);
            }
        }
    }

    /// Now and then, forget the chats whose next slot has passed (they hold nothing back).
    fn sweep(&mut self, now: Instant) {
        self.reservations = self.reservations.wrapping_add(1);
        if self.reservations.is_multiple_of(SWEEP_EVERY) {
            self.chats.retain(|_, next| *next > now);
            self.groups.retain(|_, next| *next > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn posting_methods_and_groups_are_told_apart() {
        assert!(posts_message("sendMessage") && posts_message("SENDPHOTO"));
        assert!(posts_message("copyMessages") && posts_message("forwardMessage"));
        assert!(!posts_message("sendChatAction") && !posts_message("restrictChatMember"));
        assert!(!posts_message("sеnd") && !posts_message("") && !posts_message("ѕ"));
        assert_eq!(target(Some(&json!(-100))), Some(("-100".into(), true)));
        assert_eq!(target(Some(&json!(7))), Some(("7".into(), false)));
        assert_eq!(target(Some(&json!("@news"))), Some(("@news".into(), true)));
        assert_eq!(target(Some(&json!([1]))), None);
        assert_eq!(target(None), None);
    }

    #[test]
    fn every_rate_holds_even_while_another_is_saturated() {
        // 10 a second per bot, 2 a second per chat: posts into chats 1, 2 and 1 again at
        // once go at 0, 100 and 500 ms: the third waits for its chat, not only for the bot.
        let config = FloodConfig {
            per_second: 10,
            per_chat_per_second: 2,
            per_group_per_minute: 0,
            ..FloodConfig::default()
        };
        let throttle = Throttle::new(&config, 1).expect("rates on");
        let t0 = Instant::now();
        let at = |chat: i64| throttle.reserve("sendMessage", Some(&json!(chat)), t0) - t0;
        assert_eq!([at(1), at(2), at(1)], [Duration::ZERO, 100 * MS, 500 * MS]);
        // A post into chat 3 takes the free slot at 200 ms, before the third: one waiting
        // for its chat holds up no other; then 300 and 400 ms, and 600 ms past the third.
        assert_eq!(
            [at(3), at(4), at(5), at(6)],
            [200, 300, 400, 600].map(|n| n * MS)
        );
        // A mute is never held back.
        let mute = throttle.reserve("restrictChatMember", Some(&json!(1)), t0);
        assert_eq!(mute, t0);
    }

    #[test]
    fn a_server_check_tolerates_its_burst_and_says_how_long_to_wait() {
        let config = FloodConfig {
            per_second: 0,
            per_chat_per_second: 2,
            per_group_per_minute: 0,
            ..FloodConfig::default()
        };
        let chat = json!(5);
        let strict = Throttle::new(&config, 1).expect("rates on");
        assert_eq!(strict.check("sendMessage", Some(&chat)), Ok(()));
        let wait = strict
            .check("sendMessage", Some(&chat))
            .expect_err("too soon");
        assert!(wait > 400 * MS && wait <= 500 * MS, "{wait:?}");
        assert_eq!(strict.check("sendMessage", Some(&json!(6))), Ok(()));
        let lenient = Throttle::new(&config, 2).expect("rates on");
        assert_eq!(lenient.check("sendMessage", Some(&chat)), Ok(()));
        assert_eq!(lenient.check("sendMessage", Some(&chat)), Ok(()));
        assert!(lenient.check("sendMessage", Some(&chat)).is_err());
        let off = FloodConfig {
            enabled: false,
            ..FloodConfig::default()
        };
        assert!(Throttle::new(&off, 1).is_none());
        assert_eq!(off.summary(), "off");
        let none = FloodConfig {
            per_chat_per_second: 0,
            ..config
        };
        assert!(Throttle::new(&none, 1).is_none());
    }
}
