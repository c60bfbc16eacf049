//! Figures each bot's handling makes over time, kept by the process for the web console's
//! charts: a small ring of samples per bot, one per [`STEP_SECONDS`] (the last
//! [`KEEP`]), each counting the updates handled and failed, the updates parked and the time
//! the handlers took in that step. Nothing is stored: a restart begins again.

use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long one sample covers, in seconds.
pub const STEP_SECONDS: i64 = 2;
/// How many samples a bot keeps (five minutes).
pub const KEEP: usize = 150;

/// What happened in one step.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    /// The step: Unix seconds / [`STEP_SECONDS`].
    step: i64,
    /// Tries of updates whose handlers all finished.
    handled: u64,
    /// Tries that failed.
    failed: u64,
    /// Updates parked after their last try.
    parked: u64,
    /// The seconds all tries took together.
    seconds: f64,
}

/// The samples of every bot.
#[derive(Debug, Default)]
pub struct Figures {
    bots: Mutex<HashMap<String, VecDeque<Sample>>>,
}

/// The process's figures.
pub fn recent() -> &'static Figures {
    static FIGURES: OnceLock<Figures> = OnceLock::new();
    FIGURES.get_or_init(Figures::default)
}

/// The step of the current time.
fn step_now() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(seconds).unwrap_or(i64::MAX) / STEP_SECONDS
}

impl Figures {
    /// Change the current sample of `bot` with `change`.
    fn change(&self, bot: &str, change: impl FnOnce(&mut Sample)) {
        let step = step_now();
        let mut bots = self.bots.lock().unwrap_or_else(PoisonError::into_inner);
        let samples = bots.entry(bot.to_string()).or_default();
        if samples.back().is_none_or(|last| last.step != step) {
            if samples.len() == KEEP {
                samples.pop_front();
            }
            samples.push_back(Sample {
                step,
                ..Sample::default()
            });
        }
        if let Some(sample) = samples.back_mut() {
            change(sample);
        }
    }

    /// One try of an update of `bot` took `seconds`, and its handlers finished (`ok`) or
    /// failed.
    pub fn tried(&self, bot: &str, seconds: f64, ok: bool) {
        self.change(bot, |sample| {
            match ok {
                true => sample.handled += 1,
                false => sample.failed += 1,
            }
            sample.seconds += seconds;
        });
    }

    /// An update of `bot` was parked.
    pub fn parked(&self, bot: &str) {
        self.change(bot, |sample| sample.parked += 1);
    }

    /// The figures of `bot` over the last [`KEEP`] steps up to now, oldest first (a step
    /// with nothing is a zero, its latency `null`): `{step_seconds, until, updates_per_second,
    /// latency_ms, failures, parked}`, `until` the Unix time the last step ends.
    pub fn of(&self, bot: &str) -> Value {
        let now = step_now();
        let first = now - KEEP as i64 + 1;
        let bots = self.bots.lock().unwrap_or_else(PoisonError::into_inner);
        let mut steps = vec![Sample::default(); KEEP];
        for sample in bots.get(bot).into_iter().flatten() {
            if let Ok(i) = usize::try_from(sample.step - first)
                && let Some(slot) = steps.get_mut(i)
            {
                *slot = *sample;
            }
        }
        let tries = |s: &Sample| s.handled + s.failed;
        json!({
            "step_seconds": STEP_SECONDS,
            "until": (now + 1) * STEP_SECONDS,
            "updates_per_second": steps.iter().map(|s| tries(s) as f64 / STEP_SECONDS as f64).collect::<Vec<_>>(),
            "latency_ms": steps.iter().map(|s| match tries(s) {
                0 => Value::Null,
                n => json!((s.seconds * 1000.0 / n as f64 * 100.0).round() / 100.0),
            }).collect::<Vec<_>>(),
            "failures": steps.iter().map(|s| s.failed).collect::<Vec<_>>(),
            "parked": steps.iter().map(|s| s.parked).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bots_figures_are_the_last_steps_with_what_each_counted() {
        let figures = Figures::default();
        figures.tried("a", 0.010, true);
        figures.tried("a", 0.030, false);
        figures.parked("a");
        figures.tried("b", 0.5, true);
        let a = figures.of("a");
        let rates = a["updates_per_second"].as_array().expect("rates");
        assert_eq!(rates.len(), KEEP);
        // The tries may straddle a step's end: what they counted is in the last two.
        let tail = |key: &str| -> Vec<Value> { a[key].as_array().expect(key)[KEEP - 2..].to_vec() };
        let total: f64 = tail("updates_per_second")
            .iter()
            .filter_map(Value::as_f64)
            .sum();
        assert_eq!(total * STEP_SECONDS as f64, 2.0);
        let failures: u64 = tail("failures").iter().filter_map(Value::as_u64).sum();
        assert_eq!(failures, 1);
        let parked: u64 = tail("parked").iter().filter_map(Value::as_u64).sum();
        assert_eq!(parked, 1);
        assert!(a["latency_ms"][0].is_null(), "an empty step has no latency");
        assert!(
            figures.of("c")["failures"]
                .as_array()
                .expect("zeros")
                .iter()
                .all(|f| f == 0)
        );
    }
}
