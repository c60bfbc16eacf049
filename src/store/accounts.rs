//! Accounts added through the gateway (`add_account`), kept so they survive a restart: each
//! as its spec (JSON written by the application; the api_hash itself is never in it, only the
//! name of the variable holding it).

use super::sql::params;
use super::{Store, StoreError};

impl Store {
    /// Keep account `id` with `spec` (replacing one with its id).
    pub fn save_account(&self, id: i64, spec: &str) -> Result<(), StoreError> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO accounts (id, spec) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET spec = excluded.spec",
                params![id, spec],
            )
            .map(drop)
            .map_err(StoreError::query("accounts"))
        })
    }

    /// Forget account `id`; whether it was kept.
    pub fn forget_account(&self, id: i64) -> Result<bool, StoreError> {
        self.transaction(|tx| {
            tx.execute("DELETE FROM accounts WHERE id = ?1", params![id])
                .map(|n| n > 0)
                .map_err(StoreError::query("accounts"))
        })
    }

    /// Every account kept, as `(id, spec)`, by id.
    pub fn saved_accounts(&self) -> Result<Vec<(i64, String)>, StoreError> {
        self.lock()
            .query_map(
                "SELECT id, spec FROM accounts ORDER BY id",
                params![],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(StoreError::query("accounts"))
    }
}
