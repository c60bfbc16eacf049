//! Script state: values kept per chat, per user, per chat member and per scenario, each
//! scenario in a namespace of its own. Values are JSON (maps, arrays, strings, numbers,
//! booleans) with a size limit. This store keeps them in memory for the life of the process.

use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// Largest value one key may hold, as compact JSON.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

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

impl fmt::Display for StateScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateScope::Chat(c) => write!(f, "chat {c}"),
            StateScope::User(u) => write!(f, "user {u}"),
            StateScope::Member(c, u) => write!(f, "member {u} of chat {c}"),
            StateScope::Global => f.write_str("global"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    namespace: String,
    scope: StateScope,
    key: String,
}

/// The state of every scenario.
#[derive(Debug, Default)]
pub struct StateStore {
    values: Mutex<HashMap<Key, Value>>,
}

impl StateStore {
    /// The value of `key`, if set.
    pub fn get(&self, namespace: &str, scope: StateScope, key: &str) -> Option<Value> {
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.get(&make_key(namespace, scope, key)).cloned()
    }

    /// Set `key` to `value` (`null` deletes it). Refuses values over [`MAX_VALUE_BYTES`].
    pub fn set(
        &self,
        namespace: &str,
        scope: StateScope,
        key: &str,
        value: Value,
    ) -> Result<(), String> {
        if value.is_null() {
            self.delete(namespace, scope, key);
            return Ok(());
        }
        let size = serde_json::to_vec(&value)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_VALUE_BYTES {
            return Err(format!(
                "the value for '{key}' is {size} bytes as JSON; the limit is {MAX_VALUE_BYTES}"
            ));
        }
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.insert(make_key(namespace, scope, key), value);
        Ok(())
    }

    /// Remove `key`; returns whether it was set.
    pub fn delete(&self, namespace: &str, scope: StateScope, key: &str) -> bool {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.remove(&make_key(namespace, scope, key)).is_some()
    }
}

fn make_key(namespace: &str, scope: StateScope, key: &str) -> Key {
    Key {
        namespace: namespace.to_string(),
        scope,
        key: key.to_string(),
    }
}
