//! The PostgreSQL backend (`[store] url = "postgres://…"`), over `tokio-postgres`.
//!
//! The store is synchronous (one connection, group-committed, used from any thread), so the
//! connection's I/O runs on a thread of its own with a small runtime, and queries wait for
//! their answers with `futures`' executor: that works from inside the application's runtime
//! too, where a nested Tokio runtime may not be started. Statements are prepared once per
//! connection; the store's `?N` placeholders are written `$N` for PostgreSQL.

use super::sql::values::{DbError, Param, ToParam, Value};
use futures::executor::block_on;
use postgres_types::{IsNull, ToSql, Type, to_sql_checked};
use std::cell::RefCell;
use std::collections::HashMap;
use tokio_postgres::{Client, Statement};

/// One connection to a PostgreSQL server.
pub(crate) struct Pg {
    /// Whether the connection (the server session) has ended: it is never made again.
    ended: tokio::sync::watch::Receiver<bool>,
    client: Client,
    /// Prepared statements by their SQL as the store writes it.
    statements: RefCell<HashMap<String, Statement>>,
}

impl Pg {
    /// Connect to `url` (`postgres://user@host:port/db`, or key=value pairs; TLS as its
    /// `sslmode` and `sslrootcert` say, see [`super::pg_tls`]), starting the connection's
    /// I/O thread.
    pub fn connect(url: &str) -> Result<Pg, DbError> {
        let (url, tls) = super::pg_tls::split(url)?;
        let config: tokio_postgres::Config = url.parse()?;
        let connector = tls.connector()?;
        let (sender, receiver) = std::sync::mpsc::channel();
        let (ends, ended) = tokio::sync::watch::channel(false);
        std::thread::Builder::new()
            .name("store-postgres".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = sender.send(Err(DbError::Postgres(format!("no runtime: {e}"))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match config.connect(connector).await {
                        Ok((client, connection)) => {
                            let _ = sender.send(Ok(client));
                            match connection.await {
                                Err(e) => tracing::error!(
                                    "the connection to PostgreSQL ended: {}",
                                    DbError::from(e)
                                ),
                                Ok(()) => tracing::error!("PostgreSQL closed the connection"),
                            }
                            let _ = ends.send(true);
                        }
                        Err(e) => {
                            let _ = sender.send(Err(refused(e, tls.mode)));
                        }
                    }
                });
            })
            .map_err(|e| DbError::Postgres(format!("no thread for the connection: {e}")))?;
        let client = receiver
            .recv()
            .map_err(|_| DbError::Postgres("the connection thread ended".into()))??;
        Ok(Pg {
            ended,
            client,
            statements: RefCell::default(),
        })
    }

    /// What says when the connection (the server session) has ended.
    pub fn ended(&self) -> tokio::sync::watch::Receiver<bool> {
        self.ended.clone()
    }

    /// The prepared statement for `sql`.
    fn statement(&self, sql: &str) -> Result<Statement, DbError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = block_on(self.client.prepare(&placeholders(sql)))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// Run one statement; how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToParam]) -> Result<usize, DbError> {
        let statement = self.statement(sql)?;
        let params = bound(params);
        let changed = block_on(self.client.execute(&statement, &refs(&params)))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    /// The rows of a query.
    pub fn query(
        &self,
        sql: &str,
        params: &[&dyn ToParam],
    ) -> Result<Vec<tokio_postgres::Row>, DbError> {
        let statement = self.statement(sql)?;
        let params = bound(params);
        Ok(block_on(self.client.query(&statement, &refs(&params)))?)
    }

    /// Run statements without parameters (the simple query protocol).
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(block_on(self.client.batch_execute(sql))?)
    }
}

/// Why the server refused a connection made under `mode`, saying what to do when it wants
/// TLS or its certificate was not trusted.
fn refused(e: tokio_postgres::Error, mode: super::pg_tls::Mode) -> DbError {
    use super::pg_tls::Mode;
    // What failed under a TLS handshake is only in the error's sources.
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let mut words = DbError::from(e).to_string();
    for cause in causes {
        if !words.contains(&cause) {
            words = format!("{words}: {cause}");
        }
    }
    let hint = if words.contains("no encryption") || words.contains("SSL off") {
        match mode {
            Mode::Disable => {
                "; the server requires TLS: set sslmode=verify-full (with sslrootcert=<CA file> for a private CA) or sslmode=require in the URL"
            }
            _ => "",
        }
    } else if words.contains("certificate") || words.contains("UnknownIssuer") {
        "; the server's certificate is not trusted: give sslrootcert=<PEM file of its CA> in the URL (verify-full also wants it to name the host)"
    } else if words.contains("server does not support TLS") {
        "; the server offers no TLS: enable ssl on it, or lower sslmode"
    } else {
        ""
    };
    DbError::Postgres(format!(
        "{}{hint}",
        words.trim_start_matches("PostgreSQL: ")
    ))
}

/// `url` as it may be shown: without its password.
pub(crate) fn without_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = match path.split_once('?') {
            Some((path, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| !pair.starts_with("password="))
                    .collect();
                match kept.is_empty() {
                    true => path.to_string(),
                    false => format!("{path}?{}", kept.join("&")),
                }
            }
            None => path.to_string(),
        };
        return match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}@{host}{path}")
            }
            None => format!("{scheme}://{authority}{path}"),
        };
    }
    url.split_whitespace()
        .filter(|pair| !pair.starts_with("password="))
        .collect::<Vec<_>>()
        .join(" ")
}

fn bound<'a>(params: &'a [&'a dyn ToParam]) -> Vec<Param<'a>> {
    params.iter().map(|p| p.param()).collect()
}

fn refs<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// `sql` with SQLite's `?N` placeholders written as PostgreSQL's `$N` (outside quotes).
fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => quoted = !quoted,
            '?' if !quoted => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Column `column` of `row` as a [`Value`].
pub(crate) fn value(row: &tokio_postgres::Row, column: usize) -> Result<Value, DbError> {
    let decode = |e: tokio_postgres::Error| DbError::Decode {
        column,
        why: e.to_string(),
    };
    let ty = row
        .columns()
        .get(column)
        .ok_or(DbError::Decode {
            column,
            why: "no such column".into(),
        })?
        .type_()
        .clone();
    let value = match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(column)
            .map(|v| v.map(Value::Int)),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(column)
            .map(|v| v.map(|v| Value::Int(v.into()))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(column)
            .map(|v| v.map(|v| Value::Int(v.into()))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(column)
            .map(|v| v.map(|v| Value::Int(v.into()))),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(column)
            .map(|v| v.map(Value::Real)),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(column)
            .map(|v| v.map(Value::Blob)),
        _ => row
            .try_get::<_, Option<String>>(column)
            .map(|v| v.map(Value::Text)),
    };
    Ok(value.map_err(decode)?.unwrap_or(Value::Null))
}

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(v) => match *ty {
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Param::Real(v) => v.to_sql(ty, out),
            Param::Text(s) => s.to_sql(ty, out),
            Param::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn a_url_is_shown_without_its_password() {
        use super::without_password;
        assert_eq!(
            without_password("postgres://tg:s3cret@127.0.0.1:5432/tg?sslmode=disable"),
            "postgres://tg@127.0.0.1:5432/tg?sslmode=disable"
        );
        assert_eq!(
            without_password("postgres://127.0.0.1/tg"),
            "postgres://127.0.0.1/tg"
        );
        assert_eq!(
            without_password("host=127.0.0.1 password=s3cret dbname=tg"),
            "host=127.0.0.1 dbname=tg"
        );
    }

    #[test]
    fn placeholders_are_numbered_for_postgres_outside_quotes() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d IN (?2, ?3)"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d IN ($2, $3)"
        );
    }
}
