//! The embedded SQLite database (`[store] path`): script state, the update inbox and the
//! handlers' call journal (tables of [`crate::inbox`]), behind one connection.
//!
//! Script state is kept per chat, per user, per chat member and per scenario, each scenario in
//! a namespace of its own (plus one namespace the scenarios share on purpose). Values are JSON
//! with a size limit per value and per scope; a write is durable when the call returns (WAL,
//! synchronous commits).

mod accounts;
mod backup;
mod bots;
mod business;
mod claim;
mod commit;
pub mod jobs;
mod payments;
mod pg_tls;
mod postgres;
mod schema;
pub(crate) mod sql;
mod state;
#[cfg(test)]
pub(crate) mod testing;
mod tokens;

pub use backup::{BackupReport, backup};
pub use bots::SavedBot;
pub use claim::{Claim, ClaimMode};
pub(crate) use postgres::without_password;
pub use tokens::{TOKEN_ID_DIGITS, TenantToken};

pub use commit::Pending;

pub(crate) use state::apply_on;
#[cfg(test)]
pub(crate) use state::set_on;
pub use state::{
    MAX_SCOPE_BYTES, MAX_VALUE_BYTES, SHARED_NAMESPACE, StateOp, StateScope, namespace_owner,
    namespace_prefix, shared_namespace,
};

use sql::Connection;
pub use sql::DbError;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The id of the bot `TELOXIDE_TOKEN` names when no `[[bot]]` is configured (and of
/// everything kept before bots had ids).
pub const DEFAULT_BOT: &str = "default";

/// What an in-memory store calls its path.
const MEMORY: &str = ":memory:";

/// The schema version this build writes.
const SCHEMA_VERSION: i64 = 12;

/// Why the store could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("state database {path}: {source}")]
    Open {
        /// The database file, or the server's address.
        path: String,
        /// The backend's error.
        source: DbError,
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
    /// A transaction could not begin or commit.
    #[error("cannot write to the database: {0}")]
    Commit(DbError),
    /// A backup could not be taken (what went wrong, and what to do).
    #[error("backup: {0}")]
    Backup(String),
    /// The shared commit a queued write was part of failed (SQLite's words).
    #[error("cannot write to the database: {0}")]
    CommitFailed(String),
    /// A query of `what` (state, the inbox, the journal) failed.
    #[error("{what}: {error}")]
    Query {
        /// Whose query.
        what: &'static str,
        /// The backend's error.
        error: DbError,
    },
    /// A state value over [`MAX_VALUE_BYTES`].
    #[error("the value for '{key}' is {bytes} bytes as JSON; the limit is {MAX_VALUE_BYTES}")]
    ValueTooLarge {
        /// The key.
        key: String,
        /// Its size as JSON.
        bytes: usize,
    },
    /// A write that would grow a scope over [`MAX_SCOPE_BYTES`].
    #[error(
        "the state of {scope} would grow to {total} bytes; the limit per scope is {MAX_SCOPE_BYTES}: delete keys it no longer needs"
    )]
    ScopeFull {
        /// The scope.
        scope: StateScope,
        /// Its size after the write.
        total: usize,
    },
    /// A stored state value is not JSON any more (the database was edited by hand, or
    /// damaged).
    #[error("the stored value of '{key}' cannot be read back ({error}): set it again or delete it")]
    Unreadable {
        /// The key.
        key: String,
        /// The JSON error.
        error: String,
    },
    /// A write that would give a scenario's state one scope more than it may hold.
    #[error(
        "the state of namespace '{namespace}' already spans {scopes} scopes (chats, users, members); the limit is {limit}: delete what it no longer needs, or raise [limits] max_state_scopes"
    )]
    TooManyScopes {
        /// The namespace.
        namespace: String,
        /// Scopes it holds.
        scopes: usize,
        /// The limit.
        limit: usize,
    },
    /// The claim's lock file could not be created.
    #[error("cannot create {path}: {error}")]
    LockFile {
        /// The lock file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// A handler recorded more than this many bytes of calls for one update.
    #[error(
        "journal limit exceeded: this handler recorded more than {0} bytes of calls for one update (raise [limits] max_journal_bytes if it needs more)"
    )]
    JournalFull(usize),
    /// A job that cannot be scheduled, or one that is not there.
    #[error("{0}")]
    Job(String),
    /// A store error as a script worker process was told of it by its host: the host's
    /// words.
    #[error("{0}")]
    Remote(String),
    /// Another process holds the claim.
    #[error(
        "{path} is in use by another `tgscript run` (one process per database, unless all are instances of one [cluster]): stop it, or give this one its own [store] path"
    )]
    InUse {
        /// The database file.
        path: String,
    },
}

impl StoreError {
    /// A failed query of `what`, as a `map_err` argument.
    pub fn query<E: Into<DbError>>(what: &'static str) -> impl Fn(E) -> StoreError + Copy {
        move |error| StoreError::Query {
            what,
            error: error.into(),
        }
    }
}

/// How far a commit must reach before it returns, weaker before stronger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Durability {
    /// Handed to the OS: survives the process being killed, not a power loss. For records
    /// whose loss only means a replay (journal entries, completion marks). The next
    /// [`Durability::Disk`] commit syncs them too: a power loss can lose those committed since
    /// the last one.
    Process,
    /// On disk (fsync): survives a power loss. State writes, and updates before they are
    /// acknowledged to Telegram.
    Disk,
}

/// The database: the state of every scenario, the inbox and the journal.
pub struct Store {
    shared: Arc<Shared>,
    committer: Option<std::thread::JoinHandle<()>>,
    /// How many scopes one namespace may hold (0, until [`Store::limit_scopes`]: no limit).
    max_scopes: AtomicUsize,
    /// Per bot, what its job scheduler waits on: told when its jobs change.
    job_signals: Mutex<std::collections::HashMap<String, Arc<tokio::sync::Notify>>>,
    /// Whether any `expect_message` wait may be stored (until then messages skip the look).
    waits: AtomicBool,
    /// On PostgreSQL: whether the server session has ended (and with it the claims held on it).
    session_ended: Option<tokio::sync::watch::Receiver<bool>>,
}

/// What the store shares with its committer thread (see [`commit`]).
struct Shared {
    connection: Mutex<Connection>,
    /// Whether the connection commits at [`Durability::Process`] now (`synchronous =
    /// NORMAL`); changed only with the connection locked.
    relaxed: AtomicBool,
    path: String,
    /// Writes waiting for the next commit.
    queue: Mutex<commit::Queue>,
    /// Wakes the committer thread.
    ready: Condvar,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.shared.path)
            .finish()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        commit::close(&self.shared);
        if let Some(committer) = self.committer.take() {
            let _ = committer.join();
        }
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::in_memory()
    }
}

impl Store {
    /// Open (creating it and its folder if needed) the database at `path`, migrating it to
    /// the current schema. A database it creates is readable by its owner only (it may hold
    /// bot tokens added through the gateway).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path);
        }
        let open = |source: rusqlite::Error| StoreError::Open {
            path: shown.clone(),
            source: source.into(),
        };
        let connection = rusqlite::Connection::open(path).map_err(open)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(open)?;
        let connection = Connection::sqlite(connection);
        schema::migrate(&connection, &shown)?;
        Ok(Self::over(connection, shown))
    }

    /// Connect to the PostgreSQL database at `url` (`postgres://user@host:port/db`),
    /// creating the store's tables there if they are missing.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let shown = postgres::without_password(url);
        let open = |source: DbError| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let pg = postgres::Pg::connect(url).map_err(open)?;
        let ended = pg.ended();
        let connection = Connection::Postgres(pg);
        schema::migrate(&connection, &shown)?;
        let mut store = Self::over(connection, shown);
        store.session_ended = Some(ended);
        Ok(store)
    }

    /// Resolves once the store's server session has ended (PostgreSQL: the connection is
    /// gone, and with it every claim held on it; it is not made again); never for SQLite.
    pub async fn session_ended(&self) {
        match self.session_ended.clone() {
            Some(mut ended) => {
                let _ = ended.wait_for(|ended| *ended).await;
            }
            None => std::future::pending().await,
        }
    }

    /// A store that lives in memory only (for `check`, `docs` and tests).
    pub fn in_memory() -> Self {
        let connection = rusqlite::Connection::open_in_memory().unwrap_or_else(|_| {
            // SQLite in memory cannot fail short of allocation failure.
            panic!("SQLite could not open an in-memory database")
        });
        let connection = Connection::sqlite(connection);
        let _ = schema::migrate(&connection, MEMORY);
        Self::over(connection, MEMORY.into())
    }

    /// The store on `connection` (migrated), with its committer thread started.
    fn over(connection: Connection, path: String) -> Self {
        let waits = jobs::any_waits(&connection).unwrap_or(true);
        let shared = Arc::new(Shared {
            connection: Mutex::new(connection),
            relaxed: AtomicBool::new(false),
            path,
            queue: Mutex::default(),
            ready: Condvar::new(),
        });
        let for_thread = shared.clone();
        let committer = std::thread::Builder::new()
            .name("store-commit".into())
            .spawn(move || commit::committer(for_thread))
            .map_err(|e| {
                tracing::warn!(
                    "no committer thread ({e}); queued writes wait for the next use of the database"
                )
            })
            .ok();
        Self {
            shared,
            committer,
            max_scopes: AtomicUsize::new(0),
            job_signals: Mutex::default(),
            waits: AtomicBool::new(waits),
            session_ended: None,
        }
    }

    /// Let one namespace (a scenario's state) hold at most `scopes` scopes (0: no limit).
    pub fn limit_scopes(&self, scopes: usize) {
        self.max_scopes.store(scopes, Ordering::Relaxed);
    }

    /// How many scopes one namespace may hold (0: no limit).
    pub(crate) fn max_scopes(&self) -> usize {
        self.max_scopes.load(Ordering::Relaxed)
    }

    /// The connection, for the inbox and journal queries of [`crate::inbox`], with every
    /// queued write committed first (so a read sees them).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        commit::lock(&self.shared)
    }

    /// Commit every queued write now (before the process ends, say).
    pub fn flush(&self) {
        drop(self.lock());
    }

    /// Run `f` in one transaction, on disk when it returns: everything it writes is
    /// committed together, or nothing.
    pub(crate) fn transaction<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, E>,
    ) -> Result<R, E> {
        self.transaction_with(Durability::Disk, f)
    }

    /// Run `f` in one transaction committed as far as `durability` says.
    pub(crate) fn transaction_with<R, E: From<StoreError>>(
        &self,
        durability: Durability,
        f: impl FnOnce(&Connection) -> Result<R, E>,
    ) -> Result<R, E> {
        commit::transaction(&self.shared, durability, f)
    }
}

impl Store {
    /// Whether the store lives in memory only (what it holds ends with the process).
    pub fn is_in_memory(&self) -> bool {
        self.shared.path == MEMORY
    }

    /// Whether the store is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(*self.lock(), Connection::Postgres(_))
    }
}
