//! A running bot's inbox upkeep: updates `tgscript inbox retry` queued again are handed to
//! its dispatcher through its [`Intake`], and handled updates older than a day are pruned now
//! and then.

use super::Intake;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch::Receiver;

/// How often a running bot looks for updates `inbox retry` queued.
const REQUEUE_EVERY: Duration = Duration::from_secs(1);
/// How often a running bot drops handled updates older than a day.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Hand updates that `tgscript inbox retry` queued to the dispatcher, and now and then prune
/// old handled updates, until `stop` (nothing to do without an inbox).
pub async fn take_requeued(intake: Arc<Intake>, mut stop: Receiver<bool>) {
    let Some(inbox) = intake.inbox().cloned() else {
        return;
    };
    let mut last_prune = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(REQUEUE_EVERY) => {}
        }
        let inbox = inbox.clone();
        let prune = last_prune.elapsed() >= PRUNE_EVERY;
        if prune {
            last_prune = std::time::Instant::now();
        }
        let looked = tokio::task::spawn_blocking(move || {
            if prune && let Err(e) = inbox.prune() {
                tracing::warn!("{e}");
            }
            inbox.requeued()
        });
        match looked.await {
            Ok(Ok(updates)) => {
                for update in &updates {
                    tracing::info!(
                        "inbox: update {} queued again by `inbox retry`",
                        update["update_id"]
                    );
                }
                intake.hand_stored(updates);
            }
            Ok(Err(e)) => tracing::warn!("{e}"),
            Err(e) => tracing::warn!("inbox: {e}"),
        }
    }
}
