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

    /// `batch` is kept: the next request tells Telegram to forget it. `false` when nothing
    /// in it had an `update_id`, so nothing could be acknowledged.
    pub fn acknowledge(&mut self, batch: &[Value]) -> bool {
        let Some(last) = batch.iter().filter_map(|u| u["update_id"].as_i64()).max() else {
            return false;
        };
        let next = last.saturating_add(1);
        self.offset = Some(self.offset.map_or(next, |o| o.max(next)));
        true
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
            "allowed_updates": UpdateKind::allowed_updates(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn poller() -> Poller {
        let bot = BotClient::new("1:test", Some("http://127.0.0.1:9")).expect("client");
        Poller::new(bot, Duration::ZERO)
    }

    #[test]
    fn the_offset_never_wraps_and_junk_is_not_acknowledged() {
        let mut p = poller();
        assert!(
            !p.acknowledge(&[json!({"no": "update_id"})]),
            "nothing to acknowledge"
        );
        assert_eq!(p.offset, None);
        assert!(p.acknowledge(&[json!({"update_id": 5}), json!({"update_id": 3})]));
        assert_eq!(p.offset, Some(6));
        assert!(p.acknowledge(&[json!({"update_id": i64::MAX})]));
        assert_eq!(
            p.offset,
            Some(i64::MAX),
            "saturates instead of wrapping to i64::MIN"
        );
        assert!(p.acknowledge(&[json!({"update_id": 7})]));
        assert_eq!(p.offset, Some(i64::MAX), "never goes back");
    }
}
