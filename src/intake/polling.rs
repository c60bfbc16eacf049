//! Long polling: `getUpdates` asked until the bot stops, each batch taken in through the
//! bot's [`Intake`] (kept, then acknowledged by the next request's offset, then dispatched);
//! without an inbox fetching pauses while [`MAX_BACKLOG`] updates wait for their handlers
//! (with one, the intake holds what comes next in the inbox), and backs off while Telegram
//! does not answer.

use super::{Intake, MAX_BACKLOG};
use crate::telegram::polling::Poller;
use crate::telegram::{BotClient, BotError};
use std::time::Duration;
use tokio::sync::watch::Receiver;

/// Long-polling timeout of `getUpdates`.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait before asking again after `getUpdates` failed.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(30);

/// Resolves once `stop` has been set.
pub async fn stopped(mut stop: Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Fetch updates until `stop`: keep each batch in the inbox before it is acknowledged, then
/// hand the updates not seen before to the dispatcher. Without an inbox, fetching pauses
/// while [`MAX_BACKLOG`] of them wait for their handlers.
pub async fn poll(poller: &mut Poller, intake: &Intake, stop: Receiver<bool>) {
    let mut backoff = Duration::from_secs(1);
    let progress = intake.dispatcher().progress();
    loop {
        if intake.inbox().is_none() {
            tokio::select! {
                _ = stopped(stop.clone()) => return,
                _ = progress.wait_backlog_below(MAX_BACKLOG) => {}
            }
        }
        let fetched = tokio::select! {
            _ = stopped(stop.clone()) => return,
            fetched = poller.fetch() => fetched,
        };
        match &fetched {
            Ok(_) => intake.status().ok(),
            Err(e) => intake
                .status()
                .failed(&crate::logging::redact(&e.to_string())),
        }
        let failure = match fetched {
            Ok(batch) if batch.is_empty() => None,
            Ok(batch) => {
                let size = batch.len();
                let acknowledge = || {
                    let acknowledged = poller.acknowledge(&batch);
                    async move { acknowledged }
                };
                match intake.take(batch.clone(), acknowledge).await {
                    // Items without an update_id cannot be acknowledged and would come again
                    // at once: wait before asking again.
                    Ok(true) => None,
                    Ok(false) => Some(format!(
                        "getUpdates returned {size} item(s) without an update_id; they are skipped"
                    )),
                    Err(e) => Some(format!(
                        "cannot keep {size} update(s) in the inbox ({e}); they are not acknowledged and come again"
                    )),
                }
            }
            Err(e @ BotError::Api { code: 409, .. }) => Some(format!(
                "getUpdates refused ({e}): another process is polling this bot, or a webhook is set; stop it"
            )),
            Err(e) => Some(format!(
                "getUpdates failed: {}",
                crate::logging::redact(&e.to_string())
            )),
        };
        let Some(failure) = failure else {
            backoff = Duration::from_secs(1);
            continue;
        };
        tracing::warn!("{failure}; asking again in {} s", backoff.as_secs());
        tokio::select! {
            _ = stopped(stop.clone()) => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_POLL_BACKOFF);
    }
}

/// A polling bot may not have a webhook (Telegram refuses `getUpdates` then): one that is set
/// is removed, and said so.
pub async fn remove_webhook(id: &str, client: &BotClient) {
    let info = client.call("getWebhookInfo", &serde_json::json!({})).await;
    let url = match &info {
        Ok(info) => info["url"].as_str().unwrap_or_default().to_string(),
        Err(e) => {
            tracing::warn!("bot {id}: getWebhookInfo failed ({e}); removing any webhook to poll");
            String::new()
        }
    };
    if info.is_ok() && url.is_empty() {
        return;
    }
    if !url.is_empty() {
        tracing::warn!(
            "bot {id}: removing its webhook {url} to poll for updates (set mode = \"webhook\" to keep it)"
        );
    }
    if let Err(e) = client.call("deleteWebhook", &serde_json::json!({})).await {
        tracing::warn!("bot {id}: deleteWebhook failed, polling anyway: {e}");
    }
}
