//! One journal record: how a call's result is written down and read back, and how records
//! are written.

use crate::store::StoreError;
use crate::store::sql::{Connection, params};
use serde_json::{Value, json};

/// One recorded call.
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) seq: i64,
    pub(super) call: String,
    /// `{"ok": value}` or `{"err": error}`; `None` for a call without an answer.
    pub(super) result: Option<String>,
}

/// A call's result as recorded.
pub(super) fn encode(result: &Result<Value, Value>) -> String {
    match result {
        Ok(value) => json!({ "ok": value }).to_string(),
        Err(error) => json!({ "err": error }).to_string(),
    }
}

/// A recorded result read back; `None` when it is not one.
pub(super) fn decode(text: &str) -> Option<Result<Value, Value>> {
    let mut value: Value = serde_json::from_str(text).ok()?;
    if let Some(ok) = value.get_mut("ok") {
        return Some(Ok(ok.take()));
    }
    value.get_mut("err").map(|err| Err(err.take()))
}

/// Write the records of `scenario`'s handler for `bot`'s `update_id` (dropping the stale ones, from
/// `stale_from` on, first) on `connection`, inside the caller's transaction.
pub(super) fn write_records(
    connection: &Connection,
    bot: &str,
    update_id: i64,
    scenario: &str,
    records: &[Record],
    stale_from: Option<i64>,
) -> Result<(), StoreError> {
    let err = StoreError::query("journal");
    if let Some(seq) = stale_from {
        connection
            .execute(
                "DELETE FROM journal WHERE update_id = ?1 AND scenario = ?2 AND seq >= ?3 AND bot = ?4",
                params![update_id, scenario, seq, bot],
            )
            .map_err(err)?;
    }
    for record in records {
        connection
            .execute(
                "INSERT INTO journal (update_id, scenario, seq, call, result, bot) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (bot, update_id, scenario, seq) DO UPDATE SET call = excluded.call, result = excluded.result",
                params![
                    update_id,
                    scenario,
                    record.seq,
                    record.call,
                    record.result,
                    bot
                ],
            )
            .map_err(err)?;
    }
    Ok(())
}

/// The first words of a call, for the log (its arguments may be long).
pub(super) fn summary(call: &str) -> String {
    let mut words = call.split(' ');
    let kind = words.next().unwrap_or_default();
    let name = words.next().unwrap_or_default();
    format!("{kind} {name}")
}
