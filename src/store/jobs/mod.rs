//! Durable timers: jobs a scenario scheduled (`schedule`, `schedule_at`, `every`) and the
//! replies it waits for (`expect_message`), kept in the `jobs` table until they are due. A
//! due job is taken out ([`take_due`]; a repeating one is moved to its next time) in the same
//! transaction that puts its run into the bot's inbox (the application's scheduler, through
//! [`crate::inbox::Inbox::accept_made`]), so it runs once, with the inbox's guarantees.

mod op;

pub use op::{JobOp, JobPlace, Repeat, When, bot_of};

use super::StoreError;
use crate::store::sql::{Connection, DbError, Row, params};
use serde_json::{Value, json};

/// How long an answered wait is kept (a try of the answering update run again within it
/// routes the same way).
const ANSWERED_KEPT_MS: i64 = 24 * 3600 * 1000;

/// How many jobs one scenario may have waiting.
pub const MAX_JOBS_PER_SCENARIO: i64 = 100_000;

fn failed(what: &'static str) -> impl Fn(DbError) -> StoreError + Copy {
    StoreError::query(what)
}

/// Run the write `op` on `connection`, inside the caller's transaction, at `now_ms`.
pub(crate) fn apply_on(
    connection: &Connection,
    op: &JobOp,
    now_ms: i64,
) -> Result<Value, StoreError> {
    match op {
        JobOp::Schedule {
            namespace,
            function,
            data,
            when,
            place,
        } => {
            room_for_job(connection, namespace)?;
            let (due, every) = match when {
                When::At(at) => (*at, None),
                When::After(ms) => (now_ms.saturating_add(*ms), None),
                When::Every(spec) => {
                    let first = Repeat::parse(spec)
                        .and_then(|r| r.next_after(now_ms))
                        .map_err(StoreError::Job)?;
                    (first, Some(spec.as_str()))
                }
            };
            insert(
                connection,
                namespace,
                "job",
                function,
                data,
                place,
                Some(due),
                every,
                now_ms,
            )
        }
        JobOp::Expect {
            namespace,
            function,
            data,
            timeout_ms,
            place,
        } => {
            let timeout_at = timeout_ms.map(|ms| now_ms.saturating_add(ms));
            connection
                .execute(
                    "DELETE FROM jobs WHERE kind = 'expect' AND scenario = ?1 AND chat_id IS NOT DISTINCT FROM ?2 AND user_id IS NOT DISTINCT FROM ?3
                     AND answered_by IS NULL",
                    params![namespace, place.chat_id, place.user_id],
                )
                .map_err(failed("jobs"))?;
            room_for_job(connection, namespace)?;
            insert(
                connection, namespace, "expect", function, data, place, timeout_at, None, now_ms,
            )
        }
        JobOp::Cancel { namespace, id } => connection
            .execute(
                "DELETE FROM jobs WHERE id = ?1 AND scenario = ?2",
                params![id, namespace],
            )
            .map(|n| Value::Bool(n > 0))
            .map_err(failed("jobs")),
        JobOp::List { namespace } => list_on(connection, Some(namespace)).map(Value::Array),
    }
}

#[allow(clippy::too_many_arguments)]
fn insert(
    connection: &Connection,
    namespace: &str,
    kind: &str,
    function: &str,
    data: &Value,
    place: &JobPlace,
    due_at: Option<i64>,
    every: Option<&str>,
    now_ms: i64,
) -> Result<Value, StoreError> {
    let data = data.to_string();
    if data.len() > super::MAX_VALUE_BYTES {
        return Err(StoreError::ValueTooLarge {
            key: "data".into(),
            bytes: data.len(),
        });
    }
    connection
        .query_row(
            "INSERT INTO jobs (bot, scenario, kind, function, data, chat_id, user_id, message_id, due_at, every, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
            params![
                    bot_of(namespace),
                    namespace,
                    kind,
                    function,
                    data,
                    place.chat_id,
                    place.user_id,
                    place.message_id,
                    due_at,
                    every,
                now_ms
            ],
            |row| row.get::<i64>(0),
        )
        .map(Value::from)
        .map_err(failed("jobs"))
}

fn room_for_job(connection: &Connection, namespace: &str) -> Result<(), StoreError> {
    let held: i64 = connection
        .query_row(
            "SELECT COUNT(*) FROM jobs WHERE scenario = ?1 AND answered_by IS NULL",
            params![namespace],
            |row| row.get(0),
        )
        .map_err(failed("jobs"))?;
    match held >= MAX_JOBS_PER_SCENARIO {
        true => Err(StoreError::Job(format!(
            "this scenario has {held} jobs waiting, the most it may have: cancel some (jobs() lists them)"
        ))),
        false => Ok(()),
    }
}

const COLUMNS: &str =
    "id, scenario, kind, function, data, chat_id, user_id, message_id, due_at, every, created_at";

/// A job row as a map: `id`, `scenario`, `kind` (`"job"` or `"expect"`), `function`, `data`,
/// `chat_id`, `user_id`, `message_id`, `due_at` (Unix seconds; `()` for a wait without
/// timeout), `due_at_ms`, `every`.
fn row_to_json(row: &Row) -> Result<Value, DbError> {
    let data: String = row.get(4)?;
    let due_at: Option<i64> = row.get(8)?;
    Ok(json!({
        "id": row.get::<i64>(0)?,
        "scenario": row.get::<String>(1)?,
        "kind": row.get::<String>(2)?,
        "function": row.get::<String>(3)?,
        "data": serde_json::from_str::<Value>(&data).unwrap_or(Value::Null),
        "chat_id": row.get::<Option<i64>>(5)?,
        "user_id": row.get::<Option<i64>>(6)?,
        "message_id": row.get::<Option<i64>>(7)?,
        "due_at": due_at.map(|ms| ms.div_euclid(1000)),
        "due_at_ms": due_at,
        "every": row.get::<Option<String>>(9)?,
    }))
}

/// The jobs of scenario `namespace` (every job when `None`), soonest first.
pub(crate) fn list_on(
    connection: &Connection,
    namespace: Option<&str>,
) -> Result<Vec<Value>, StoreError> {
    connection
        .query_map(
            &format!(
                "SELECT {COLUMNS} FROM jobs WHERE (CAST(?1 AS TEXT) IS NULL OR scenario = ?1) AND answered_by IS NULL
                 ORDER BY due_at IS NULL, due_at, id"
            ),
            params![namespace],
            row_to_json,
        )
        .map_err(failed("jobs"))
}

/// The soonest time (ms) a job of `bot` is due, if it has any with a time.
pub(crate) fn next_due(connection: &Connection, bot: &str) -> Result<Option<i64>, StoreError> {
    connection
        .query_row(
            "SELECT MIN(due_at) FROM jobs WHERE bot = ?1",
            params![bot],
            |row| row.get(0),
        )
        .map_err(failed("jobs"))
}

/// Take up to `limit` jobs of `bot` due by `now_ms`, soonest first, inside the caller's
/// transaction: a one-off job or a wait is deleted, a repeating one moved to its next time
/// after now (runs missed while the process was down are not made up). Each comes as its
/// map plus `late_ms`, and `timed_out` for a wait.
pub(crate) fn take_due(
    connection: &Connection,
    bot: &str,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<Value>, StoreError> {
    let due = connection
        .query_map(
            &format!(
                "SELECT {COLUMNS} FROM jobs WHERE bot = ?1 AND due_at <= ?2 ORDER BY due_at, id LIMIT ?3"
            ),
            params![bot, now_ms, limit],
            row_to_json,
        )
        .map_err(failed("jobs"))?;
    let mut taken = Vec::with_capacity(due.len());
    for mut job in due {
        let id = job["id"].as_i64().unwrap_or_default();
        let due_ms = job["due_at_ms"].as_i64().unwrap_or(now_ms);
        job["late_ms"] = (now_ms - due_ms).max(0).into();
        let next = job["every"]
            .as_str()
            .map(|spec| Repeat::parse(spec).and_then(|r| r.next_after(now_ms.max(due_ms))));
        match next {
            Some(Ok(next)) => connection
                .execute(
                    "UPDATE jobs SET due_at = ?2 WHERE id = ?1",
                    params![id, next],
                )
                .map(drop),
            Some(Err(e)) => {
                tracing::error!("job {id}: {e}; it runs this once more and stops repeating");
                connection
                    .execute("DELETE FROM jobs WHERE id = ?1", params![id])
                    .map(drop)
            }
            None => connection
                .execute("DELETE FROM jobs WHERE id = ?1", params![id])
                .map(drop),
        }
        .map_err(failed("jobs"))?;
        if job["kind"] == "expect" {
            job["timed_out"] = true.into();
        }
        taken.push(job);
    }
    Ok(taken)
}

/// The waits of `bot`'s scenarios for the next message of `user` in `chat`: those still
/// open, and first those update `update_id` answered (a try of it run again routes as the
/// first did, even when the answer opened the next wait).
fn waiting_on(
    connection: &Connection,
    bot: &str,
    chat: i64,
    user: i64,
    update_id: i64,
) -> Result<Vec<Value>, StoreError> {
    connection
        .query_map(
            &format!(
                "SELECT {COLUMNS} FROM jobs WHERE kind = 'expect' AND bot = ?1 AND chat_id = ?2 AND user_id = ?3
                 AND (answered_by IS NULL OR answered_by = ?4) ORDER BY answered_by IS NULL, id"
            ),
            params![bot, chat, user, update_id],
            row_to_json,
        )
        .map_err(failed("jobs"))
}

/// Delete job `id` whatever its scenario (`tgscript jobs cancel`, a wait answered): whether
/// it was there.
pub(crate) fn delete_on(connection: &Connection, id: i64) -> Result<bool, StoreError> {
    connection
        .execute("DELETE FROM jobs WHERE id = ?1", params![id])
        .map(|n| n > 0)
        .map_err(failed("jobs"))
}

/// Whether any wait (`expect_message`) is stored at all.
pub(crate) fn any_waits(connection: &Connection) -> Result<bool, StoreError> {
    connection
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = 'expect')",
            params![],
            |row| row.get(0),
        )
        .map(|found| found.unwrap_or(false))
        .map_err(failed("jobs"))
}

impl crate::store::Store {
    /// What bot `bot`'s job scheduler waits on: notified when a job of its is scheduled,
    /// cancelled or waits for a message.
    pub fn job_signal(&self, bot: &str) -> std::sync::Arc<tokio::sync::Notify> {
        let mut signals = self
            .job_signals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        signals.entry(bot.to_string()).or_default().clone()
    }

    /// After `op` was committed: wake the scheduler of the bot whose jobs it changed.
    pub(crate) fn jobs_changed(&self, op: &super::StateOp) {
        let super::StateOp::Job(op) = op else {
            return;
        };
        if matches!(op, JobOp::Expect { .. }) {
            self.waits.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        self.job_signal(bot_of(op.namespace())).notify_one();
    }

    /// The soonest time (Unix ms) a job of `bot` is due.
    pub fn next_job_due(&self, bot: &str) -> Result<Option<i64>, StoreError> {
        next_due(&self.lock(), bot)
    }

    /// Every job of every bot, soonest first (`tgscript jobs list`).
    pub fn all_jobs(&self) -> Result<Vec<Value>, StoreError> {
        list_on(&self.lock(), None)
    }

    /// Cancel job `id`, whoever scheduled it (`tgscript jobs cancel`): whether it was there.
    pub fn cancel_job(&self, id: i64) -> Result<bool, StoreError> {
        let bot: Option<String> = self
            .lock()
            .query_opt("SELECT bot FROM jobs WHERE id = ?1", params![id], |row| {
                row.get(0)
            })
            .map_err(failed("jobs"))?;
        let Some(bot) = bot else {
            return Ok(false);
        };
        let gone = self.transaction(|tx| delete_on(tx, id))?;
        self.job_signal(&bot).notify_one();
        Ok(gone)
    }

    /// The waits (`expect_message`) of bot `bot`'s scenarios that message `update_id` of
    /// `user` in `chat` goes to: the open ones, and those it answered already (so a try run
    /// again routes the message as the first try did).
    pub fn waits_on(
        &self,
        bot: &str,
        chat: i64,
        user: i64,
        update_id: i64,
    ) -> Result<Vec<Value>, StoreError> {
        if !self.waits.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(Vec::new());
        }
        waiting_on(&self.lock(), bot, chat, user, update_id)
    }

    /// Wait `id` answered by update `update_id`: it no longer waits or times out, and is
    /// forgotten a day later (answered waits older than that go now).
    pub fn end_wait(&self, id: i64, update_id: i64) -> Result<(), StoreError> {
        let now = crate::clock::system_ms();
        self.transaction(|tx| {
            tx.execute(
                "UPDATE jobs SET answered_by = ?2, answered_at = ?3, due_at = NULL WHERE id = ?1",
                params![id, update_id, now],
            )
            .and_then(|_| {
                tx.execute(
                    "DELETE FROM jobs WHERE answered_at < ?1",
                    params![now - ANSWERED_KEPT_MS],
                )
            })
            .map(drop)
            .map_err(failed("jobs"))
        })
    }
}

#[cfg(test)]
mod tests;
