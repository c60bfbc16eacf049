//! A cluster's webhook bot on its owner: its deliveries, written to the cluster's stream by
//! whichever instance got them, are taken from its feed through the bot's [`Intake`] (kept in
//! its inbox, acknowledged to the stream only then, and dispatched); the feed is left between
//! two takes when the bot stops, so nothing taken is dropped.

use super::Intake;
use crate::cluster::ingress::Feed;
use std::time::Duration;
use tokio::sync::watch::Receiver;

/// The wait before taking again after the stream failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Take the updates of `intake`'s bot from `feed` until `stop`.
pub async fn consume(intake: &Intake, feed: Feed, mut stop: Receiver<bool>) {
    let mut failing = false;
    tokio::select! {
        () = feed.wait_for_earlier_takers() => {}
        _ = stop.wait_for(|s| *s) => return,
    }
    while !*stop.borrow() {
        let taken = match feed.take().await {
            Ok(taken) => taken,
            Err(e) => {
                if !failing {
                    tracing::warn!(
                        "bot {}: cannot take webhook updates: {e}; retrying",
                        intake.bot()
                    );
                }
                failing = true;
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        failing = false;
        if taken.updates.is_empty() {
            taken.acknowledge().await;
            continue;
        }
        let (size, updates) = (taken.updates.len(), taken.updates.clone());
        // Acknowledged once kept; refused (the stream gives them again) when not.
        let mut unacknowledged = Some(taken);
        let slot = &mut unacknowledged;
        let kept = intake
            .take(updates, move || async move {
                if let Some(taken) = slot.take() {
                    taken.acknowledge().await;
                }
            })
            .await;
        match kept {
            Ok(()) => intake.status().ok(),
            Err(e) => {
                tracing::error!(
                    "bot {}: cannot keep {size} webhook update(s) in the inbox ({e}); the stream gives them again",
                    intake.bot(),
                );
                if let Some(taken) = unacknowledged {
                    taken.refuse().await;
                }
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}
