//! The sandbox limits every script call runs under, as one value loaded from `[limits]`.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Resource limits applied to every script evaluation and handler call.
///
/// Each field is a key of the `[limits]` config section (and of `TGSCRIPT_LIMITS_<KEY>`).
/// Errors raised when a limit is hit name the key, so an author knows what to raise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Maximum number of Rhai operations per call (default 10,000,000).
    pub max_operations: u64,
    /// Wall-clock budget per call in milliseconds (default 1,000).
    pub timeout_ms: u64,
    /// Maximum length of a string in bytes (default 1 MiB).
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 10_000_000,
            timeout_ms: 1_000,
            max_string_size: 1024 * 1024,
            max_array_size: 10_000,
            max_map_size: 10_000,
            max_call_levels: 48,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_modules: 32,
        }
    }
}

impl Limits {
    /// The wall-clock budget of one call.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
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
            "max_operations={} timeout_ms={} max_string_size={} max_array_size={} max_map_size={} max_call_levels={} max_expr_depth={} max_function_expr_depth={} max_modules={}",
            self.max_operations,
            self.timeout_ms,
            self.max_string_size,
            self.max_array_size,
            self.max_map_size,
            self.max_call_levels,
            self.max_expr_depth,
            self.max_function_expr_depth,
            self.max_modules
        )
    }
}
