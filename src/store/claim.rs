//! Claims on a database: one `tgscript run` per store, since two would handle the same
//! updates; in a cluster, the store shared by its instances and each bot claimed by the one
//! instance that runs it.

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
    /// A session-level advisory lock on the store's connection (PostgreSQL), which the
    /// server drops when the connection ends, however the process ends.
    Advisory {
        /// The store it is held on.
        shared: Arc<Shared>,
        /// The text the lock's key is hashed from.
        key: String,
        /// Whether it is the shared kind (many holders) rather than the exclusive one.
        many: bool,
    },
    /// Nothing of its own: the claim on the whole store covers it (SQLite, one process).
    Covered,
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Held::File { .. } => "Held::File",
            Held::Advisory { .. } => "Held::Advisory",
            Held::Covered => "Held::Covered",
        })
    }
}

/// What a PostgreSQL store's advisory lock is keyed with (hashed by the server).
const STORE_KEY: &str = "tgscript:store";

/// How a `run` claims its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimMode {
    /// Alone: no other process may run on the store.
    Alone,
    /// As one instance of a cluster: other instances may, a lone `run` may not; each bot is
    /// claimed on its own ([`Store::claim_bot`]).
    Cluster,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Held::Advisory { shared, key, many } = &self.held {
            let unlock = match many {
                true => "SELECT pg_advisory_unlock_shared(hashtextextended(?1, 0))",
                false => "SELECT pg_advisory_unlock(hashtextextended(?1, 0))",
            };
            let connection = commit::lock(shared);
            let released: Result<bool, _> =
                connection.query_row(unlock, sql::params![key.as_str()], |row| row.get(0));
            match released {
                Ok(true) => {}
                Ok(false) => tracing::error!("the claim {key} on {} was not held", shared.path),
                Err(e) => tracing::error!(
                    "the claim {key} on {} could not be released ({e}): it is held until this process ends",
                    shared.path
                ),
            }
        }
    }
}

/// How long a claim of a PostgreSQL store is asked again before it is refused as in use.
const HANDOVER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Store {
    /// Claim the database for this process (`mode`): on SQLite `PATH.lock`, an advisory
    /// lock the OS drops when the process ends, however it ends; on PostgreSQL an advisory
    /// lock the server drops when the connection ends (shared among a cluster's instances),
    /// asked again for [`HANDOVER_WAIT`] before it is refused.
    /// `None` for an in-memory store.
    pub fn claim(&self, mode: ClaimMode) -> Result<Option<Claim>, StoreError> {
        if self.is_in_memory() {
            return Ok(None);
        }
        let in_use = || StoreError::InUse {
            path: self.shared.path.clone(),
        };
        if self.is_postgres() {
            // A process killed a moment ago holds it until the server notices that its
            // connection is gone (at once, unless its backend was busy): ask again a while.
            let deadline = std::time::Instant::now() + HANDOVER_WAIT;
            loop {
                if let Some(claim) = self.advisory(STORE_KEY, mode == ClaimMode::Cluster)? {
                    return Ok(Some(claim));
                }
                if std::time::Instant::now() >= deadline {
                    return Err(in_use());
                }
                tracing::debug!(
                    "the database is claimed; asking again in case its holder just ended"
                );
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
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

impl Store {
    /// Claim bot `id` for this instance of a cluster, or `None` while another instance holds
    /// it (it stops, or dies, and the server lets go). On SQLite the store's own claim
    /// covers every bot.
    pub fn claim_bot(&self, id: &str) -> Result<Option<Claim>, StoreError> {
        self.claim_one(&format!("tgscript:bot:{id}"))
    }

    /// Claim account `id` for this instance of a cluster (only its holder opens its TDLib
    /// database), or `None` while another instance holds it. On SQLite the store's own
    /// claim covers every account.
    pub fn claim_account(&self, id: i64) -> Result<Option<Claim>, StoreError> {
        self.claim_one(&format!("tgscript:account:{id}"))
    }

    /// The exclusive claim keyed `key` on PostgreSQL; covered by the store's on SQLite.
    fn claim_one(&self, key: &str) -> Result<Option<Claim>, StoreError> {
        match self.is_postgres() {
            true => self.advisory(key, false),
            false => Ok(Some(Claim {
                held: Held::Covered,
            })),
        }
    }

    /// Take the advisory lock keyed by `key` (of the shared kind when `many`), if free.
    fn advisory(&self, key: &str, many: bool) -> Result<Option<Claim>, StoreError> {
        let try_lock = match many {
            true => "SELECT pg_try_advisory_lock_shared(hashtextextended(?1, 0))",
            false => "SELECT pg_try_advisory_lock(hashtextextended(?1, 0))",
        };
        let taken: bool = self
            .lock()
            .query_row(try_lock, sql::params![key], |row| row.get(0))
            .map_err(StoreError::query("the claim"))?;
        Ok(taken.then(|| Claim {
            held: Held::Advisory {
                shared: self.shared.clone(),
                key: key.to_string(),
                many,
            },
        }))
    }
}
