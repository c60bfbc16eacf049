//! A bot's job scheduler: it sleeps until the bot's soonest job is due (or its jobs change,
//! or the sandbox's clock moves), then takes the due jobs into the bot's inbox — each run an
//! update of its own, `{"update_id": <negative>, "job": {…}}`, kept in the same transaction
//! that takes the job out — and hands them to the dispatcher. So a job runs once, in order
//! with its chat's updates, with the inbox's guarantees; one due while the process was down
//! runs at the next start, its `late_ms` saying how late.

use crate::clock::Clock;
use crate::inbox::{Inbox, Origin};
use crate::scenario::dispatch::Dispatcher;
use crate::scenario::route::JOB;
use crate::store::{Store, StoreError, jobs};
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
pub(super) struct Timers {
    pub(super) bot: String,
    pub(super) store: Arc<Store>,
    pub(super) inbox: Option<Arc<Inbox>>,
    pub(super) dispatcher: Arc<Dispatcher>,
    pub(super) clock: Arc<Clock>,
}

/// Run due jobs until `stopped`.
pub(super) async fn run(timers: Timers, mut stopped: Receiver<bool>) {
    let timers = Arc::new(timers);
    let signal = timers.store.job_signal(&timers.bot);
    let mut last_id = 0;
    loop {
        // Listening before looking: a change or a move made meanwhile is not missed.
        let moved = timers.clock.moved();
        tokio::pin!(moved);
        moved.as_mut().enable();
        let now = timers.clock.now_ms();
        let for_thread = timers.clone();
        let looked = tokio::task::spawn_blocking(move || for_thread.take_due(now, last_id))
            .await
            .map_err(|e| e.to_string())
            .and_then(|taken| taken.map_err(|e| e.to_string()));
        let nap = match looked {
            Ok((due, next)) => {
                let full = due.len() == BATCH;
                for update in due {
                    last_id = last_id.min(update["update_id"].as_i64().unwrap_or(last_id));
                    timers.dispatcher.dispatch(update, Origin::Fetched);
                }
                match (full, next) {
                    (true, _) => Duration::ZERO,
                    (false, Some(due)) => Duration::from_millis(
                        u64::try_from(due - timers.clock.now_ms()).unwrap_or(0),
                    )
                    .min(LONGEST_NAP),
                    (false, None) => LONGEST_NAP,
                }
            }
            Err(e) => {
                tracing::error!("bot {}: cannot take due jobs: {e}", timers.bot);
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
    /// Take the jobs due at `now_ms` into the inbox (ids below `last_id` without one) and say
    /// when the next is due.
    fn take_due(&self, now_ms: i64, last_id: i64) -> Result<(Vec<Value>, Option<i64>), StoreError> {
        let due = match &self.inbox {
            Some(inbox) => inbox
                .accept_made(|tx| {
                    jobs::take_due(tx, &self.bot, now_ms, BATCH)?
                        .into_iter()
                        .map(|job| Ok(json!({"update_id": inbox.local_update_id(tx)?, JOB: job})))
                        .collect()
                })
                .map_err(|e| StoreError::Job(e.to_string()))?,
            None => {
                let mut id = last_id;
                self.store
                    .transaction(|tx| jobs::take_due(tx, &self.bot, now_ms, BATCH))?
                    .into_iter()
                    .map(|job| {
                        id = crate::inbox::local_id_after(id);
                        json!({"update_id": id, JOB: job})
                    })
                    .collect()
            }
        };
        if let Some(latest) = due
            .iter()
            .filter_map(|u| u[JOB]["late_ms"].as_i64())
            .max()
            .filter(|late| *late >= 1000)
        {
            tracing::info!(
                "bot {}: {} job(s) run up to {} s late (due while the process was down or busy, or the sandbox's clock moved)",
                self.bot,
                due.len(),
                latest / 1000
            );
        }
        Ok((due, self.store.next_job_due(&self.bot)?))
    }
}
