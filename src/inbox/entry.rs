//! What the inbox tells about its updates: where each stands, its `inbox list` entry, what a
//! failed try led to, and what a previous run left.

use super::InboxError;
use serde_json::Value;

/// Where an update stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Received and not yet fully handled.
    Pending,
    /// Parked, then queued again by `inbox retry`; a running `run` takes it up.
    Retry,
    /// Every handler finished.
    Done,
    /// Its handlers failed on every try.
    Parked,
}

impl Status {
    /// The name stored and shown by `inbox list`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Retry => "retry",
            Status::Done => "done",
            Status::Parked => "parked",
        }
    }

    /// The status stored as `text`; anything else is an error (a database written by
    /// something else), never a guess.
    pub(super) fn parse(text: &str) -> Result<Status, InboxError> {
        [Status::Pending, Status::Retry, Status::Done, Status::Parked]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| InboxError::UnknownStatus(text.to_string()))
    }
}

/// One update as `inbox list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    /// Telegram's `update_id`.
    pub update_id: i64,
    /// The chat (or, without one, the user) it belongs to; 0 for neither.
    pub chat: i64,
    /// `message`, `callback_query`, ...
    pub kind: String,
    /// Where it stands.
    pub status: Status,
    /// Tries so far, the running one included (a try the process did not survive counts).
    pub attempts: u32,
    /// The last failure, `file:line:col message [scenario handler]`.
    pub error: Option<String>,
    /// When it was received, Unix seconds.
    pub received_at: i64,
}

/// What a failed try led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// It gets another try; `attempts` tries have failed so far.
    Retry {
        /// Failed tries so far.
        attempts: u32,
    },
    /// It was parked after `attempts` failed tries.
    Parked {
        /// Failed tries.
        attempts: u32,
    },
}

/// What a previous run left.
#[derive(Debug, Default)]
pub struct Unfinished {
    /// Updates whose try the process did not survive, in arrival order: run them one at a
    /// time, so a crash counts against the update that caused it and no other.
    pub interrupted: Vec<Value>,
    /// Updates that never started (or were queued by `inbox retry`), in arrival order.
    pub waiting: Vec<Value>,
}

/// Where a try of an update starts from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Try {
    /// Its first: nothing was recorded for the update, so nothing is read back.
    pub first: bool,
    /// Scenarios whose handler finished on an earlier try.
    pub finished: std::collections::HashSet<String>,
    /// Whether an earlier try failed.
    pub had_failed: bool,
    /// Whether the try before was cut short (the process stopped during it).
    pub interrupted: bool,
}

/// Where an update handed to the dispatcher comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Fetched and kept by this process just now: never tried, nothing recorded for it, so
    /// its first try reads nothing back.
    Fetched,
    /// Read back from the inbox (left by a previous run, or queued by `inbox retry`).
    Stored,
}
