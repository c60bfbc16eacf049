//! The database schema and its migrations: each step brings an older database one version
//! on, all in one transaction.

use super::sql::{Connection, DbError, params};
use super::{SCHEMA_VERSION, StoreError};

/// Bring the schema to [`SCHEMA_VERSION`], one step at a time, in one transaction that
/// holds the write lock from the start (two processes opening an old database at once
/// migrate it once).
pub(super) fn migrate(connection: &Connection, path: &str) -> Result<(), StoreError> {
    let failed = |source| StoreError::Open {
        path: path.to_string(),
        source,
    };
    connection.begin().map_err(failed)?;
    let migrated = steps(connection, path);
    if migrated.is_err() {
        let _ = connection.control("ROLLBACK");
    }
    match migrated {
        Ok(()) => connection.control("COMMIT").map_err(failed),
        Err(e) => Err(e),
    }
}

/// The steps of [`migrate`], inside its transaction.
fn steps(tx: &Connection, path: &str) -> Result<(), StoreError> {
    let sqlite = |source| StoreError::Open {
        path: path.to_string(),
        source,
    };
    if let Connection::Postgres(_) = tx {
        // Two processes creating the tables at once: the second waits for the first.
        tx.execute_batch("SELECT pg_advisory_xact_lock(7468)")
            .map_err(sqlite)?;
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);",
    )
    .map_err(sqlite)?;
    let version: i64 = tx
        .query_opt(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            params![],
            |row| row.get(0),
        )
        .map_err(sqlite)?
        .unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: version,
        });
    }
    if version == 0 && matches!(tx, Connection::Postgres(_)) {
        // A new PostgreSQL database starts at the current schema: there is nothing older
        // to migrate.
        tx.execute_batch(POSTGRES).map_err(sqlite)?;
        tx.execute_batch(ALBUM_PARTS).map_err(sqlite)?;
        tx.execute_batch(BUSINESS_CONNECTIONS).map_err(sqlite)?;
        return set_version(tx).map_err(sqlite);
    }
    if version < 1 {
        tx.execute_batch(
            "CREATE TABLE state (
                 namespace TEXT NOT NULL, scope TEXT NOT NULL, scope_id TEXT NOT NULL,
                 key TEXT NOT NULL, value TEXT NOT NULL,
                 PRIMARY KEY (namespace, scope, scope_id, key));",
        )
        .map_err(sqlite)?;
    }
    if version < 2 {
        tx.execute_batch(
            "CREATE TABLE inbox (
                 update_id INTEGER PRIMARY KEY, chat_key INTEGER NOT NULL,
                 payload TEXT NOT NULL, status TEXT NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
                 received_at INTEGER NOT NULL, finished_at INTEGER);
             CREATE INDEX inbox_by_status ON inbox (status, update_id);
             CREATE TABLE inbox_handled (
                 update_id INTEGER NOT NULL, scenario TEXT NOT NULL,
                 PRIMARY KEY (update_id, scenario));
             CREATE TABLE journal (
                 update_id INTEGER NOT NULL, scenario TEXT NOT NULL, seq INTEGER NOT NULL,
                 call TEXT NOT NULL, result TEXT,
                 PRIMARY KEY (update_id, scenario, seq));",
        )
        .map_err(sqlite)?;
    }
    if version < 3 {
        // Arrival order: update ids are random after a week without updates.
        tx.execute_batch(
            "ALTER TABLE inbox ADD COLUMN arrival INTEGER NOT NULL DEFAULT 0;
             UPDATE inbox SET arrival = update_id;
             DROP INDEX inbox_by_status;
             CREATE INDEX inbox_by_status ON inbox (status, arrival);",
        )
        .map_err(sqlite)?;
    }
    if version < 4 {
        // Whether a try is under way: one the process did not survive is known at the next.
        tx.execute_batch("ALTER TABLE inbox ADD COLUMN running INTEGER NOT NULL DEFAULT 0;")
            .map_err(sqlite)?;
    }
    if version < 5 {
        // Many bots in one database: every inbox row carries its bot, the keys too; what was
        // kept before is the default bot's.
        tx.execute_batch(
            "CREATE TABLE inbox_v5 (
                 bot TEXT NOT NULL, update_id INTEGER NOT NULL, chat_key INTEGER NOT NULL,
                 payload TEXT NOT NULL, status TEXT NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
                 received_at INTEGER NOT NULL, finished_at INTEGER,
                 arrival INTEGER NOT NULL DEFAULT 0, running INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (bot, update_id));
             INSERT INTO inbox_v5 (bot, update_id, chat_key, payload, status, attempts, error,
                                   received_at, finished_at, arrival, running)
                 SELECT 'default', update_id, chat_key, payload, status, attempts, error,
                        received_at, finished_at, arrival, running FROM inbox;
             DROP TABLE inbox;
             ALTER TABLE inbox_v5 RENAME TO inbox;
             CREATE INDEX inbox_by_status ON inbox (bot, status, arrival);
             CREATE TABLE inbox_handled_v5 (
                 bot TEXT NOT NULL, update_id INTEGER NOT NULL, scenario TEXT NOT NULL,
                 PRIMARY KEY (bot, update_id, scenario));
             INSERT INTO inbox_handled_v5 (bot, update_id, scenario)
                 SELECT 'default', update_id, scenario FROM inbox_handled;
             DROP TABLE inbox_handled;
             ALTER TABLE inbox_handled_v5 RENAME TO inbox_handled;
             CREATE TABLE journal_v5 (
                 bot TEXT NOT NULL, update_id INTEGER NOT NULL, scenario TEXT NOT NULL,
                 seq INTEGER NOT NULL, call TEXT NOT NULL, result TEXT,
                 PRIMARY KEY (bot, update_id, scenario, seq));
             INSERT INTO journal_v5 (bot, update_id, scenario, seq, call, result)
                 SELECT 'default', update_id, scenario, seq, call, result FROM journal;
             DROP TABLE journal;
             ALTER TABLE journal_v5 RENAME TO journal;",
        )
        .map_err(sqlite)?;
    }
    if version < 6 {
        // Bots added through the gateway, kept across restarts.
        tx.execute_batch(
            "CREATE TABLE bots (
                 id TEXT PRIMARY KEY, token TEXT NOT NULL, mode TEXT NOT NULL,
                 scripts TEXT NOT NULL, api_url TEXT);",
        )
        .map_err(sqlite)?;
    }
    if version < 7 {
        // Accounts added through the gateway, kept across restarts (their spec as JSON).
        tx.execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, spec TEXT NOT NULL);")
            .map_err(sqlite)?;
    }
    if version < 8 {
        // Durable timers and conversation waits (`schedule`, `every`, `expect_message`).
        tx.execute_batch(
            "CREATE TABLE jobs (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, bot TEXT NOT NULL, scenario TEXT NOT NULL,
                 kind TEXT NOT NULL, function TEXT NOT NULL, data TEXT NOT NULL,
                 chat_id INTEGER, user_id INTEGER, message_id INTEGER,
                 due_at INTEGER, every TEXT, created_at INTEGER NOT NULL,
                 answered_by INTEGER, answered_at INTEGER);
             CREATE INDEX jobs_by_due ON jobs (bot, due_at);
             CREATE INDEX jobs_by_scenario ON jobs (scenario);
             CREATE INDEX jobs_waiting ON jobs (bot, chat_id, user_id) WHERE kind = 'expect';",
        )
        .map_err(sqlite)?;
    }
    if version < 9 {
        // Tenants: a gateway-added bot's tenant, and the tenants' gateway tokens added by the
        // admin, kept as SHA-256 hashes (written to work on SQLite and PostgreSQL alike).
        tx.execute_batch(
            "ALTER TABLE bots ADD COLUMN tenant TEXT;
             CREATE TABLE tenant_tokens (
                 hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, created_at BIGINT NOT NULL);",
        )
        .map_err(sqlite)?;
    }
    if version < 10 {
        // The ledger of payments: the update that first brought each one.
        tx.execute_batch(
            "CREATE TABLE payments (
                 bot TEXT NOT NULL, charge_id TEXT NOT NULL, update_id BIGINT NOT NULL,
                 received_at BIGINT NOT NULL, PRIMARY KEY (bot, charge_id));",
        )
        .map_err(sqlite)?;
    }
    if version < 11 {
        // The parts of albums still gathering: an album half-received when the process stops
        // is completed after the restart.
        tx.execute_batch(ALBUM_PARTS).map_err(sqlite)?;
    }
    if version < 12 {
        // The business connections each bot knows, as JSON, by bot and connection id.
        tx.execute_batch(BUSINESS_CONNECTIONS).map_err(sqlite)?;
    }
    if version < SCHEMA_VERSION {
        set_version(tx).map_err(sqlite)?;
    }
    Ok(())
}

/// The parts of albums still gathering (the same in SQLite and PostgreSQL).
const ALBUM_PARTS: &str = "
    CREATE TABLE inbox_album_parts (
        bot TEXT NOT NULL, update_id BIGINT NOT NULL, chat_key BIGINT NOT NULL,
        media_group_id TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (bot, update_id));
    CREATE INDEX inbox_album_parts_by_album ON inbox_album_parts (bot, chat_key, media_group_id);";

/// The business connections each bot knows (the same in SQLite and PostgreSQL).
const BUSINESS_CONNECTIONS: &str = "
    CREATE TABLE business_connections (
        bot TEXT NOT NULL, id TEXT NOT NULL, connection TEXT NOT NULL, PRIMARY KEY (bot, id));";

/// Record that the schema is at [`SCHEMA_VERSION`].
fn set_version(tx: &Connection) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SCHEMA_VERSION],
    )
    .map(drop)
}

/// The schema at version 10 in PostgreSQL's types: the tables SQLite reaches through the
/// steps above, one for one (integers 64-bit, so both hold the same values); the tables of
/// later steps are written for both alike and created after it.
const POSTGRES: &str = "
    CREATE TABLE state (
        namespace TEXT NOT NULL, scope TEXT NOT NULL, scope_id TEXT NOT NULL,
        key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (namespace, scope, scope_id, key));
    CREATE TABLE inbox (
        bot TEXT NOT NULL, update_id BIGINT NOT NULL, chat_key BIGINT NOT NULL,
        payload TEXT NOT NULL, status TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0, error TEXT,
        received_at BIGINT NOT NULL, finished_at BIGINT,
        arrival BIGINT NOT NULL DEFAULT 0, running BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (bot, update_id));
    CREATE INDEX inbox_by_status ON inbox (bot, status, arrival);
    CREATE TABLE inbox_handled (
        bot TEXT NOT NULL, update_id BIGINT NOT NULL, scenario TEXT NOT NULL,
        PRIMARY KEY (bot, update_id, scenario));
    CREATE TABLE journal (
        bot TEXT NOT NULL, update_id BIGINT NOT NULL, scenario TEXT NOT NULL,
        seq BIGINT NOT NULL, call TEXT NOT NULL, result TEXT,
        PRIMARY KEY (bot, update_id, scenario, seq));
    CREATE TABLE bots (
        id TEXT PRIMARY KEY, token TEXT NOT NULL, mode TEXT NOT NULL,
        scripts TEXT NOT NULL, api_url TEXT, tenant TEXT);
    CREATE TABLE tenant_tokens (
        hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, created_at BIGINT NOT NULL);
    CREATE TABLE accounts (id BIGINT PRIMARY KEY, spec TEXT NOT NULL);
    CREATE TABLE payments (
        bot TEXT NOT NULL, charge_id TEXT NOT NULL, update_id BIGINT NOT NULL,
        received_at BIGINT NOT NULL, PRIMARY KEY (bot, charge_id));
    CREATE TABLE jobs (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, bot TEXT NOT NULL,
        scenario TEXT NOT NULL, kind TEXT NOT NULL, function TEXT NOT NULL, data TEXT NOT NULL,
        chat_id BIGINT, user_id BIGINT, message_id BIGINT,
        due_at BIGINT, every TEXT, created_at BIGINT NOT NULL,
        answered_by BIGINT, answered_at BIGINT);
    CREATE INDEX jobs_by_due ON jobs (bot, due_at);
    CREATE INDEX jobs_by_scenario ON jobs (scenario);
    CREATE INDEX jobs_waiting ON jobs (bot, chat_id, user_id) WHERE kind = 'expect';
";
