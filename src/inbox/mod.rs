//! The update inbox: every update fetched from Telegram is written to the database before the
//! offset that acknowledges it is sent, handled from there, and marked done once every
//! scenario's handler for it has finished.
//!
//! - Completion is recorded per handler (`inbox_handled`), so after a crash or a failed try
//!   only the handlers that did not finish run again.
//! - The calls a handler makes are journaled ([`journal`]), so a handler run again replays
//!   what it already did instead of doing it twice.
//! - The parts of an album are recorded as they are kept, and the album, once complete, is
//!   kept as one update of its own ([`albums`]).
//! - An update whose handlers keep failing gets `[inbox] max_attempts` tries, then is parked
//!   with its error; `tgscript inbox retry ID` queues it again.
//!
//! Updates are on disk before they are acknowledged. Completion marks only need to survive
//! the process being killed: one lost to a power loss means a handler runs again, replaying
//! its journal.

mod albums;
mod entry;
pub mod journal;
mod journaled;
mod local;
mod tries;

pub use albums::OpenAlbum;
pub use entry::{Entry, Failure, Origin, Status, Try, Unfinished};
pub use journaled::Journaled;
pub use local::local_id_after;

use crate::store::sql::{Connection, params};
use crate::store::{DbError, Durability, Store, StoreError};
use crate::telegram::{album, update};
use journal::HandlerJournal;
use serde_json::Value;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use crate::store::DEFAULT_BOT;

/// How long handled updates stay listed (`inbox list --all`) before they are pruned.
const KEEP_DONE_SECONDS: i64 = 24 * 60 * 60;

/// The inbox of one bot, in the database.
#[derive(Debug)]
pub struct Inbox {
    store: Arc<Store>,
    /// The bot whose updates these are (its rows carry its id).
    bot: Arc<str>,
    max_attempts: u32,
    max_journal_bytes: usize,
    /// The arrival number of the newest update kept, once read (only `accept` writes it,
    /// and one process at a time holds the inbox).
    last_arrival: std::sync::Mutex<Option<i64>>,
    /// The last id [`Inbox::local_update_id`] gave, once one was.
    last_local_id: std::sync::Mutex<Option<i64>>,
}

/// Why the inbox could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A status this build does not know (a database written by something else).
    #[error("inbox: unknown update status {0:?} in the database")]
    UnknownStatus(String),
    /// `inbox retry` of an update the inbox does not hold.
    #[error("update {0} is not in the inbox (see `tgscript inbox list --all`)")]
    NotInInbox(i64),
    /// `inbox retry` of an update every handler finished.
    #[error("update {0} was handled already: every handler finished")]
    AlreadyHandled(i64),
    /// `inbox retry` of an update that is still to be handled.
    #[error("update {0} is still pending: a running or the next `tgscript run` handles it")]
    StillPending(i64),
}

fn db(e: DbError) -> InboxError {
    StoreError::query("inbox")(e).into()
}

/// Delete the rows of `bot`'s update `update_id` from `tables`.
fn delete_records(
    tx: &Connection,
    bot: &str,
    update_id: i64,
    tables: &[&str],
) -> Result<(), StoreError> {
    for table in tables {
        tx.execute(
            &format!("DELETE FROM {table} WHERE update_id = ?1 AND bot = ?2"),
            params![update_id, bot],
        )
        .map_err(StoreError::query("inbox"))?;
    }
    Ok(())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Rows of `(update_id, payload)` read back as updates; a payload that no longer parses is
/// parked with the reason, so it shows in `inbox list` instead of being skipped forever.
fn payloads(
    tx: &Connection,
    bot: &str,
    rows: Vec<(i64, String)>,
) -> Result<Vec<Value>, InboxError> {
    let mut updates = Vec::with_capacity(rows.len());
    for (id, text) in rows {
        match serde_json::from_str(&text) {
            Ok(update) => updates.push(update),
            Err(e) => {
                tracing::error!("inbox: update {id} cannot be read back ({e}); parking it");
                tx.execute(
                    "UPDATE inbox SET status = 'parked', error = ?2, finished_at = ?3 WHERE update_id = ?1 AND bot = ?4",
                    params![id, format!("stored update cannot be read back: {e}"), now(), bot],
                )
                .map_err(db)?;
            }
        }
    }
    Ok(updates)
}

impl Inbox {
    /// The inbox of the bot [`DEFAULT_BOT`] kept in `store`; an update gets `max_attempts`
    /// tries (at least one).
    pub fn new(store: Arc<Store>, max_attempts: u32) -> Self {
        Self {
            store,
            bot: DEFAULT_BOT.into(),
            max_attempts: max_attempts.max(1),
            max_journal_bytes: 0,
            last_arrival: std::sync::Mutex::new(None),
            last_local_id: std::sync::Mutex::new(None),
        }
    }

    /// The same inbox for the bot `id` instead (each bot's updates, handler marks and
    /// journals are apart from every other bot's).
    pub fn for_bot(mut self, id: &str) -> Self {
        self.bot = id.into();
        self
    }

    /// The bot whose inbox this is.
    pub fn bot(&self) -> &str {
        &self.bot
    }

    /// The same inbox, whose handlers may each record at most `bytes` of calls per update
    /// (0: no limit).
    pub fn with_journal_limit(mut self, bytes: usize) -> Self {
        self.max_journal_bytes = bytes;
        self
    }

    /// The journal of `scenario`'s handler for update `update_id` on try `now`, under the
    /// journal limit; on a first try nothing is read back.
    pub fn journal(
        &self,
        update_id: i64,
        scenario: &str,
        now: &Try,
    ) -> Result<HandlerJournal, StoreError> {
        let journal = if now.first {
            HandlerJournal::empty(self.store.clone(), &self.bot, update_id, scenario)
        } else {
            HandlerJournal::open(self.store.clone(), &self.bot, update_id, scenario)?
        };
        Ok(journal
            .limited(self.max_journal_bytes)
            .after_interruption(now.interrupted))
    }

    /// The database the inbox lives in (its handlers' journals live there too).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Write one `getUpdates` batch in one transaction, on disk before it returns, and return
    /// the updates not seen before, in order: a batch Telegram sends again after a crash is
    /// skipped. An `update_id` Telegram reuses for a different update (it picks ids at random
    /// after a week without updates) replaces the old row, with a warning.
    pub fn accept(&self, updates: &[Value]) -> Result<Vec<Value>, InboxError> {
        self.accept_made(|_| Ok(updates.to_vec()))
    }

    /// Keep updates of this process's own making (account events, due jobs) the way
    /// [`Inbox::accept`] keeps fetched ones: `make` builds them inside the same transaction,
    /// from ids it takes with [`Inbox::local_update_id`], and whatever else it writes (a due
    /// job taken out) commits with them or not at all.
    pub(crate) fn accept_made(
        &self,
        make: impl FnOnce(&Connection) -> Result<Vec<Value>, StoreError>,
    ) -> Result<Vec<Value>, InboxError> {
        let received = now();
        // Held through the commit: the number is taken only if the batch is kept.
        let mut last = self
            .last_arrival
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.store.transaction(|tx| {
            let mut arrival: i64 = match *last {
                Some(arrival) => arrival,
                None => tx
                    .query_row(
                        "SELECT COALESCE(MAX(arrival), 0) FROM inbox WHERE bot = ?1",
                        params![self.bot],
                        |row| row.get(0),
                    )
                    .map_err(db)?,
            };
            let mut fresh = Vec::new();
            let updates = make(tx)?;
            for update in &updates {
                let Some(id) = update["update_id"].as_i64() else {
                    tracing::warn!("skipping an update without update_id");
                    continue;
                };
                let payload = update.to_string();
                let known: Option<(String, String)> = tx
                    .query_opt(
                        "SELECT payload, status FROM inbox WHERE update_id = ?1 AND bot = ?2",
                        params![id, self.bot],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .map_err(db)?;
                match known {
                    Some((old, _)) if old == payload => continue,
                    Some((_, status)) => {
                        tracing::warn!(
                            "inbox: Telegram reused update_id {id} for a new update; the old one ({status}) is dropped"
                        );
                        delete_records(
                            tx,
                            &self.bot,
                            id,
                            &["inbox", "inbox_handled", "journal", "inbox_album_parts"],
                        )?;
                    }
                    None => {}
                }
                arrival += 1;
                tx.execute(
                    "INSERT INTO inbox (update_id, arrival, chat_key, payload, status, received_at, bot)
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
                    params![
                        id,
                        arrival,
                        update::chat_key(update),
                        payload,
                        received,
                        self.bot
                    ],
                )
                .map_err(db)?;
                if let Some(part) = album::part(update) {
                    self.record_part(tx, id, &part)?;
                }
                fresh.push(update.clone());
            }
            Ok((fresh, arrival))
        })
        .map(|(fresh, arrival)| {
            *last = Some(arrival);
            fresh
        })
    }

    /// Updates a previous run left unfinished, and those queued by `inbox retry`, in the
    /// order they arrived; they are pending from now on. An update that has used up its
    /// tries (the process stopped during the last of them: a handler crashed it, or it was
    /// killed) is parked instead of being run again.
    pub fn unfinished(&self) -> Result<Unfinished, InboxError> {
        self.prune()?;
        let max = self.max_attempts;
        self.store.transaction(|tx| {
            tx.execute(
                "UPDATE inbox SET status = 'pending' WHERE status = 'retry' AND bot = ?1",
                params![self.bot],
            )
            .map_err(db)?;
            let parked = tx
                .execute(
                    "UPDATE inbox SET status = 'parked', finished_at = ?2,
                         error = 'the process stopped during its last try (' || attempts
                             || ' tries in all: a handler crashed it, or it was killed)'
                             || COALESCE('; before that: ' || error, '')
                     WHERE status = 'pending' AND attempts >= ?1 AND bot = ?3",
                    params![max, now(), self.bot],
                )
                .map_err(db)?;
            if parked > 0 {
                tracing::error!(
                    "inbox: {parked} update(s) parked: the process stopped during their last try; `tgscript inbox list` shows them"
                );
            }
            let pending = |started: &str| -> Result<Vec<Value>, InboxError> {
                let rows = tx
                    .query_map(
                        &format!(
                            "SELECT update_id, payload FROM inbox WHERE status = 'pending' AND attempts {started} AND bot = ?1 ORDER BY arrival"
                        ),
                        params![self.bot],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .map_err(db)?;
                payloads(tx, &self.bot, rows)
            };
            Ok(Unfinished {
                interrupted: pending("> 0")?,
                waiting: pending("= 0")?,
            })
        })
    }

    /// The updates `ids` kept and still pending (held back while the bot's handlers were
    /// busy), in the order of `ids`.
    pub fn pending_of(&self, ids: &[i64]) -> Result<Vec<Value>, InboxError> {
        self.store.transaction_with(Durability::Process, |tx| {
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                let text: Option<String> = tx
                    .query_opt(
                        "SELECT payload FROM inbox WHERE update_id = ?1 AND bot = ?2 AND status = 'pending'",
                        params![id, self.bot],
                        |row| row.get(0),
                    )
                    .map_err(db)?;
                rows.extend(text.map(|text| (*id, text)));
            }
            payloads(tx, &self.bot, rows)
        })
    }

    /// Drop handled updates older than a day (parked ones stay until retried).
    pub fn prune(&self) -> Result<(), InboxError> {
        self.store.transaction_with(Durability::Process, |tx| {
            tx.execute(
                "DELETE FROM inbox WHERE status = 'done' AND finished_at < ?1 AND bot = ?2",
                params![now() - KEEP_DONE_SECONDS, self.bot],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    /// Updates `inbox retry` queued since the last look, in the order they arrived; they
    /// are pending from now on.
    pub fn requeued(&self) -> Result<Vec<Value>, InboxError> {
        self.store.transaction_with(Durability::Process, |tx| {
            let mut rows: Vec<(i64, i64, String)> = tx
                .query_map(
                    "UPDATE inbox SET status = 'pending' WHERE status = 'retry' AND bot = ?1
                     RETURNING arrival, update_id, payload",
                    params![self.bot],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .map_err(db)?;
            rows.sort_by_key(|(arrival, _, _)| *arrival);
            payloads(
                tx,
                &self.bot,
                rows.into_iter().map(|(_, id, text)| (id, text)).collect(),
            )
        })
    }

    /// Every bot with updates in the store's inbox, by id (the `inbox list` of them all).
    pub fn bots(&self) -> Result<Vec<String>, InboxError> {
        self.store
            .lock()
            .query_map(
                "SELECT DISTINCT bot FROM inbox ORDER BY bot",
                params![],
                |row| row.get(0),
            )
            .map_err(db)
    }

    /// The updates with one of `statuses`, oldest first.
    pub fn list(&self, statuses: &[Status]) -> Result<Vec<Entry>, InboxError> {
        let entries = self
            .store
            .lock()
            .query_map(
                "SELECT update_id, chat_key, payload, status, attempts, error, received_at
                 FROM inbox WHERE bot = ?1 ORDER BY arrival",
                params![self.bot],
                |row| {
                    let payload: String = row.get(2)?;
                    let status: String = row.get(3)?;
                    let status = Status::parse(&status).map_err(|e| DbError::Decode {
                        column: 3,
                        why: e.to_string(),
                    })?;
                    Ok(Entry {
                        update_id: row.get(0)?,
                        chat: row.get(1)?,
                        kind: serde_json::from_str::<Value>(&payload)
                            .map(|u| update::kind(&u).1.to_string())
                            .unwrap_or_else(|_| "?".into()),
                        status,
                        attempts: row.get(4)?,
                        error: row.get(5)?,
                        received_at: row.get(6)?,
                    })
                },
            )
            .map_err(db)?;
        Ok(entries
            .into_iter()
            .filter(|e| statuses.contains(&e.status))
            .collect())
    }

    /// How many of its updates are still to be handled (pending or queued again) and how
    /// many are parked.
    pub fn counts(&self) -> Result<(u64, u64), InboxError> {
        self.store
            .lock()
            .query_row(
                "SELECT COUNT(*) FILTER (WHERE status IN ('pending', 'retry')),
                        COUNT(*) FILTER (WHERE status = 'parked')
                 FROM inbox WHERE bot = ?1 AND status != 'done'",
                params![self.bot],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(db)
    }

    /// Queue parked update `update_id` for another round of tries; the handlers that
    /// finished before are not run again. Returns its status before.
    pub fn retry(&self, update_id: i64) -> Result<Status, InboxError> {
        self.store.transaction(|tx| {
            let status: Option<String> = tx
                .query_opt(
                    "SELECT status FROM inbox WHERE update_id = ?1 AND bot = ?2",
                    params![update_id, self.bot],
                    |row| row.get(0),
                )
                .map_err(db)?;
            let status = match status.as_deref().map(Status::parse).transpose()? {
                None => return Err(InboxError::NotInInbox(update_id)),
                Some(Status::Done) => return Err(InboxError::AlreadyHandled(update_id)),
                Some(Status::Pending) => return Err(InboxError::StillPending(update_id)),
                Some(status) => status,
            };
            tx.execute(
                "UPDATE inbox SET status = 'retry', attempts = 0, finished_at = NULL WHERE update_id = ?1 AND bot = ?2",
                params![update_id, self.bot],
            )
            .map_err(db)?;
            Ok(status)
        })
    }
}

#[cfg(test)]
mod tests;
