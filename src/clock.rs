//! The clock scripts and timers go by: the system's, or the sandbox's, which `/wait` moves
//! ahead; whoever waits on time (the job scheduler) is told when it moves.

use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::Notify;

/// Unix time in milliseconds, plus whatever [`Clock::advance`] added.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
    moved: Notify,
}

impl Clock {
    /// The time now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        system_ms().saturating_add(self.offset_ms.load(Ordering::SeqCst))
    }

    /// The time now, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Move the clock `seconds` ahead, and tell who waits on it.
    pub fn advance(&self, seconds: i64) {
        self.offset_ms
            .fetch_add(seconds.saturating_mul(1000), Ordering::SeqCst);
        self.moved.notify_waiters();
    }

    /// Resolves the next time the clock is moved ahead (enable it before looking at the
    /// time, so a move in between is not missed).
    pub fn moved(&self) -> tokio::sync::futures::Notified<'_> {
        self.moved.notified()
    }
}

/// The system clock in Unix milliseconds (0 before 1970).
pub fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Seconds in a duration like `30s`, `10m`, `2h`, `1d` or `1w` (a bare number is seconds).
pub fn duration_seconds(duration: &str) -> Option<i64> {
    let duration = duration.trim();
    let split = duration
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(duration.len());
    let (amount, unit) = duration.split_at(split);
    let unit = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    amount.parse::<i64>().ok()?.checked_mul(unit)
}
