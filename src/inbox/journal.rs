//! The call journal of a handler run from the inbox: what the handler read (state, the
//! clock), wrote (state) and asked of Telegram or TDLib, in call order, under
//! `(update_id, scenario, seq)`.
//!
//! When a handler runs again for the same update — after a crash, or another try after a
//! failure — each call whose record matches (same call, same arguments, same place in the
//! order) and *succeeded* gets its recorded result back instead of being made again. So state
//! is changed once and a message is sent once, even though the handler's code runs twice.
//! A call that failed (Telegram refused it, the network failed, a state write was over its
//! limit) changed nothing, so it is made again: the retry may succeed.
//!
//! When records are written:
//! - reads are kept in memory and written with the next write (if the handler dies before
//!   writing anything, nothing it read mattered);
//! - a state write and its record are one transaction, on disk when the builtin returns;
//! - a Telegram or TDLib call is recorded once it is made, with its answer (a result, or a
//!   refusal), or without one (the network failed, or the server answered 5xx: it may or may
//!   not have done its work, and Telegram has no way to ask). The record is queued for the
//!   store's group commit, not waited for: it is on disk within moments ([`crate::store`]),
//!   and before any later record. A call with no answer is made again when the handler
//!   runs again, and logged as in doubt. So is a call past the records of a try the process
//!   did not survive: it may have been made in the moments before its record reached the
//!   database. These records survive the process being killed; after a power loss the
//!   newest of them may be missing, and such a call is made again without the log line.
//! - `now()` is replayed while the recorded time is less than a minute old, or while calls
//!   that succeeded after it are still to be replayed; otherwise (a retry hours later of a
//!   handler whose calls were refused) dates come from the current time.
//!
//! The first call that differs from its record (the script changed) ends the replay: from
//! there the handler runs live and the stale records are dropped.

use crate::request::CommandError;
use crate::store::sql::{Connection, params};
use crate::store::{Durability, Store, StoreError};
use record::{Record, decode, encode, summary, write_records};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// Where a handler run stands in its journal.
#[derive(Debug, Default)]
struct Cursor {
    /// Records of an earlier run still to replay, in order.
    replay: VecDeque<Record>,
    /// The number of the next call.
    next: i64,
    /// Reads not written yet.
    pending: Vec<Record>,
    /// Records from this number on are stale (the replay ended there) and must go.
    stale_from: Option<i64>,
    /// Bytes this run has recorded.
    recorded: usize,
    /// Whether the last call numbered had a record at its place.
    on_record: bool,
}

/// What to do with one call.
enum Step {
    /// Give back the recorded result of a call that succeeded.
    Replay(Value),
    /// Make the call; it is number `seq`.
    Live(i64),
}

/// How old a recorded `now()` may be and still be replayed, in seconds.
const CLOCK_REPLAY_SECONDS: i64 = 60;

/// The journal of one handler (one scenario) for one update.
#[derive(Debug)]
pub struct HandlerJournal {
    store: Arc<Store>,
    bot: Arc<str>,
    update_id: i64,
    scenario: String,
    cursor: Mutex<Cursor>,
    /// The most bytes one run may record before its calls are refused (0: no limit).
    limit: usize,
    /// The try before this run was cut short: calls past the records may have been made.
    interrupted: bool,
}

impl HandlerJournal {
    /// The journal of `scenario`'s handler for `bot`'s update `update_id`, with what an
    /// earlier run of it recorded.
    pub fn open(
        store: Arc<Store>,
        bot: &Arc<str>,
        update_id: i64,
        scenario: &str,
    ) -> Result<Self, StoreError> {
        let replay = {
            let connection = store.lock();
            connection
                .query_map(
                    "SELECT seq, call, result FROM journal WHERE update_id = ?1 AND scenario = ?2 AND bot = ?3 ORDER BY seq",
                    params![update_id, scenario, bot],
                    |row| {
                        Ok(Record {
                            seq: row.get(0)?,
                            call: row.get(1)?,
                            result: row.get(2)?,
                        })
                    },
                )
                .map_err(StoreError::query("journal"))?
                .into_iter()
                .collect::<VecDeque<_>>()
        };
        if !replay.is_empty() {
            tracing::info!(
                "update {update_id}, {scenario}: running the handler again over {} recorded call(s); those that succeeded are replayed, not repeated",
                replay.len()
            );
        }
        let journal = Self::empty(store, bot, update_id, scenario);
        journal.cursor().replay = replay;
        Ok(journal)
    }

    /// The journal of `scenario`'s handler for `bot`'s update `update_id` when nothing can
    /// have been recorded for it yet (its first try): nothing is read back.
    pub fn empty(store: Arc<Store>, bot: &Arc<str>, update_id: i64, scenario: &str) -> Self {
        Self {
            store,
            bot: bot.clone(),
            update_id,
            scenario: scenario.to_string(),
            cursor: Mutex::new(Cursor::default()),
            limit: 0,
            interrupted: false,
        }
    }

    /// The same journal for a run after a try the process did not survive (`interrupted`):
    /// a call past the records is logged as possibly made already.
    pub fn after_interruption(mut self, interrupted: bool) -> Self {
        self.interrupted = interrupted;
        self
    }

    /// Whether this run follows an interrupted try and the call just numbered had no record.
    fn beyond_an_interruption(&self) -> bool {
        self.interrupted && !self.cursor().on_record
    }

    /// The same journal, refusing calls once a run has recorded more than `bytes` (0: no
    /// limit): one update's handler cannot fill the database.
    pub fn limited(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// Why the next live call is refused, if the run is over its limit.
    fn over_limit(&self) -> Option<StoreError> {
        (self.limit > 0 && self.cursor().recorded > self.limit)
            .then_some(StoreError::JournalFull(self.limit))
    }

    /// How many scopes a namespace of its store may hold (state writes go through the
    /// journal's own transaction).
    pub fn max_scopes(&self) -> usize {
        self.store.max_scopes()
    }

    /// The database it records in.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Count `bytes` more recorded by this run.
    fn count(&self, bytes: usize) {
        self.cursor().recorded += bytes;
    }

    fn cursor(&self) -> std::sync::MutexGuard<'_, Cursor> {
        self.cursor.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Number the next call and decide whether it is replayed.
    fn step(&self, call: &str) -> Step {
        let mut cursor = self.cursor();
        let seq = cursor.next;
        cursor.next += 1;
        cursor.on_record = false;
        while cursor.replay.front().is_some_and(|r| r.seq < seq) {
            cursor.replay.pop_front();
        }
        let Some(front) = cursor.replay.front() else {
            return Step::Live(seq);
        };
        if front.seq > seq {
            return Step::Live(seq);
        }
        if front.call != call {
            tracing::info!(
                "update {}, {}: call #{seq} ({}) differs from the recorded run; the handler goes on live from here",
                self.update_id,
                self.scenario,
                summary(call)
            );
            cursor.replay.clear();
            cursor.stale_from = Some(seq);
            return Step::Live(seq);
        }
        cursor.on_record = true;
        let result = cursor.replay.pop_front().and_then(|r| r.result);
        match result.as_deref().map(decode) {
            Some(Some(Ok(value))) => Step::Replay(value),
            Some(_) => Step::Live(seq),
            None => {
                tracing::warn!(
                    "update {}, {}: call #{seq} ({}) got no answer in an earlier try (the process stopped, the network failed or the server erred); it may have reached Telegram already and is made again",
                    self.update_id,
                    self.scenario,
                    summary(call)
                );
                Step::Live(seq)
            }
        }
    }

    /// Whether the calls still to replay include one that succeeded.
    fn succeeded_calls_ahead(&self) -> bool {
        self.cursor().replay.iter().any(|r| {
            r.result
                .as_deref()
                .and_then(decode)
                .is_some_and(|result| result.is_ok())
        })
    }

    /// Keep a read's result, to be written with the next write.
    fn remember(&self, seq: i64, call: String, result: &Result<Value, Value>) {
        let result = encode(result);
        let mut cursor = self.cursor();
        cursor.recorded += call.len() + result.len();
        cursor.pending.push(Record {
            seq,
            call,
            result: Some(result),
        });
    }

    /// The reads not yet written, and the stale point, taken for writing.
    fn take_pending(&self) -> (Vec<Record>, Option<i64>) {
        let mut cursor = self.cursor();
        (
            std::mem::take(&mut cursor.pending),
            cursor.stale_from.take(),
        )
    }

    /// Give back what [`Self::take_pending`] took, when the write failed.
    fn restore_pending(&self, mut records: Vec<Record>, stale_from: Option<i64>) {
        let mut cursor = self.cursor();
        records.append(&mut cursor.pending);
        cursor.pending = records;
        cursor.stale_from = cursor.stale_from.or(stale_from);
    }
}

impl HandlerJournal {
    /// A read with no effect (state, the clock): replayed from the record of an earlier run,
    /// or made and remembered.
    pub fn read(
        &self,
        call: String,
        make: impl FnOnce() -> Result<Value, StoreError>,
    ) -> Result<Value, StoreError> {
        match self.step(&call) {
            Step::Replay(value) => Ok(value),
            Step::Live(seq) => {
                if let Some(refusal) = self.over_limit() {
                    return Err(refusal);
                }
                let result = make();
                let record = match &result {
                    Ok(value) => Ok(value.clone()),
                    Err(error) => Err(Value::from(error.to_string())),
                };
                self.remember(seq, call, &record);
                result
            }
        }
    }

    /// A state write through `make`, run in one transaction with its record (and the reads
    /// before it).
    pub(crate) fn write(
        &self,
        call: String,
        make: impl FnOnce(&Connection) -> Result<Value, StoreError>,
    ) -> Result<Value, StoreError> {
        let seq = match self.step(&call) {
            Step::Replay(value) => return Ok(value),
            Step::Live(seq) => seq,
        };
        if let Some(refusal) = self.over_limit() {
            return Err(refusal);
        }
        let (mut records, stale_from) = self.take_pending();
        let outcome: Result<Value, StoreError> = self.store.transaction(|tx| {
            let value = make(tx)?;
            let result = encode(&Ok(value.clone()));
            self.count(call.len() + result.len());
            records.push(Record {
                seq,
                call: call.clone(),
                result: Some(result),
            });
            write_records(
                tx,
                &self.bot,
                self.update_id,
                &self.scenario,
                &records,
                stale_from,
            )?;
            Ok(value)
        });
        if let Err(error) = &outcome {
            records.retain(|r| r.seq != seq);
            self.restore_pending(records, stale_from);
            self.remember(seq, call, &Err(error.to_string().into()));
        }
        outcome
    }

    /// A call to Telegram or TDLib through `make`: replayed from the record of an earlier run,
    /// or made and recorded with its answer: a result, or a refusal (an error code under
    /// 500). A network failure or a server error is not an answer: it is recorded without
    /// one, and a later run makes the call again, logged as in doubt. The record is queued,
    /// not waited for (see the module's words on when records are written).
    pub fn external(
        &self,
        command: &str,
        call: String,
        make: impl FnOnce() -> Result<Value, CommandError>,
    ) -> Result<Value, CommandError> {
        let seq = match self.step(&call) {
            Step::Replay(value) => return Ok(value),
            Step::Live(seq) => seq,
        };
        if let Some(refusal) = self.over_limit() {
            return Err(CommandError::invalid(command, refusal.to_string()));
        }
        if self.beyond_an_interruption() {
            tracing::warn!(
                "update {}, {}: call #{seq} ({}) got no answer in an earlier try (that try was cut short by the process stopping, perhaps before the call's record reached the database); it may have reached Telegram already and is made again",
                self.update_id,
                self.scenario,
                summary(&call)
            );
        }
        let result = make();
        let answer = match &result {
            Ok(value) => Some(encode(&Ok(value.clone()))),
            // A refusal (4xx) changed nothing; a server error (5xx) may have come after the
            // work was done, so it stays without an answer, like a network failure.
            Err(error) if error.code.is_some_and(|code| code < 500) => {
                Some(encode(&Err(error.to_json())))
            }
            Err(_) => None,
        };
        self.count(call.len() + answer.as_ref().map_or(0, String::len));
        let (mut records, stale_from) = self.take_pending();
        let what = summary(&call);
        records.push(Record {
            seq,
            call,
            result: answer,
        });
        let (bot, update_id, scenario) = (self.bot.clone(), self.update_id, self.scenario.clone());
        self.store
            .submit(Durability::Process, move |tx| {
                write_records(tx, &bot, update_id, &scenario, &records, stale_from)
            })
            .detach(format!(
                "update {}, {}: cannot record call #{seq} ({what}); if the handler runs again, the call is made again",
                self.update_id, self.scenario
            ));
        result
    }

    /// The clock (`now()`, Unix seconds) read at `current`. The recorded time is replayed
    /// while it is less than [`CLOCK_REPLAY_SECONDS`] old, so a handler resumed right after a
    /// crash computes the same dates. An older one is replayed too while calls that succeeded
    /// are still to be replayed (the time must not change what they were), and replaced by
    /// the current time after that.
    pub fn clock(&self, current: i64) -> i64 {
        let call = "clock now".to_string();
        let seq = match self.step(&call) {
            Step::Replay(value) => match value.as_i64() {
                Some(then)
                    if (current - then).abs() < CLOCK_REPLAY_SECONDS
                        || self.succeeded_calls_ahead() =>
                {
                    return then;
                }
                // Too old, and nothing that succeeded depends on it: the current time
                // replaces it at the same place.
                _ => self.cursor().next - 1,
            },
            Step::Live(seq) => seq,
        };
        self.remember(seq, call, &Ok(current.into()));
        current
    }
}

mod record;
mod refetch;
#[cfg(test)]
mod tests;
