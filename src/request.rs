//! The shapes every command shares: a request's typed fields ([`Fields`], errors in the seed's
//! words) and a failed command ([`CommandError`]). The command layer and the journal both use
//! them without knowing of each other.

use serde_json::{Map, Value};

/// A failed command, thrown to scripts as `#{command, error, code?, hint?}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{command}: {error}")]
pub struct CommandError {
    /// The command (builtin or action) that failed.
    pub command: String,
    /// What went wrong: a validation message, or Telegram's / TDLib's own description.
    pub error: String,
    /// Telegram's or TDLib's error code, when one was given.
    pub code: Option<i64>,
    /// What the script author can do about it, for common refusals.
    pub hint: Option<String>,
}

impl CommandError {
    /// A validation error of `command`.
    pub fn invalid(command: &str, error: impl Into<String>) -> Self {
        Self {
            command: command.to_string(),
            error: error.into(),
            code: None,
            hint: None,
        }
    }

    /// Read back an error [`Self::to_json`] wrote (`command` when the map lacks one).
    pub fn from_json(command: &str, value: &Value) -> Self {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        Self {
            command: text("command").unwrap_or_else(|| command.to_string()),
            error: text("error").unwrap_or_else(|| value.to_string()),
            code: value.get("code").and_then(Value::as_i64),
            hint: text("hint"),
        }
    }

    /// The error as a JSON map: `{command, error, code?, hint?}`.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("command".into(), self.command.clone().into());
        map.insert("error".into(), self.error.clone().into());
        if let Some(code) = self.code {
            map.insert("code".into(), code.into());
        }
        if let Some(hint) = &self.hint {
            map.insert("hint".into(), hint.clone().into());
        }
        Value::Object(map)
    }
}

/// Reads typed fields out of a request, with errors in the seed's words.
pub struct Fields<'a> {
    /// The command the fields are for (named in errors).
    pub command: &'a str,
    /// The request.
    pub map: &'a Map<String, Value>,
    /// The keys read so far: tests check them against the fields a command documents.
    #[cfg(test)]
    pub read: std::cell::RefCell<Vec<String>>,
}

impl<'a> Fields<'a> {
    /// Wrap `map` as the request of `command`.
    pub fn new(command: &'a str, map: &'a Map<String, Value>) -> Self {
        Self {
            command,
            map,
            #[cfg(test)]
            read: std::cell::RefCell::default(),
        }
    }

    /// A validation error of this command.
    pub fn error(&self, message: impl Into<String>) -> CommandError {
        CommandError::invalid(self.command, message)
    }

    /// The value of `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        #[cfg(test)]
        self.read.borrow_mut().push(key.to_string());
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// An optional integer (numbers, or strings of digits as no-code platforms send them).
    pub fn opt_int(&self, key: &str) -> Result<Option<i64>, CommandError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => as_int(v)
                .map(Some)
                .ok_or_else(|| self.error(format!("{key} must be an integer"))),
        }
    }

    /// A required integer: `<key> is required` / `<key> must be an integer`.
    pub fn int(&self, key: &str) -> Result<i64, CommandError> {
        self.opt_int(key)?
            .ok_or_else(|| self.error(format!("{key} is required")))
    }

    /// An optional boolean.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, CommandError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.error(format!("{key} must be true or false"))),
        }
    }

    /// An optional string.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, CommandError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(format!("{key} must be a string"))),
        }
    }

    /// An optional map.
    pub fn opt_map(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, CommandError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.error(format!("{key} must be a map"))),
        }
    }
}

/// An integer from a JSON number or a string of digits (`"123"`, `"-100123"`).
pub fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().ok()
            } else {
                None
            }
        }
        _ => None,
    }
}
