//! Group commit. Writes are queued ([`Store::submit`]), and whoever takes the connection
//! next — the store's committer thread, a writer waiting for its write, a reader, another
//! transaction — runs everything queued, in order, in one transaction: one commit carries
//! the records of many chats instead of one commit each.
//!
//! Order is kept: a write is committed no later than anything submitted or begun after it,
//! so a call recorded in flight before it is sent (a write that is waited for) also commits
//! every answer and completion queued before it. A writer that does not wait (a completion
//! mark, whose loss on a crash only means a replay) has its write committed by the committer
//! thread within moments; a failure is logged with the context it was given.

use super::{Durability, Store, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Reports the batch's commit to a queued write: `None` when it committed, else why not.
type Settle = Box<dyn FnOnce(Option<&str>) + Send>;
/// A queued write: runs inside the batch's transaction and says whether it succeeded.
type Run = Box<dyn FnOnce(&Connection) -> (bool, Settle) + Send>;

/// A write waiting in the queue.
pub(super) struct Queued {
    durability: Durability,
    run: Run,
}

/// The writes not yet run, and the committer thread's state.
#[derive(Default)]
pub(super) struct Queue {
    jobs: Vec<Queued>,
    /// The committer thread waits for work.
    sleeping: bool,
    /// The store is going away: the committer thread runs what is left and ends.
    closed: bool,
}

/// Where a queued write's outcome is left for its writer.
struct Slot<R> {
    outcome: Mutex<Option<Result<R, StoreError>>>,
    /// Set when nobody will wait: a failure is logged with these words instead.
    detached: Mutex<Option<String>>,
}

/// The outcome of a write given to [`Store::submit`]: wait for it, or let it go.
#[must_use = "wait for the write, or detach it with words for the log"]
pub struct Pending<R> {
    slot: Arc<Slot<R>>,
    store: Arc<super::Shared>,
}

impl<R> Pending<R> {
    /// Wait until the write is committed (taking the connection and committing the queue if
    /// nobody else is), and return what it returned.
    pub fn wait(self) -> Result<R, StoreError> {
        drop(lock(&self.store));
        self.slot
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_else(|| {
                Err(StoreError::CommitFailed(
                    "the database failed before this write was made (see the log)".into(),
                ))
            })
    }

    /// Do not wait: the write is committed soon; if it fails, the failure is logged after
    /// `context` (which says what was written and what its loss means).
    pub fn detach(self, context: String) {
        *self
            .slot
            .detached
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(context);
        // It may have run already.
        let done = self
            .slot
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(Err(e)) = done {
            log_failure(&self.slot, &e);
        }
    }
}

fn log_failure<R>(slot: &Slot<R>, error: &StoreError) {
    if let Some(context) = slot
        .detached
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_deref()
    {
        tracing::warn!("{context}: {error}");
    }
}

impl Store {
    /// Queue `write` for the next commit (in a transaction shared with other writes, in a
    /// savepoint of its own: if it fails, only its own changes are undone), committed at least
    /// as far as `durability` says.
    pub(crate) fn submit<R: Send + 'static>(
        &self,
        durability: Durability,
        write: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Pending<R> {
        let slot = Arc::new(Slot {
            outcome: Mutex::new(None),
            detached: Mutex::new(None),
        });
        let out = slot.clone();
        let run: Run = Box::new(move |connection| {
            let result = write(connection);
            let ok = result.is_ok();
            let settle: Settle = Box::new(move |failed| {
                let result = match failed {
                    Some(why) => Err(StoreError::CommitFailed(why.to_string())),
                    None => result,
                };
                if let Err(e) = &result
                    && out
                        .detached
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .is_some()
                {
                    log_failure(&out, e);
                    return;
                }
                *out.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
            });
            (ok, settle)
        });
        let shared = &self.shared;
        let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.jobs.push(Queued { durability, run });
        if queue.sleeping {
            shared.ready.notify_one();
        }
        drop(queue);
        Pending {
            slot,
            store: shared.clone(),
        }
    }
}

/// The connection of `shared`, with every queued write committed first.
pub(super) fn lock(shared: &super::Shared) -> MutexGuard<'_, Connection> {
    let mut connection = shared
        .connection
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let jobs = take(shared);
    if !jobs.is_empty() {
        let _ = batch(shared, &mut connection, jobs, Durability::Process, |_| {
            Ok::<(), StoreError>(())
        });
    }
    connection
}

/// Everything queued so far.
pub(super) fn take(shared: &super::Shared) -> Vec<Queued> {
    std::mem::take(
        &mut shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .jobs,
    )
}

/// Run `jobs`, then `f`, in one transaction committed as far as the strongest of them needs;
/// each in a savepoint of its own, so one that fails leaves the others. Returns what `f`
/// returned; the jobs are told how the commit went.
pub(super) fn batch<R, E: From<StoreError>>(
    shared: &super::Shared,
    connection: &mut Connection,
    jobs: Vec<Queued>,
    durability: Durability,
    f: impl FnOnce(&Connection) -> Result<R, E>,
) -> Result<R, E> {
    let durability = jobs
        .iter()
        .map(|job| job.durability)
        .fold(durability, Durability::stronger);
    let queued = jobs.len();
    let mut settles = Vec::with_capacity(queued);
    let committed = (|| {
        // The level is set before the transaction begins, never restored after: a failure
        // here leaves nothing half done.
        let relaxed = durability == Durability::Process;
        if shared.relaxed.load(Ordering::Relaxed) != relaxed {
            let level = if relaxed { "NORMAL" } else { "FULL" };
            connection.pragma_update(None, "synchronous", level)?;
            shared.relaxed.store(relaxed, Ordering::Relaxed);
        }
        // IMMEDIATE: the write lock is taken (or waited for, up to busy_timeout) at the
        // start; a deferred transaction that read first would fail at once on a busy database.
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for job in jobs {
            tx.prepare_cached("SAVEPOINT queued")?.execute([])?;
            let (ok, settle) = (job.run)(&tx);
            settles.push(settle);
            undo_unless(&tx, ok)?;
        }
        tx.prepare_cached("SAVEPOINT queued")?.execute([])?;
        let value = f(&tx);
        undo_unless(&tx, value.is_ok())?;
        tx.commit()?;
        Ok(value)
    })();
    let failed = committed.as_ref().err().map(ToString::to_string);
    if let Some(why) = &failed
        && settles.len() < queued
    {
        tracing::warn!(
            "{} queued database write(s) not made: {why}",
            queued - settles.len()
        );
    }
    for settle in settles {
        settle(failed.as_deref());
    }
    committed.map_err(|e| E::from(StoreError::Commit(e)))?
}

/// End the savepoint `queued`, undoing what was done in it unless `ok`.
fn undo_unless(tx: &Connection, ok: bool) -> rusqlite::Result<()> {
    if !ok {
        tx.prepare_cached("ROLLBACK TO queued")?.execute([])?;
    }
    tx.prepare_cached("RELEASE queued")?.execute([])?;
    Ok(())
}

/// The committer thread of a store: commits what is queued whenever something is, until
/// the store closes (then commits what is left).
pub(super) fn committer(shared: Arc<super::Shared>) {
    loop {
        {
            let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            while queue.jobs.is_empty() && !queue.closed {
                queue.sleeping = true;
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                queue.sleeping = false;
            }
            if queue.jobs.is_empty() && queue.closed {
                return;
            }
        }
        drop(lock(&shared));
    }
}

/// Tell the committer thread of `shared` to finish.
pub(super) fn close(shared: &super::Shared) {
    shared
        .queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .closed = true;
    shared.ready.notify_all();
}
