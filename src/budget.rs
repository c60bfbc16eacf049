//! Budgets one tenant's scripts share across all their calls and workers, kept by the host:
//! bytes of script output written to the log per minute ([`log_budget`]). Past it, the rest
//! of the minute's lines are dropped and counted (`tgscript_script_output_dropped_bytes_total`
//! by tenant): the first line dropped says so, and the tenant's next line after the minute
//! says how much was dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// The metric counting the bytes of script output dropped, by tenant.
pub const OUTPUT_DROPPED: &str = "tgscript_script_output_dropped_bytes_total";

/// How long one budget lasts.
const WINDOW: Duration = Duration::from_secs(60);

/// The default budget: 1 MiB of script output per tenant per minute.
pub const DEFAULT_LOG_BYTES_PER_MINUTE: usize = 1 << 20;

/// Bytes of script output each tenant may write to the log per minute.
pub struct LogBudget {
    /// The budget (0: none).
    per_minute: AtomicUsize,
    /// Each tenant's current minute.
    windows: Mutex<HashMap<String, Window>>,
}

/// One tenant's minute.
struct Window {
    started: Instant,
    used: usize,
    dropped: usize,
}

/// Whether a line may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Write it; before it, say that `dropped` bytes of the tenant's output were dropped in
    /// its last minute (when not 0).
    Yes {
        /// Bytes dropped in the tenant's minute before this one.
        dropped: usize,
    },
    /// Drop it: the tenant's minute is spent (`first`: this is the first line dropped in it,
    /// to be said once).
    No {
        /// The first line dropped in the tenant's minute.
        first: bool,
    },
}

impl LogBudget {
    /// Budgets of `per_minute` bytes (0: none).
    pub fn new(per_minute: usize) -> Self {
        Self {
            per_minute: AtomicUsize::new(per_minute),
            windows: Mutex::default(),
        }
    }

    /// Give each tenant `per_minute` bytes a minute from now on (0: no budget).
    pub fn set_per_minute(&self, per_minute: usize) {
        self.per_minute.store(per_minute, Ordering::Relaxed);
    }

    /// The budget per minute.
    pub fn per_minute(&self) -> usize {
        self.per_minute.load(Ordering::Relaxed)
    }

    /// Whether `tenant`'s line of `bytes` may be written now.
    pub fn admit(&self, tenant: &str, bytes: usize) -> Admit {
        self.admit_at(tenant, bytes, Instant::now())
    }

    fn admit_at(&self, tenant: &str, bytes: usize, now: Instant) -> Admit {
        let budget = self.per_minute();
        if budget == 0 {
            return Admit::Yes { dropped: 0 };
        }
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.entry(tenant.to_string()).or_insert(Window {
            started: now,
            used: 0,
            dropped: 0,
        });
        let mut dropped_before = 0;
        if now.duration_since(window.started) >= WINDOW {
            dropped_before = window.dropped;
            *window = Window {
                started: now,
                used: 0,
                dropped: 0,
            };
        }
        if window.used.saturating_add(bytes) > budget {
            let first = window.dropped == 0;
            window.dropped = window.dropped.saturating_add(bytes);
            metrics::counter!(OUTPUT_DROPPED, "tenant" => tenant.to_string())
                .increment(bytes as u64);
            return Admit::No { first };
        }
        window.used += bytes;
        Admit::Yes {
            dropped: dropped_before,
        }
    }
}

/// The process's log budget (its size set from `[scripts] tenant_log_bytes_per_minute`).
pub fn log_budget() -> &'static LogBudget {
    static BUDGET: OnceLock<LogBudget> = OnceLock::new();
    BUDGET.get_or_init(|| LogBudget::new(DEFAULT_LOG_BYTES_PER_MINUTE))
}

/// The warning said when a tenant's first line is dropped in a minute.
pub fn spent_note(tenant: &str, per_minute: usize) -> String {
    format!(
        "tenant {tenant:?}: its scripts printed more than [scripts] tenant_log_bytes_per_minute ({per_minute} bytes) this minute; the rest of the minute's output is dropped"
    )
}

/// The warning said before a tenant's first line after a minute in which `dropped` bytes of
/// its output were dropped.
pub fn dropped_note(tenant: &str, dropped: usize, per_minute: usize) -> String {
    format!(
        "tenant {tenant:?}: {dropped} bytes of its scripts' output were dropped in the last minute, past [scripts] tenant_log_bytes_per_minute ({per_minute} bytes)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_its_budget_a_tenants_lines_are_dropped_and_counted_others_go_on() {
        let budget = LogBudget::new(10);
        let start = Instant::now();
        assert_eq!(budget.admit_at("a", 6, start), Admit::Yes { dropped: 0 });
        assert_eq!(budget.admit_at("a", 6, start), Admit::No { first: true });
        assert_eq!(budget.admit_at("a", 3, start), Admit::Yes { dropped: 0 });
        assert_eq!(budget.admit_at("a", 7, start), Admit::No { first: false });
        assert_eq!(budget.admit_at("b", 10, start), Admit::Yes { dropped: 0 });
        let later = start + WINDOW;
        assert_eq!(budget.admit_at("a", 1, later), Admit::Yes { dropped: 13 });
        assert_eq!(budget.admit_at("a", 1, later), Admit::Yes { dropped: 0 });
        budget.set_per_minute(0);
        assert_eq!(
            budget.admit_at("a", 1_000, later),
            Admit::Yes { dropped: 0 }
        );
    }
}
