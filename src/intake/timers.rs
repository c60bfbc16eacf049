//! A bot's job scheduler: it sleeps until the bot's soonest job is due (or its jobs change,
//! or the sandbox's clock moves), then takes the due jobs into the bot's inbox — each run an
//! update of its own, `{"update_id": <negative>, "job": {…}}`, kept in the same transaction
//! that takes the job out — and hands them to the dispatcher. So a job runs once, in order
//! with its chat's updates, with the inbox's guarantees; one due while the process was down
//! runs at the next start, its `late_ms` saying how late.

use super::Intake;
use crate::clock::Clock;
use crate::scenario::route::JOB;
use crate::store::{Store, jobs};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch::Receiver;

/// How many due jobs one transaction takes.
const BATCH: usize = 500;
/// The longest the scheduler sleeps without looking (a backstop: it is woken when jobs
/// change).
const LONGEST_NAP: Duration = Duration::from_secs(60);
/// How long to wait after the database failed before looking again.
const AFTER_FAILURE: Duration = Duration::from_secs(1);

/// What the scheduler of one bot works with.
pub struct Timers {
    /// The bot's intake, which the due jobs are taken in through.
    pub intake: Arc<Intake>,
    /// Where its jobs are kept.
    pub store: Arc<Store>,
    /// Its clock (the sandbox's can be moved).
    pub clock: Arc<Clock>,
}

/// Run due jobs until `stopped`.
pub async fn run(timers: Timers, mut stopped: Receiver<bool>) {
    let bot = timers.intake.bot().to_string();
    let signal = timers.store.job_signal(&bot);
    loop {
        // Listening before looking: a change or a move made meanwhile is not missed.
        let moved = timers.clock.moved();
        tokio::pin!(moved);
        moved.as_mut().enable();
        let now = timers.clock.now_ms();
        let nap = match timers.take_due(&bot, now).await {
            Ok((due, next)) => match (due == BATCH, next) {
                (true, _) => Duration::ZERO,
                (false, Some(due)) => {
                    Duration::from_millis(u64::try_from(due - timers.clock.now_ms()).unwrap_or(0))
                        .min(LONGEST_NAP)
                }
                (false, None) => LONGEST_NAP,
            },
            Err(e) => {
                tracing::error!("bot {bot}: cannot take due jobs: {e}");
                AFTER_FAILURE
            }
        };
        if nap.is_zero() {
            if *stopped.borrow() {
                return;
            }
            continue;
        }
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            () = tokio::time::sleep(nap) => {}
            () = signal.notified() => {}
            () = &mut moved => {}
        }
    }
}

impl Timers {
    /// Take the jobs of `bot` due at `now_ms` in through its intake (each taken out in the
    /// transaction that keeps its run): how many, and when the next is due.
    async fn take_due(&self, bot: &str, now_ms: i64) -> Result<(usize, Option<i64>), String> {
        let owner = bot.to_string();
        let due = self
            .intake
            .take_made(move |tx, next_id| {
                jobs::take_due(tx, &owner, now_ms, BATCH)?
                    .into_iter()
                    .map(|job| Ok(json!({"update_id": next_id(tx)?, JOB: job})))
                    .collect()
            })
            .await
            .map_err(|e| e.to_string())?;
        log_late(bot, &due);
        let store = self.store.clone();
        let bot = bot.to_string();
        let next = tokio::task::spawn_blocking(move || store.next_job_due(&bot))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok((due.len(), next))
    }
}

/// Say so when jobs of `bot` in `due` run a second or more late.
fn log_late(bot: &str, due: &[Value]) {
    if let Some(latest) = due
        .iter()
        .filter_map(|u| u[JOB]["late_ms"].as_i64())
        .max()
        .filter(|late| *late >= 1000)
    {
        tracing::info!(
            "bot {bot}: {} job(s) run up to {} s late (due while the process was down or busy, or the sandbox's clock moved)",
            due.len(),
            latest / 1000
        );
    }
}
