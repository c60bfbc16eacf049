//! The sandbox limits every script call runs under, as one value loaded from `[limits]`.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// Why a script file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScriptReadError {
    /// The file could not be read.
    #[error("{0}")]
    Io(std::io::Error),
    /// The file is over the limit.
    #[error(
        "the script is larger than {0} bytes (raise [limits] max_script_size if it needs more)"
    )]
    TooLarge(usize),
}

/// Resource limits applied to every script evaluation and handler call.
///
/// Each field is a key of the `[limits]` config section (and of `TGSCRIPT_LIMITS_<KEY>`).
/// Errors raised when a limit is hit name the key, so an author knows what to raise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Maximum number of Rhai operations per call (default 10,000,000).
    pub max_operations: u64,
    /// Wall-clock budget per call in milliseconds (default 1,000; 0 = no wall-clock limit),
    /// waits on Telegram, TDLib and HTTP excluded: the script's own time.
    pub timeout_ms: u64,
    /// Wall-clock budget per call in milliseconds, waits on Telegram, TDLib and HTTP included
    /// (default 60,000; 0 = no limit): how long one call may hold its worker in all. A wait
    /// in progress is cut short when it runs out. Left out of the config, it is raised to
    /// `timeout_ms` when that is larger (or 0); set, it may not be smaller than `timeout_ms`.
    pub wall_timeout_ms: u64,
    /// Maximum length of a string in bytes (default 1 MiB); the strings and map keys of one
    /// value together are held to it too.
    pub max_string_size: usize,
    /// Maximum number of items in an array, counting nested arrays (default 10,000).
    ///
    /// Rhai re-measures an array after every change, so growing one costs time quadratic in
    /// its size; this limit bounds that cost too.
    pub max_array_size: usize,
    /// Maximum number of entries in an object map, counting nested maps (default 10,000).
    pub max_map_size: usize,
    /// Maximum depth of nested function calls (default 48).
    pub max_call_levels: usize,
    /// Maximum nesting depth of an expression at the top level (default 64).
    pub max_expr_depth: usize,
    /// Maximum nesting depth of an expression inside a function (default 32).
    pub max_function_expr_depth: usize,
    /// Maximum number of modules one call may import (default 32).
    pub max_modules: usize,
    /// Maximum size of one script or module file, and of a script given as text, in bytes
    /// (default 128 KiB; 0 = no limit): compiling costs more than linear time in the size.
    pub max_script_size: usize,
    /// Maximum number of calls to Telegram or TDLib (Bot API requests, account commands, raw
    /// TDLib requests) one script call may make (default 100; 0 = no limit).
    pub max_api_calls: u32,
    /// Maximum bytes one script call may `print`/`debug` (default 64 KiB; 0 = no limit); the
    /// rest is dropped, with one line saying so.
    pub max_print_size: usize,
    /// Maximum depth of closures captured inside closures (default 1,000): a chain of them is
    /// dropped recursively, and a deep one would overflow the stack.
    pub max_closure_depth: usize,
    /// Maximum bytes of calls one handler may record in the inbox's journal for one update
    /// (default 4 MiB; 0 = no limit): its state reads and writes and its calls to Telegram and
    /// TDLib with their answers.
    pub max_journal_bytes: usize,
    /// Maximum memory one call may hold beyond what it started with, in MiB (default 64; 0 =
    /// no limit): whatever holds it, closures included.
    pub max_memory_mb: usize,
    /// How long a TDLib request may wait for its answer, in milliseconds (default 30,000):
    /// past it the request fails with code 504, as one without an answer.
    pub tdlib_timeout_ms: u64,
    /// Maximum number of scopes (chats, users, members, global) one scenario's state may
    /// span (default 100,000; 0 = no limit); each scope holds at most 1 MiB.
    pub max_state_scopes: usize,
    /// Maximum size of a file `asset()` reads from the scenario folder, in bytes (default
    /// 10 MiB, Telegram's limit on an uploaded photo; 0 = no limit).
    pub max_asset_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 10_000_000,
            timeout_ms: 1_000,
            wall_timeout_ms: DEFAULT_WALL_TIMEOUT_MS,
            max_string_size: 1024 * 1024,
            max_array_size: 10_000,
            max_map_size: 10_000,
            max_call_levels: 48,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_modules: 32,
            max_script_size: 128 * 1024,
            max_api_calls: 100,
            max_print_size: 64 * 1024,
            max_closure_depth: 1_000,
            max_journal_bytes: 4 * 1024 * 1024,
            max_memory_mb: 64,
            tdlib_timeout_ms: 30_000,
            max_state_scopes: 100_000,
            max_asset_size: 10 * 1024 * 1024,
        }
    }
}

/// `wall_timeout_ms` when the config does not set it (60 s).
pub const DEFAULT_WALL_TIMEOUT_MS: u64 = 60_000;

/// Every `[limits]` key, as errors name them.
const KEYS: &[&str] = &[
    "max_operations",
    "timeout_ms",
    "wall_timeout_ms",
    "max_string_size",
    "max_array_size",
    "max_map_size",
    "max_call_levels",
    "max_expr_depth",
    "max_function_expr_depth",
    "max_modules",
    "max_script_size",
    "max_api_calls",
    "max_print_size",
    "max_closure_depth",
    "max_journal_bytes",
    "max_memory_mb",
    "tdlib_timeout_ms",
    "max_state_scopes",
    "max_asset_size",
];

/// The budget `timeout_ms = 0` stands for: long enough never to end a call, short enough to
/// add to an `Instant` without overflow.
const NO_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 86_400);

impl Limits {
    /// The `[limits]` key spelt `name`, if there is one.
    pub fn key(name: &str) -> Option<&'static str> {
        KEYS.iter().copied().find(|k| *k == name)
    }

    /// The wall-clock budget of one call (`timeout_ms = 0`: a century, i.e. none; the
    /// worker's CPU limit still ends a busy loop).
    pub fn timeout(&self) -> Duration {
        match self.timeout_ms {
            0 => NO_TIMEOUT,
            ms => Duration::from_millis(ms),
        }
    }

    /// The wall-clock budget of one call, waits on Telegram, TDLib and HTTP included
    /// (`wall_timeout_ms = 0`: a century, i.e. none).
    pub fn wall_timeout(&self) -> Duration {
        match self.wall_timeout_ms {
            0 => NO_TIMEOUT,
            ms => Duration::from_millis(ms),
        }
    }

    /// Why these limits cannot work together, as the key to change and what is wrong: a
    /// `wall_timeout_ms` (all of a call's time) smaller than `timeout_ms` (its own time, a
    /// part of that) would make `timeout_ms` a lie.
    pub fn refusal(&self) -> Option<(&'static str, String)> {
        let (wall, own) = (self.wall_timeout_ms, self.timeout_ms);
        (wall != 0 && own != 0 && wall < own).then(|| {
            (
                "wall_timeout_ms",
                format!(
                    "is {wall} ms, less than timeout_ms ({own} ms): it bounds a call's whole time, waits on Telegram, TDLib and HTTP included, so it must be at least timeout_ms (or 0 for no wall limit)"
                ),
            )
        })
    }

    /// Fill in `wall_timeout_ms` for a config that left it out: its default unless
    /// `timeout_ms` asks for more (or for no limit, 0), whose value it then takes, so raising
    /// `timeout_ms` alone never makes the config contradict itself.
    pub fn default_wall_timeout(&mut self) {
        if self.timeout_ms == 0 || self.timeout_ms > self.wall_timeout_ms {
            self.wall_timeout_ms = self.timeout_ms;
        }
    }

    /// The text of the script at `path`, read no further than [`Self::max_script_size`] (a
    /// device or a huge file is refused, not read to the end).
    pub fn read_script(&self, path: &Path) -> Result<String, ScriptReadError> {
        use std::io::Read;
        let limit = self.max_script_size;
        let mut text = String::new();
        let most = if limit == 0 {
            u64::MAX
        } else {
            limit as u64 + 1
        };
        std::fs::File::open(path)
            .and_then(|file| file.take(most).read_to_string(&mut text))
            .map_err(ScriptReadError::Io)?;
        if limit > 0 && text.len() > limit {
            return Err(ScriptReadError::TooLarge(limit));
        }
        Ok(text)
    }

    /// Apply every limit to a Rhai engine (the timeout is enforced by [`crate::engine::run`]).
    pub(crate) fn apply(&self, engine: &mut rhai::Engine) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_string_size(self.max_string_size)
            .set_max_array_size(self.max_array_size)
            .set_max_map_size(self.max_map_size)
            .set_max_call_levels(self.max_call_levels)
            .set_max_expr_depths(self.max_expr_depth, self.max_function_expr_depth)
            .set_max_modules(self.max_modules);
    }

    /// One line describing the limits, shown by `tgscript run` at start-up.
    pub fn summary(&self) -> String {
        format!(
            "max_operations={} timeout_ms={} wall_timeout_ms={} max_string_size={} max_array_size={} max_map_size={} max_call_levels={} max_expr_depth={} max_function_expr_depth={} max_modules={} max_script_size={} max_api_calls={} max_print_size={} max_closure_depth={} max_journal_bytes={} max_memory_mb={} tdlib_timeout_ms={} max_state_scopes={} max_asset_size={}",
            self.max_operations,
            self.timeout_ms,
            self.wall_timeout_ms,
            self.max_string_size,
            self.max_array_size,
            self.max_map_size,
            self.max_call_levels,
            self.max_expr_depth,
            self.max_function_expr_depth,
            self.max_modules,
            self.max_script_size,
            self.max_api_calls,
            self.max_print_size,
            self.max_closure_depth,
            self.max_journal_bytes,
            self.max_memory_mb,
            self.tdlib_timeout_ms,
            self.max_state_scopes,
            self.max_asset_size
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout_ms: u64, wall_timeout_ms: u64) -> Limits {
        Limits {
            timeout_ms,
            wall_timeout_ms,
            ..Limits::default()
        }
    }

    #[test]
    fn a_wall_budget_smaller_than_the_scripts_own_is_refused_by_name() {
        assert_eq!(Limits::default().wall_timeout_ms, 60_000);
        assert_eq!(Limits::default().refusal(), None);
        let (key, message) = limits(5_000, 2_000).refusal().expect("refused");
        assert_eq!(key, "wall_timeout_ms");
        assert!(message.contains("timeout_ms (5000 ms)"), "{message}");
        for fine in [(5_000, 5_000), (0, 2_000), (5_000, 0), (0, 0)] {
            assert_eq!(limits(fine.0, fine.1).refusal(), None, "{fine:?}");
        }
    }

    #[test]
    fn a_wall_budget_left_unset_follows_a_larger_or_unlimited_timeout() {
        let mut raised = limits(120_000, DEFAULT_WALL_TIMEOUT_MS);
        raised.default_wall_timeout();
        assert_eq!(raised.wall_timeout_ms, 120_000);
        let mut unlimited = limits(0, DEFAULT_WALL_TIMEOUT_MS);
        unlimited.default_wall_timeout();
        assert_eq!(unlimited.wall_timeout_ms, 0);
        let mut kept = limits(1_000, DEFAULT_WALL_TIMEOUT_MS);
        kept.default_wall_timeout();
        assert_eq!(kept.wall_timeout_ms, DEFAULT_WALL_TIMEOUT_MS);
        assert_eq!(limits(0, 0).wall_timeout(), NO_TIMEOUT);
        assert!(
            Limits::default()
                .summary()
                .contains("wall_timeout_ms=60000")
        );
    }
}
