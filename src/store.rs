//! Script state in an embedded SQLite database: values kept per chat, per user, per chat
//! member and per scenario, each scenario in a namespace of its own (plus one namespace the
//! scenarios share on purpose). Values are JSON with a size limit per value and per scope;
//! a write is durable when the call returns (WAL, synchronous commits).

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Largest value one key may hold, as compact JSON.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Largest total of the values of one scope (one chat, user, member or scenario).
pub const MAX_SCOPE_BYTES: usize = 1024 * 1024;
/// The namespace `shared_get`/`shared_set` use: visible to every scenario. Empty, so no
/// scenario's own namespace (its file name without `.rhai`) can be it.
pub const SHARED_NAMESPACE: &str = "";
/// The schema version this build writes.
const SCHEMA_VERSION: i64 = 1;

/// Whose value it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateScope {
    /// One chat.
    Chat(i64),
    /// One user, across chats.
    User(i64),
    /// One user in one chat.
    Member(i64, i64),
    /// The whole scenario.
    Global,
}

impl StateScope {
    /// The scope's kind and id as stored.
    fn columns(self) -> (&'static str, String) {
        match self {
            StateScope::Chat(c) => ("chat", c.to_string()),
            StateScope::User(u) => ("user", u.to_string()),
            StateScope::Member(c, u) => ("member", format!("{c}:{u}")),
            StateScope::Global => ("global", String::new()),
        }
    }
}

impl fmt::Display for StateScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateScope::Chat(c) => write!(f, "chat {c}"),
            StateScope::User(u) => write!(f, "user {u}"),
            StateScope::Member(c, u) => write!(f, "member {u} of chat {c}"),
            StateScope::Global => f.write_str("the scenario"),
        }
    }
}

/// Why the store could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("state database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The database was written by a newer tgscript.
    #[error(
        "state database {path} has schema version {found}; this tgscript knows up to {SCHEMA_VERSION}: upgrade tgscript"
    )]
    TooNew {
        /// The database file.
        path: String,
        /// Its version.
        found: i64,
    },
}

/// The state of every scenario.
pub struct StateStore {
    connection: Mutex<Connection>,
    path: String,
}

impl fmt::Debug for StateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateStore")
            .field("path", &self.path)
            .finish()
    }
}

impl Default for StateStore {
    fn default() -> Self {
        Self::in_memory()
    }
}

impl StateStore {
    /// Open (creating it and its folder if needed) the database at `path`, migrating it to
    /// the current schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let sqlite = |source| StoreError::Sqlite {
            path: shown.clone(),
            source,
        };
        let connection = Connection::open(path).map_err(sqlite)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(sqlite)?;
        migrate(&connection, &shown)?;
        Ok(Self {
            connection: Mutex::new(connection),
            path: shown,
        })
    }

    /// A store that lives in memory only (for `check`, `docs` and tests).
    pub fn in_memory() -> Self {
        let connection = Connection::open_in_memory().unwrap_or_else(|_| {
            // SQLite in memory cannot fail short of allocation failure.
            panic!("SQLite could not open an in-memory database")
        });
        let _ = migrate(&connection, ":memory:");
        Self {
            connection: Mutex::new(connection),
            path: ":memory:".into(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key`, if set.
    pub fn get(
        &self,
        namespace: &str,
        scope: StateScope,
        key: &str,
    ) -> Result<Option<Value>, String> {
        let (kind, id) = scope.columns();
        let text: Option<String> = self
            .lock()
            .query_row(
                "SELECT value FROM state WHERE namespace = ?1 AND scope = ?2 AND scope_id = ?3 AND key = ?4",
                params![namespace, kind, id, key],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| format!("cannot read state: {e}"))?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Set `key` to `value` (`null` deletes it), durably. Refuses values over
    /// [`MAX_VALUE_BYTES`] and scopes that would grow over [`MAX_SCOPE_BYTES`].
    pub fn set(
        &self,
        namespace: &str,
        scope: StateScope,
        key: &str,
        value: Value,
    ) -> Result<(), String> {
        if value.is_null() {
            self.delete(namespace, scope, key)?;
            return Ok(());
        }
        let text = value.to_string();
        if text.len() > MAX_VALUE_BYTES {
            return Err(format!(
                "the value for '{key}' is {} bytes as JSON; the limit is {MAX_VALUE_BYTES}",
                text.len()
            ));
        }
        let (kind, id) = scope.columns();
        let connection = self.lock();
        let others: i64 = connection
            .query_row(
                "SELECT COALESCE(SUM(LENGTH(value)), 0) FROM state WHERE namespace = ?1 AND scope = ?2 AND scope_id = ?3 AND key != ?4",
                params![namespace, kind, id, key],
                |row| row.get(0),
            )
            .map_err(|e| format!("cannot read state: {e}"))?;
        let total = others as usize + text.len();
        if total > MAX_SCOPE_BYTES {
            return Err(format!(
                "the state of {scope} would grow to {total} bytes; the limit per scope is {MAX_SCOPE_BYTES}: delete keys it no longer needs"
            ));
        }
        connection
            .execute(
                "INSERT INTO state (namespace, scope, scope_id, key, value) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (namespace, scope, scope_id, key) DO UPDATE SET value = excluded.value",
                params![namespace, kind, id, key, text],
            )
            .map_err(|e| format!("cannot write state: {e}"))?;
        Ok(())
    }

    /// Remove `key`; returns whether it was set.
    pub fn delete(&self, namespace: &str, scope: StateScope, key: &str) -> Result<bool, String> {
        let (kind, id) = scope.columns();
        self.lock()
            .execute(
                "DELETE FROM state WHERE namespace = ?1 AND scope = ?2 AND scope_id = ?3 AND key = ?4",
                params![namespace, kind, id, key],
            )
            .map(|n| n > 0)
            .map_err(|e| format!("cannot write state: {e}"))
    }
}

/// Bring the schema to [`SCHEMA_VERSION`], one step at a time.
fn migrate(connection: &Connection, path: &str) -> Result<(), StoreError> {
    let sqlite = |source| StoreError::Sqlite {
        path: path.to_string(),
        source,
    };
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )
        .map_err(sqlite)?;
    let version: i64 = connection
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(sqlite)?
        .unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: version,
        });
    }
    if version < 1 {
        connection
            .execute_batch(
                "BEGIN;
                 CREATE TABLE state (
                     namespace TEXT NOT NULL, scope TEXT NOT NULL, scope_id TEXT NOT NULL,
                     key TEXT NOT NULL, value TEXT NOT NULL,
                     PRIMARY KEY (namespace, scope, scope_id, key));
                 INSERT INTO meta (key, value) VALUES ('schema_version', 1)
                     ON CONFLICT (key) DO UPDATE SET value = 1;
                 COMMIT;",
            )
            .map_err(sqlite)?;
    }
    Ok(())
}
