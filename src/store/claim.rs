//! The claim on a database: one `tgscript run` per store, since two would handle the same
//! updates.

use super::commit;
use super::sql;
use super::{Shared, Store, StoreError};
use std::fmt;
use std::sync::Arc;

/// An exclusive claim on a database for one `tgscript run`, held until dropped: two processes
/// handling the same inbox would run the same handlers twice.
#[derive(Debug)]
pub struct Claim {
    held: Held,
}

/// What holds a claim.
enum Held {
    /// A lock on `PATH.lock` (SQLite), released when the file is closed.
    File {
        /// The open lock file.
        _lock: std::fs::File,
    },
    /// A session-level advisory lock on the store's connection (PostgreSQL).
    Advisory(Arc<Shared>),
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Held::File { .. } => "Held::File",
            Held::Advisory(_) => "Held::Advisory",
        })
    }
}

/// The key of the advisory lock a PostgreSQL store is claimed with.
const CLAIM_KEY: i64 = 0x7467_7363_7269_7074; // "tgscript"

impl Drop for Claim {
    fn drop(&mut self) {
        if let Held::Advisory(shared) = &self.held {
            let connection = commit::lock(shared);
            if let Err(e) =
                connection.execute("SELECT pg_advisory_unlock(?1)", sql::params![CLAIM_KEY])
            {
                tracing::warn!("the claim on {} could not be released: {e}", shared.path);
            }
        }
    }
}

impl Store {
    /// Claim the database for this process: on SQLite `PATH.lock`, an advisory lock the OS
    /// drops when the process ends, however it ends; on PostgreSQL an advisory lock the server
    /// drops when the connection ends. `None` for an in-memory store.
    pub fn claim(&self) -> Result<Option<Claim>, StoreError> {
        if self.is_in_memory() {
            return Ok(None);
        }
        let in_use = || StoreError::InUse {
            path: self.shared.path.clone(),
        };
        if self.is_postgres() {
            let taken: bool = self
                .lock()
                .query_row(
                    "SELECT pg_try_advisory_lock(?1)",
                    sql::params![CLAIM_KEY],
                    |row| row.get(0),
                )
                .map_err(StoreError::query("the claim"))?;
            return match taken {
                true => Ok(Some(Claim {
                    held: Held::Advisory(self.shared.clone()),
                })),
                false => Err(in_use()),
            };
        }
        let lock_path = format!("{}.lock", self.shared.path);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|error| StoreError::LockFile {
                path: lock_path.clone(),
                error,
            })?;
        if file.try_lock().is_err() {
            return Err(in_use());
        }
        Ok(Some(Claim {
            held: Held::File { _lock: file },
        }))
    }
}
