//! The tries of an update: begun (counted, marked under way), each handler's completion,
//! the update done, or a failed try (retried or parked).

use super::{Failure, Inbox, InboxError, Origin, Try, db, delete_records, now};
use crate::store::sql::params;
use crate::store::{Durability, StoreError};

/// Count a try of update `?1` of bot `?2` and mark it under way.
const COUNT_TRY: &str =
    "UPDATE inbox SET attempts = attempts + 1, running = 1 WHERE update_id = ?1 AND bot = ?2";

impl Inbox {
    /// Start a try of `update_id` (from `origin`): count it and mark it under way, committed
    /// before it returns (a try the process does not survive counts as failed, and the next
    /// one knows), and return what earlier tries left. On an update's first try
    /// ([`Origin::Fetched`]) nothing is read back; its count joins the group commit of the
    /// other chats' tries.
    pub fn begin_try(&self, update_id: i64, origin: Origin) -> Result<Try, InboxError> {
        let bot = self.bot.clone();
        if origin == Origin::Fetched {
            self.store
                .submit(Durability::Process, move |tx| {
                    tx.execute(COUNT_TRY, params![update_id, bot])
                        .map(drop)
                        .map_err(StoreError::query("inbox"))
                })
                .wait()?;
            return Ok(Try {
                first: true,
                ..Try::default()
            });
        }
        self.store.transaction_with(Durability::Process, |tx| {
            let (had_failed, interrupted) = tx
                .query_opt(
                    "SELECT error IS NOT NULL, running FROM inbox WHERE update_id = ?1 AND bot = ?2",
                    params![update_id, bot],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(db)?
                .unwrap_or((false, false));
            tx.execute(COUNT_TRY, params![update_id, bot])
                .map_err(db)?;
            let finished = tx
                .query_map(
                    "SELECT scenario FROM inbox_handled WHERE update_id = ?1 AND bot = ?2",
                    params![update_id, bot],
                    |row| row.get(0),
                )
                .map_err(db)?
                .into_iter()
                .collect();
            Ok(Try {
                first: false,
                finished,
                had_failed,
                interrupted,
            })
        })
    }

    /// Record that `scenario`'s handler for `update_id` finished; its journal is dropped in
    /// the same transaction. Queued, not waited for: it is committed before any later record
    /// (the next handler's too), and if the process stops first the handler's calls are
    /// replayed.
    pub fn handler_finished(&self, update_id: i64, scenario: &str) {
        let (bot, name) = (self.bot.clone(), scenario.to_string());
        self.store
            .submit(Durability::Process, move |tx| {
                tx.execute("INSERT INTO inbox_handled (bot, update_id, scenario) VALUES (?3, ?1, ?2) ON CONFLICT DO NOTHING", params![update_id, name, bot])
                .and_then(|_| {
                    tx.execute(
                        "DELETE FROM journal WHERE update_id = ?1 AND scenario = ?2 AND bot = ?3",
                        params![update_id, name, bot],
                    )
                })
                .map(drop)
                .map_err(StoreError::query("inbox"))
            })
            .detach(format!(
                "update {update_id}, {scenario}: cannot record that the handler finished (if the update runs again, its calls are replayed)"
            ));
    }

    /// Mark `update_id` done: every handler for it has finished. Queued like
    /// [`Self::handler_finished`]: committed before the next update of its chat begins (its
    /// try's count is waited for, and commits after it).
    pub fn done(&self, update_id: i64) {
        let bot = self.bot.clone();
        self.store
            .submit(Durability::Process, move |tx| {
                tx.execute("UPDATE inbox SET status = 'done', finished_at = ?2, error = NULL, running = 0 WHERE update_id = ?1 AND bot = ?3", params![update_id, now(), bot])
                .map_err(StoreError::query("inbox"))?;
                delete_records(tx, &bot, update_id, &["inbox_handled", "journal"])
            })
            .detach(format!(
                "update {update_id}: cannot mark it done (the next start runs it again, replaying its calls)"
            ));
    }

    /// Record that the current try of `update_id` failed with `error`; parks the update once
    /// it has had its tries, or at once when `for_good` (it would fail the same way again).
    pub fn failed(
        &self,
        update_id: i64,
        error: &str,
        for_good: bool,
    ) -> Result<Failure, InboxError> {
        let max = if for_good { 1 } else { self.max_attempts };
        self.store.transaction(|tx| {
            let attempts: u32 = tx
                .query_row(
                    "UPDATE inbox SET error = ?2, running = 0 WHERE update_id = ?1 AND bot = ?3 RETURNING attempts",
                    params![update_id, error, self.bot],
                    |row| row.get(0),
                )
                .map_err(db)?;
            if attempts < max {
                return Ok(Failure::Retry { attempts });
            }
            tx.execute(
                "UPDATE inbox SET status = 'parked', finished_at = ?2 WHERE update_id = ?1 AND bot = ?3",
                params![update_id, now(), self.bot],
            )
            .map_err(db)?;
            Ok(Failure::Parked { attempts })
        })
    }
}
