//! One SQL interface over the store's two backends: SQLite (embedded, `[store] path`, the
//! default) and PostgreSQL (`[store] url`). The store's queries are written once, in the SQL
//! both understand (`INSERT … ON CONFLICT`, `RETURNING`, `COALESCE`, savepoints), with `?N`
//! placeholders; what differs — placeholders, transaction control, durability settings,
//! column types — is decided here and in [`super::postgres`].

pub(crate) mod values;

pub use values::DbError;
pub(crate) use values::{FromValue, Param, ToParam, Value, params};

use super::Durability;
use super::postgres::Pg;
use std::fmt;

/// A connection to one of the backends.
pub(crate) enum Connection {
    /// The embedded database.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL server.
    Postgres(Pg),
}

/// How many statements the SQLite connection keeps prepared (the inbox's hot path uses
/// about thirty).
const STATEMENT_CACHE: usize = 64;

/// One row of a result.
pub(crate) enum Row<'a> {
    /// From SQLite.
    Sqlite(&'a rusqlite::Row<'a>),
    /// From PostgreSQL.
    Postgres(&'a tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `column` as a `T`.
    pub fn get<T: FromValue>(&self, column: usize) -> Result<T, DbError> {
        let value = match self {
            Row::Sqlite(row) => {
                use rusqlite::types::ValueRef;
                match row.get_ref(column)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                }
            }
            Row::Postgres(row) => super::postgres::value(row, column)?,
        };
        T::from_value(value).map_err(|why| DbError::Decode { column, why })
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Connection::Sqlite(_) => "Connection::Sqlite",
            Connection::Postgres(_) => "Connection::Postgres",
        })
    }
}

impl Connection {
    /// A SQLite connection, its statement cache sized for the store.
    pub fn sqlite(connection: rusqlite::Connection) -> Self {
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Connection::Sqlite(connection)
    }

    /// Run one statement; how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToParam]) -> Result<usize, DbError> {
        match self {
            Connection::Sqlite(c) => {
                let params: Vec<Param> = params.iter().map(|p| p.param()).collect();
                Ok(c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(params))?)
            }
            Connection::Postgres(pg) => pg.execute(sql, params),
        }
    }

    /// Run statements without parameters, separated by `;`.
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Postgres(pg) => pg.execute_batch(sql),
        }
    }

    /// Every row of a query, each made into a `T` by `each`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn ToParam],
        mut each: impl FnMut(&Row) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        match self {
            Connection::Sqlite(c) => {
                let params: Vec<Param> = params.iter().map(|p| p.param()).collect();
                let mut statement = c.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(params))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(each(&Row::Sqlite(row))?);
                }
                Ok(out)
            }
            Connection::Postgres(pg) => pg
                .query(sql, params)?
                .iter()
                .map(|row| each(&Row::Postgres(row)))
                .collect(),
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn ToParam],
        each: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        let mut each = Some(each);
        let mut first = None;
        // Only the first row is made into a T; a query of several rows reads them all.
        self.query_map(sql, params, |row| {
            if let Some(each) = each.take() {
                first = Some(each(row)?);
            }
            Ok(())
        })?;
        Ok(first)
    }

    /// The first row of a query that returns at least one.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToParam],
        each: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.query_opt(sql, params, each)?.ok_or(DbError::NoRows)
    }

    /// Begin a transaction that will write (SQLite takes its write lock now, waiting up to
    /// its busy timeout, instead of failing at its first write on a busy database).
    pub fn begin(&self) -> Result<(), DbError> {
        self.control(match self {
            Connection::Sqlite(_) => "BEGIN IMMEDIATE",
            Connection::Postgres(_) => "BEGIN",
        })
    }

    /// A transaction-control statement (`COMMIT`, `SAVEPOINT x`, …).
    pub fn control(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Connection::Sqlite(c) => Ok(c.prepare_cached(sql)?.execute([]).map(drop)?),
            Connection::Postgres(pg) => pg.execute_batch(sql),
        }
    }

    /// Make the commits from now on reach `durability`: SQLite's `synchronous` level,
    /// PostgreSQL's `synchronous_commit`.
    pub fn commit_to(&self, durability: Durability) -> Result<(), DbError> {
        let relaxed = durability == Durability::Process;
        match self {
            Connection::Sqlite(c) => {
                Ok(c.pragma_update(None, "synchronous", if relaxed { "NORMAL" } else { "FULL" })?)
            }
            Connection::Postgres(pg) => pg.execute_batch(if relaxed {
                "SET synchronous_commit = off"
            } else {
                "SET synchronous_commit = on"
            }),
        }
    }
}
