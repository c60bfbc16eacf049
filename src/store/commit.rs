//! Group commit. Writes are queued ([`Store::submit`]) and committed together: one commit
//! carries the records of many chats instead of one commit each.
//!
//! - A writer that waits for its write either leads — takes the connection and commits
//!   everything queued, again while more comes — or, while another thread leads, sleeps
//!   until its write is settled. So one thread works the connection at a time and the others
//!   wait without contending for it.
//! - A write nobody waits for (a completion mark or a call's answer, whose loss on a crash
//!   only means a replay) is committed by the next leader, or by the store's committer
//!   thread, which lets such writes gather for up to [`COMMIT_DELAY`]. A failure is logged
//!   with the context it was given.
//! - Order is kept: a write is committed no later than anything submitted or begun after
//!   it (readers and other transactions commit the queue first), so a call recorded in
//!   flight before it is sent also commits every answer and completion queued before it.

use super::sql::{Connection, DbError};
use super::{Durability, Shared, Store, StoreError};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long the committer thread lets writes nobody waits for gather before it commits
/// them (the longest they wait; a process killed meanwhile loses them, which only means a
/// replay).
const COMMIT_DELAY: Duration = Duration::from_millis(2);
/// How many queued writes make the committer thread commit at once.
const EARLY_COMMIT: usize = 256;
/// How long a waiting writer sleeps before it looks again whether someone still leads (a
/// backstop: the leader wakes it when its write is settled).
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// A queued write as its batch sees it.
trait Job: Send {
    /// Make the write inside the batch's transaction; whether it succeeded. Called again
    /// (after its changes were rolled back) when another write of the batch failed.
    fn run(&mut self, connection: &Connection) -> bool;
    /// Tell the writer how the batch ended: committed (`None`), or why not.
    fn settle(self: Box<Self>, failed: Option<&str>);
}

/// A write waiting in the queue.
struct Queued {
    durability: Durability,
    job: Box<dyn Job>,
}

/// The writes not yet run, and who commits them.
#[derive(Default)]
pub(super) struct Queue {
    jobs: Vec<Queued>,
    /// A waiting writer is committing the queue.
    leading: bool,
    /// What the committer thread is doing.
    committer: Committer,
    /// The store is going away: the committer thread runs what is left and ends.
    closed: bool,
    /// A writer handed the queue over: the committer thread commits it without waiting.
    urgent: bool,
}

/// What the committer thread is doing.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Committer {
    /// Committing (or not started): it looks at the queue again when done.
    #[default]
    Busy,
    /// Waiting for a first write.
    Idle,
    /// Letting a batch gather, for up to [`COMMIT_DELAY`].
    Gathering,
}

/// Where a queued write's outcome is left for its writer.
struct Slot<R> {
    outcome: Mutex<Outcome<R>>,
    settled: Condvar,
}

/// A write's outcome as its writer will find it.
enum Outcome<R> {
    /// Not committed yet.
    Queued,
    /// Committed (or failed).
    Settled(Result<R, StoreError>),
    /// Nobody waits: a failure is logged after these words.
    Detached(String),
}

/// The outcome of a write given to [`Store::submit`]: wait for it, or let it go.
#[must_use = "wait for the write, or detach it with words for the log"]
pub struct Pending<R> {
    slot: Arc<Slot<R>>,
    shared: Arc<Shared>,
}

impl<R> Pending<R> {
    /// Wait until the write is committed — committing the queue if nobody else is — and
    /// return what it returned.
    pub fn wait(self) -> Result<R, StoreError> {
        loop {
            if let Some(result) = self.take() {
                return result;
            }
            if lead(&self.shared, Some(1)) {
                continue;
            }
            let outcome = self
                .slot
                .outcome
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if matches!(*outcome, Outcome::Queued) {
                drop(
                    self.slot
                        .settled
                        .wait_timeout(outcome, WAIT_SLICE)
                        .unwrap_or_else(PoisonError::into_inner),
                );
            }
        }
    }

    /// The outcome, once settled.
    fn take(&self) -> Option<Result<R, StoreError>> {
        let mut outcome = self
            .slot
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *outcome, Outcome::Queued) {
            Outcome::Settled(result) => Some(result),
            other => {
                *outcome = other;
                None
            }
        }
    }

    /// Do not wait: the write is committed soon; if it fails, the failure is logged after
    /// `context` (which says what was written and what its loss means).
    pub fn detach(self, context: String) {
        let mut outcome = self
            .slot
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *outcome, Outcome::Detached(context)) {
            Outcome::Settled(Err(e)) => {
                if let Outcome::Detached(context) = &*outcome {
                    tracing::warn!("{context}: {e}");
                }
            }
            Outcome::Settled(Ok(_)) | Outcome::Queued | Outcome::Detached(_) => {}
        }
    }
}

/// A write given to [`Store::submit`], its result, and where it goes.
struct Write<R, F> {
    write: F,
    result: Option<Result<R, StoreError>>,
    slot: Arc<Slot<R>>,
}

impl<R: Send, F: Fn(&Connection) -> Result<R, StoreError> + Send> Job for Write<R, F> {
    fn run(&mut self, connection: &Connection) -> bool {
        let result = (self.write)(connection);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn settle(self: Box<Self>, failed: Option<&str>) {
        let result = match (failed, self.result) {
            (Some(why), _) => Err(StoreError::CommitFailed(why.to_string())),
            (None, Some(result)) => result,
            (None, None) => Err(StoreError::CommitFailed("the write was not made".into())),
        };
        let mut outcome = self
            .slot
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match (&*outcome, result) {
            (Outcome::Detached(context), Err(e)) => tracing::warn!("{context}: {e}"),
            (Outcome::Detached(_), Ok(_)) => {}
            (_, result) => {
                *outcome = Outcome::Settled(result);
                self.slot.settled.notify_one();
            }
        }
    }
}

impl Store {
    /// Queue `write` for the next commit, in a transaction shared with other writes
    /// (committed at least as far as `durability` says); if it fails, only its own changes
    /// are undone. It may run twice: once more, after a rollback, when another write of its
    /// batch failed.
    pub(crate) fn submit<R: Send + 'static>(
        &self,
        durability: Durability,
        write: impl Fn(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Pending<R> {
        let slot = Arc::new(Slot {
            outcome: Mutex::new(Outcome::Queued),
            settled: Condvar::new(),
        });
        let job = Box::new(Write {
            write,
            result: None,
            slot: slot.clone(),
        });
        let shared = &self.shared;
        let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.jobs.push(Queued { durability, job });
        let wake = match queue.committer {
            Committer::Idle => true,
            Committer::Gathering => queue.jobs.len() >= EARLY_COMMIT,
            Committer::Busy => false,
        };
        drop(queue);
        if wake {
            shared.ready.notify_one();
        }
        Pending {
            slot,
            shared: shared.clone(),
        }
    }
}

/// The connection of `shared`, as it is (queued writes not committed).
fn connection(shared: &Shared) -> MutexGuard<'_, Connection> {
    shared
        .connection
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn queue(shared: &Shared) -> MutexGuard<'_, Queue> {
    shared.queue.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Commit the queue — again while more comes, up to `rounds` batches — unless someone else
/// leads already; whether this thread led. A writer leads one batch (its own write is in
/// it): if more is queued then, it hands over to the committer thread, so no writer is kept
/// committing for others under a steady load.
fn lead(shared: &Shared, rounds: Option<usize>) -> bool {
    {
        let mut queue = queue(shared);
        if queue.leading {
            return false;
        }
        queue.leading = true;
    }
    let mut led = 0;
    loop {
        let connection = connection(shared);
        let jobs = {
            let mut queue = queue(shared);
            let enough = rounds.is_some_and(|rounds| led >= rounds);
            if queue.jobs.is_empty() || enough {
                queue.leading = false;
                if !queue.jobs.is_empty() {
                    queue.urgent = true;
                    shared.ready.notify_one();
                }
                return true;
            }
            std::mem::take(&mut queue.jobs)
        };
        led += 1;
        let _ = batch(shared, &connection, jobs, Durability::Process, |_| {
            Ok::<(), StoreError>(())
        });
    }
}

/// The connection of `shared`, with every queued write committed first.
pub(super) fn lock(shared: &Shared) -> MutexGuard<'_, Connection> {
    let connection = connection(shared);
    let jobs = take(shared);
    if !jobs.is_empty() {
        let _ = batch(shared, &connection, jobs, Durability::Process, |_| {
            Ok::<(), StoreError>(())
        });
    }
    connection
}

/// Run `f` in one transaction with everything queued before it, committed as far as
/// `durability` (or a queued write) says.
pub(super) fn transaction<R, E: From<StoreError>>(
    shared: &Shared,
    durability: Durability,
    f: impl FnOnce(&Connection) -> Result<R, E>,
) -> Result<R, E> {
    let connection = connection(shared);
    let jobs = take(shared);
    batch(shared, &connection, jobs, durability, f)
}

/// Everything queued so far.
fn take(shared: &Shared) -> Vec<Queued> {
    std::mem::take(&mut queue(shared).jobs)
}

/// Run `jobs`, then `f`, in one transaction committed as far as the strongest of them needs.
/// A job or `f` that fails has its own changes undone and leaves the others. Returns what
/// `f` returned; the jobs are told how the commit went.
fn batch<R, E: From<StoreError>>(
    shared: &Shared,
    connection: &Connection,
    mut jobs: Vec<Queued>,
    durability: Durability,
    f: impl FnOnce(&Connection) -> Result<R, E>,
) -> Result<R, E> {
    let durability = jobs
        .iter()
        .map(|queued| queued.durability)
        .fold(durability, Ord::max);
    let committed = (|| {
        // The level is set before the transaction begins, never restored after: a failure
        // here leaves nothing half done.
        let relaxed = durability == Durability::Process;
        if shared.relaxed.load(Ordering::Relaxed) != relaxed {
            connection.commit_to(durability)?;
            shared.relaxed.store(relaxed, Ordering::Relaxed);
        }
        connection.begin()?;
        let value = (|| {
            let tx = &*connection;
            // The jobs in one savepoint; only if one fails, each again in a savepoint of its own.
            if !jobs.is_empty() {
                savepoint(tx)?;
                // Stops at the first failure: all are run again below.
                let all = jobs.iter_mut().all(|queued| queued.job.run(tx));
                release(tx, all)?;
                if !all {
                    for queued in &mut jobs {
                        savepoint(tx)?;
                        let ok = queued.job.run(tx);
                        release(tx, ok)?;
                    }
                }
            }
            savepoint(tx)?;
            let value = f(tx);
            release(tx, value.is_ok())?;
            tx.control("COMMIT")?;
            Ok(value)
        })();
        if value.is_err() {
            // What failed was the transaction itself: undo all of it.
            let _ = connection.control("ROLLBACK");
        }
        value
    })();
    let failed = committed.as_ref().err().map(ToString::to_string);
    for queued in jobs {
        queued.job.settle(failed.as_deref());
    }
    committed.map_err(|e: DbError| E::from(StoreError::Commit(e)))?
}

/// Open the savepoint `queued`.
fn savepoint(tx: &Connection) -> Result<(), DbError> {
    tx.control("SAVEPOINT queued")
}

/// End the savepoint `queued`, undoing what was done in it unless `ok`.
fn release(tx: &Connection, ok: bool) -> Result<(), DbError> {
    if !ok {
        tx.control("ROLLBACK TO queued")?;
    }
    tx.control("RELEASE queued")
}

/// The committer thread of a store: commits what nobody waits for, letting it gather a
/// moment first, until the store closes (then commits what is left).
pub(super) fn committer(shared: Arc<Shared>) {
    loop {
        {
            let mut queue = queue(&shared);
            while queue.jobs.is_empty() && !queue.closed {
                queue.committer = Committer::Idle;
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if queue.jobs.is_empty() && queue.closed {
                return;
            }
            if queue.jobs.len() < EARLY_COMMIT && !queue.closed && !queue.urgent {
                queue.committer = Committer::Gathering;
                queue = shared
                    .ready
                    .wait_timeout(queue, COMMIT_DELAY)
                    .map(|(queue, _)| queue)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            queue.committer = Committer::Busy;
            queue.urgent = false;
        }
        if !lead(&shared, None) {
            // A writer leads and commits the queue; look again after a moment.
            std::thread::sleep(COMMIT_DELAY);
        }
    }
}

/// Tell the committer thread of `shared` to finish.
pub(super) fn close(shared: &Shared) {
    queue(shared).closed = true;
    shared.ready.notify_all();
}

#[cfg(test)]
mod tests;
