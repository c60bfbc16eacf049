//! Ids for updates of this process's own making (account events, due jobs): negative, so
//! they never meet Telegram's, and each lower than the last.

use super::Inbox;
use crate::store::StoreError;
use crate::store::sql::{Connection, params};
use std::time::{SystemTime, UNIX_EPOCH};

/// The id of an update of this process's own making after `last` (see
/// [`Inbox::local_update_id`]); without an inbox, ids only need to differ from the last.
pub fn local_id_after(last: i64) -> i64 {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    (-micros).min(last - 1)
}

impl Inbox {
    /// A new id for an update of this process's own making (inside [`Inbox::accept_made`]'s
    /// transaction `tx`): negative (Telegram's are positive), lower than any the inbox holds
    /// and any taken before, following the clock in µs.
    pub(crate) fn local_update_id(&self, tx: &Connection) -> Result<i64, StoreError> {
        let mut last = self
            .last_local_id
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let lowest = match *last {
            Some(last) => last,
            None => tx
                .query_row(
                    "SELECT MIN(update_id) FROM inbox WHERE bot = ?1",
                    params![self.bot],
                    |row| row.get::<Option<i64>>(0),
                )
                .map_err(StoreError::query("inbox"))?
                .unwrap_or(0)
                .min(0),
        };
        let id = local_id_after(lowest);
        *last = Some(id);
        Ok(id)
    }
}
