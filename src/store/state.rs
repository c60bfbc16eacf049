//! Script state: values kept per chat, per user, per chat member and per scenario, each
//! scenario in a namespace of its own (plus one namespace the scenarios share on purpose),
//! as JSON with a size limit per value and per scope.

use super::jobs::{self, JobOp};
use super::{DEFAULT_BOT, Store, StoreError};
use crate::store::sql::{Connection, params};
use serde_json::Value;
use std::fmt;

/// Largest value one key may hold, as compact JSON.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Largest total of the values of one scope (one chat, user, member or scenario).
pub const MAX_SCOPE_BYTES: usize = 1024 * 1024;
/// The namespace `shared_get`/`shared_set` use: visible to every scenario. Empty, so no
/// scenario's own namespace (its file name without `.rhai`) can be it.
pub const SHARED_NAMESPACE: &str = "";
/// What the state namespaces of bot `bot`'s scenarios begin with: nothing for the
/// [`DEFAULT_BOT`] (so state kept before bots had ids stays its own), else `bot/`. A scenario's
/// own namespace is its file name (no `/`), so no two bots' namespaces meet.
pub fn namespace_prefix(bot: &str) -> String {
    match bot {
        DEFAULT_BOT => String::new(),
        bot => format!("{bot}/"),
    }
}

/// The bot a scenario's state namespace belongs to and the scenario's own part of it (its
/// `const STATE`, else its file name): `bot/own`, or `own` alone for the [`DEFAULT_BOT`] (see
/// [`namespace_prefix`]).
pub fn namespace_owner(namespace: &str) -> (&str, &str) {
    namespace
        .split_once('/')
        .unwrap_or((DEFAULT_BOT, namespace))
}

/// The namespace the scenarios of `namespace`'s bot share (`shared_get`/`shared_set`): its
/// bot's prefix followed by [`SHARED_NAMESPACE`].
pub fn shared_namespace(namespace: &str) -> String {
    match namespace.rsplit_once('/') {
        Some((bot, _)) => format!("{bot}/{SHARED_NAMESPACE}"),
        None => SHARED_NAMESPACE.to_string(),
    }
}

/// Whose value it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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

/// One operation on script state, as builtins ask for it: what the effects boundary carries
/// and the journal records.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum StateOp {
    /// Read `key` (`null` when never set).
    Get {
        /// The scenario's namespace.
        namespace: String,
        /// Whose value.
        scope: StateScope,
        /// The key.
        key: String,
    },
    /// Set `key` to `value` (`null` deletes it).
    Set {
        /// The scenario's namespace.
        namespace: String,
        /// Whose value.
        scope: StateScope,
        /// The key.
        key: String,
        /// Plain JSON.
        value: Value,
    },
    /// Delete `key`; the result says whether it was set.
    Delete {
        /// The scenario's namespace.
        namespace: String,
        /// Whose value.
        scope: StateScope,
        /// The key.
        key: String,
    },
    /// Schedule, cancel or list jobs (durable timers, kept with the state).
    Job(JobOp),
}

impl StateOp {
    /// Whether the operation changes state.
    pub fn writes(&self) -> bool {
        match self {
            StateOp::Get { .. } => false,
            StateOp::Job(op) => op.writes(),
            _ => true,
        }
    }

    /// The operation as one line, from its fields: what the journal matches a replay on.
    pub fn describe(&self) -> String {
        let (verb, namespace, scope, key) = match self {
            StateOp::Job(op) => return op.describe(),
            StateOp::Get {
                namespace,
                scope,
                key,
            } => ("get", namespace, scope, key),
            StateOp::Set {
                namespace,
                scope,
                key,
                ..
            } => ("set", namespace, scope, key),
            StateOp::Delete {
                namespace,
                scope,
                key,
            } => ("delete", namespace, scope, key),
        };
        // The words journals have always been written in (`state get ns Chat(5) key`), so
        // a handler interrupted before an upgrade still replays after it.
        let whose = match scope {
            StateScope::Chat(c) => format!("Chat({c})"),
            StateScope::User(u) => format!("User({u})"),
            StateScope::Member(c, u) => format!("Member({c}, {u})"),
            StateScope::Global => "Global".to_string(),
        };
        match self {
            StateOp::Set { value, .. } => format!("state {verb} {namespace} {whose} {key} {value}"),
            _ => format!("state {verb} {namespace} {whose} {key}"),
        }
    }
}

impl Store {
    /// The value of `key`, if set.
    pub fn get(
        &self,
        namespace: &str,
        scope: StateScope,
        key: &str,
    ) -> Result<Option<Value>, StoreError> {
        get_on(&self.lock(), namespace, scope, key)
    }
}

/// The value of `key` on `connection`, if set.
fn get_on(
    connection: &Connection,
    namespace: &str,
    scope: StateScope,
    key: &str,
) -> Result<Option<Value>, StoreError> {
    let (kind, id) = scope.columns();
    let text: Option<String> = connection
        .query_opt(
            "SELECT value FROM state WHERE namespace = ?1 AND scope = ?2 AND scope_id = ?3 AND key = ?4",
            params![namespace, kind, id, key],
            |row| row.get(0),
        )
        .map_err(StoreError::query("cannot read state"))?;
    // A value that no longer parses is an error, not silently "unset".
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Unreadable {
            key: key.to_string(),
            error: e.to_string(),
        })
    })
    .transpose()
}

impl Store {
    /// The state namespaces of the bot whose namespaces begin with `prefix` (see
    /// [`namespace_prefix`]) that hold values, with how many keys each, the shared one aside.
    pub fn namespaces(&self, prefix: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, u64)> = self
            .lock()
            .query_map(
                "SELECT namespace, COUNT(*) FROM state WHERE substr(namespace, 1, length(?1)) = ?1 GROUP BY namespace",
                params![prefix],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(StoreError::query("cannot read state"))?;
        Ok(rows
            .into_iter()
            .filter(|(namespace, _)| {
                let own = &namespace[prefix.len()..];
                !own.is_empty() && !own.contains('/')
            })
            .collect())
    }

    /// Run `op` at `now_ms` (jobs count from it): a read, or a write in a transaction of
    /// its own (durable when it returns).
    pub fn apply(&self, op: &StateOp, now_ms: i64) -> Result<Value, StoreError> {
        match op {
            StateOp::Get {
                namespace,
                scope,
                key,
            } => Ok(self.get(namespace, *scope, key)?.unwrap_or(Value::Null)),
            StateOp::Job(read) if !read.writes() => jobs::apply_on(&self.lock(), read, now_ms),
            write => {
                let value =
                    self.transaction(|tx| apply_on(tx, write, self.max_scopes(), now_ms))?;
                self.jobs_changed(write);
                Ok(value)
            }
        }
    }
}

/// Run the write `op` on `connection`, inside the caller's transaction: `null` for a set,
/// whether the key was set for a delete. A namespace may hold `max_scopes` scopes (0: no
/// limit).
pub(crate) fn apply_on(
    connection: &Connection,
    op: &StateOp,
    max_scopes: usize,
    now_ms: i64,
) -> Result<Value, StoreError> {
    match op {
        StateOp::Job(op) => jobs::apply_on(connection, op, now_ms),
        StateOp::Set {
            namespace,
            scope,
            key,
            value,
        } => {
            if !value.is_null() && max_scopes > 0 {
                room_for_scope(connection, namespace, *scope, max_scopes)?;
            }
            set_on(connection, namespace, *scope, key, value.clone()).map(|()| Value::Null)
        }
        StateOp::Delete {
            namespace,
            scope,
            key,
        } => delete_on(connection, namespace, *scope, key).map(Value::Bool),
        StateOp::Get {
            namespace,
            scope,
            key,
        } => Ok(get_on(connection, namespace, *scope, key)?.unwrap_or(Value::Null)),
    }
}

/// Set `key` to `value` (`null` deletes it) on `connection`, inside the caller's transaction
/// (durable when it commits). Refuses values over [`MAX_VALUE_BYTES`] and scopes that would
/// grow over [`MAX_SCOPE_BYTES`].
pub(crate) fn set_on(
    connection: &Connection,
    namespace: &str,
    scope: StateScope,
    key: &str,
    value: Value,
) -> Result<(), StoreError> {
    if value.is_null() {
        delete_on(connection, namespace, scope, key)?;
        return Ok(());
    }
    let text = value.to_string();
    if text.len() > MAX_VALUE_BYTES {
        return Err(StoreError::ValueTooLarge {
            key: key.to_string(),
            bytes: text.len(),
        });
    }
    let (kind, id) = scope.columns();
    let others: i64 = connection
            .query_row(
                "SELECT COALESCE(SUM(LENGTH(value)), 0) FROM state WHERE namespace = ?1 AND scope = ?2 AND scope_id = ?3 AND key != ?4",
                params![namespace, kind, id, key],
                |row| row.get(0),
            )
            .map_err(StoreError::query("cannot read state"))?;
    let total = others as usize + text.len();
    if total > MAX_SCOPE_BYTES {
        return Err(StoreError::ScopeFull { scope, total });
    }
    connection
            .execute(
                "INSERT INTO state (namespace, scope, scope_id, key, value) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (namespace, scope, scope_id, key) DO UPDATE SET value = excluded.value",
                params![namespace, kind, id, key, text],
            )
            .map_err(StoreError::query("cannot write state"))?;
    Ok(())
}

/// Refuse a write into a scope `namespace` does not hold yet when it already holds
/// `max_scopes`.
fn room_for_scope(
    connection: &Connection,
    namespace: &str,
    scope: StateScope,
    max_scopes: usize,
) -> Result<(), StoreError> {
    let (kind, id) = scope.columns();
    let failed = StoreError::query("cannot read state");
    let held: bool = connection
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM state WHERE namespace = ?1 AND scope = ?2 AND scope_id = ?3)",
            params![namespace, kind, id],
            |row| row.get(0),
        )
        .map_err(failed)?;
    if held {
        return Ok(());
    }
    let scopes: i64 = connection
        .query_row(
            "SELECT COUNT(*) FROM (SELECT DISTINCT scope, scope_id FROM state WHERE namespace = ?1) AS scopes",
            params![namespace],
            |row| row.get(0),
        )
        .map_err(failed)?;
    let scopes = usize::try_from(scopes).unwrap_or(usize::MAX);
    if scopes >= max_scopes {
        return Err(StoreError::TooManyScopes {
            namespace: namespace.to_string(),
            scopes,
            limit: max_scopes,
        });
    }
    Ok(())
}

/// Remove `key` on `connection`, inside the caller's transaction; returns whether it was set.
pub(crate) fn delete_on(
    connection: &Connection,
    namespace: &str,
    scope: StateScope,
    key: &str,
) -> Result<bool, StoreError> {
    let (kind, id) = scope.columns();
    connection
        .execute(
            "DELETE FROM state WHERE namespace = ?1 AND scope = ?2 AND scope_id = ?3 AND key = ?4",
            params![namespace, kind, id, key],
        )
        .map(|n| n > 0)
        .map_err(StoreError::query("cannot write state"))
}

#[cfg(test)]
mod tests {
    use crate::store::testing::{Backend, on_both_backends};
    fn a_namespace_holds_at_most_max_scopes_scopes_and_keeps_writing_to_those_it_has(
        backend: Backend,
    ) {
        let store = backend.store();
        store.limit_scopes(2);
        let set = |chat: i64, key: &str| {
            store.apply(
                &StateOp::Set {
                    namespace: "a".into(),
                    scope: StateScope::Chat(chat),
                    key: key.into(),
                    value: 1.into(),
                },
                0,
            )
        };
        assert!(set(1, "x").is_ok());
        assert!(set(2, "x").is_ok());
        let refused = set(3, "x").expect_err("a third scope");
        assert!(
            refused.to_string().contains("[limits] max_state_scopes"),
            "{refused}"
        );
        assert!(set(1, "y").is_ok(), "a scope it holds takes more keys");
        let other = store.apply(
            &StateOp::Set {
                namespace: "b".into(),
                scope: StateScope::Chat(3),
                key: "x".into(),
                value: 1.into(),
            },
            0,
        );
        assert!(other.is_ok(), "another scenario has its own count");
        assert_eq!(
            store.get("a", StateScope::Chat(3), "x").ok().flatten(),
            None
        );
    }
    use super::*;

    #[test]
    fn a_namespace_names_its_bot_and_scenario() {
        for bot in [DEFAULT_BOT, "shop"] {
            let namespace = format!("{}greet", namespace_prefix(bot));
            assert_eq!(namespace_owner(&namespace), (bot, "greet"));
        }
    }

    #[test]
    fn journal_lines_keep_the_words_earlier_versions_wrote() {
        let get = StateOp::Get {
            namespace: "anti_spam".into(),
            scope: StateScope::Member(-100, 42),
            key: "warnings".into(),
        };
        assert_eq!(
            get.describe(),
            "state get anti_spam Member(-100, 42) warnings"
        );
        let set = StateOp::Set {
            namespace: "anti_spam".into(),
            scope: StateScope::Chat(-100),
            key: "rules".into(),
            value: serde_json::json!({"max": 3}),
        };
        assert_eq!(
            set.describe(),
            r#"state set anti_spam Chat(-100) rules {"max":3}"#
        );
    }

    on_both_backends!(
        a_namespace_holds_at_most_max_scopes_scopes_and_keeps_writing_to_those_it_has
    );
}
