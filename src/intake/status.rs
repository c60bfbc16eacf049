//! How one bot of a `run` is doing: whether it reaches the Bot API, when it last polled
//! successfully or got a delivery, and the last error (for `/health` and `list_bots`).

use crate::effects::system_now;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};

/// How one bot is doing, as its poll loop, deliveries and probes see it.
#[derive(Debug)]
pub struct BotStatus {
    reachable: AtomicBool,
    last_ok: AtomicI64,
    last_error: Mutex<Option<String>>,
}

impl Default for BotStatus {
    /// Reachable as of now: a bot starts once `getMe` or `setWebhook` answered.
    fn default() -> Self {
        Self {
            reachable: AtomicBool::new(true),
            last_ok: AtomicI64::new(system_now()),
            last_error: Mutex::new(None),
        }
    }
}

impl BotStatus {
    /// The Bot API answered (a poll), or Telegram delivered an update.
    pub fn ok(&self) {
        self.reachable.store(true, Ordering::SeqCst);
        self.last_ok.store(system_now(), Ordering::SeqCst);
    }

    /// The Bot API could not be reached, or refused the bot: `error`.
    pub fn failed(&self, error: &str) {
        self.reachable.store(false, Ordering::SeqCst);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error.to_string());
    }

    /// The Bot API answers again (without an update to show for it).
    pub fn reachable_again(&self) {
        self.reachable.store(true, Ordering::SeqCst);
    }

    /// When the bot last polled successfully or got a delivery (Unix seconds).
    pub fn last_ok(&self) -> i64 {
        self.last_ok.load(Ordering::SeqCst)
    }

    /// The last error reaching the Bot API, if any.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the bot reaches the Bot API.
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::SeqCst)
    }

    /// As `/health` shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "reachable": self.reachable(),
            "last_ok": self.last_ok.load(Ordering::SeqCst),
            "last_error": *self.last_error.lock().unwrap_or_else(PoisonError::into_inner),
        })
    }
}
