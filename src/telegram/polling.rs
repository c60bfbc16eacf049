//! Long polling (`getUpdates`) that acknowledges an update only once the caller says it is
//! kept: Telegram forgets an update when a later request's `offset` passes it, and that
//! offset is only sent after [`Poller::acknowledge`].

use super::update::UpdateKind;
use super::{BotClient, BotError};
use serde_json::{Value, json};
use std::time::Duration;

/// Updates asked for per request (Telegram's maximum).
const BATCH_LIMIT: u32 = 100;

/// A `getUpdates` loop's position.
#[derive(Debug)]
pub struct Poller {
    bot: BotClient,
    timeout: Duration,
    offset: Option<i64>,
}

impl Poller {
    /// Poll through `bot`, each request waiting up to `timeout` for updates.
    pub fn new(bot: BotClient, timeout: Duration) -> Self {
        Self {
            bot,
            timeout,
            offset: None,
        }
    }

    /// The next batch of updates, oldest first (empty when the wait timed out). Updates not
    /// acknowledged yet come again.
    pub async fn fetch(&self) -> Result<Vec<Value>, BotError> {
        self.get_updates(self.timeout, BATCH_LIMIT).await
    }

    /// `batch` is kept: the next request tells Telegram to forget it.
    pub fn acknowledge(&mut self, batch: &[Value]) {
        if let Some(last) = batch.iter().filter_map(|u| u["update_id"].as_i64()).max() {
            self.offset = Some(self.offset.map_or(last + 1, |o| o.max(last + 1)));
        }
    }

    /// Tell Telegram now to forget the acknowledged updates (when stopping).
    pub async fn confirm(&self) -> Result<(), BotError> {
        if self.offset.is_some() {
            self.get_updates(Duration::ZERO, 1).await?;
        }
        Ok(())
    }

    async fn get_updates(&self, timeout: Duration, limit: u32) -> Result<Vec<Value>, BotError> {
        let mut params = json!({
            "timeout": timeout.as_secs(),
            "limit": limit,
            "allowed_updates": UpdateKind::KNOWN.map(UpdateKind::key),
        });
        if let Some(offset) = self.offset {
            params["offset"] = offset.into();
        }
        match self.bot.call("getUpdates", &params).await? {
            Value::Array(updates) => Ok(updates),
            other => Err(BotError::BadResponse(format!(
                "getUpdates returned {other} instead of a list"
            ))),
        }
    }
}
