//! A request frame parsed once, where it comes in (a WebSocket frame, a `POST /command`
//! body): its fields, its envelope and the action it names, looked up once. Every later step
//! (who may take it, which queue it waits in, what runs it, the answer's envelope) reads
//! this value; nothing parses the text again.

use super::Client;
use super::actions::{self, Action};
use super::admin;
use crate::request::CommandError;
use serde_json::{Map, Value};

/// One request, parsed and its action found.
pub struct Asked {
    /// The action it names.
    pub action: Action,
    /// Its fields, envelope included.
    pub fields: Map<String, Value>,
    /// A numeric `request_id` too big for a JSON number here, digit for digit as written.
    pub exact_id: Option<String>,
}

/// Why a frame is no request: the `error` event's words, with what of its envelope could be
/// read (echoed in the event).
pub struct NotARequest {
    /// What is wrong, in words.
    pub error: String,
    /// Its `userbot_id`, if it had one.
    pub userbot_id: Option<Value>,
    /// Its `request_id`, if it had one.
    pub request_id: Option<Value>,
}

impl NotARequest {
    fn new(error: String) -> Self {
        NotARequest {
            error,
            userbot_id: None,
            request_id: None,
        }
    }
}

impl Asked {
    /// Parse `text` as a request: a JSON object whose `action` is one the gateway accepts.
    pub fn parse(text: &str) -> Result<Asked, NotARequest> {
        let fields = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                return Err(NotARequest::new(format!(
                    "a request must be a JSON object, got {}",
                    kind(&other)
                )));
            }
            Err(e) => return Err(NotARequest::new(format!("invalid JSON: {e}"))),
        };
        let refuse = |error: String| NotARequest {
            error,
            userbot_id: fields.get("userbot_id").cloned(),
            request_id: fields.get("request_id").cloned(),
        };
        let name = match fields.get("action") {
            Some(Value::String(a)) if !a.is_empty() => a.as_str(),
            Some(_) => return Err(refuse("action must be a string".into())),
            None => return Err(refuse("action is required".into())),
        };
        let Some(action) = actions::find(name) else {
            return Err(refuse(format!(
                "unknown action '{name}' (known: {})",
                actions::names()
            )));
        };
        // A number past 64 bits was read as a float: its digits are taken from the text.
        let exact_id = match fields.get("request_id") {
            Some(Value::Number(n)) if n.is_f64() => exact_request_id(text),
            _ => None,
        };
        Ok(Asked {
            action,
            fields,
            exact_id,
        })
    }

    /// Its `request_id`, echoed in the answer.
    pub fn request_id(&self) -> Option<&Value> {
        self.fields.get("request_id")
    }

    /// Its `userbot_id`, echoed in the answer.
    pub fn userbot_id(&self) -> Option<&Value> {
        self.fields.get("userbot_id")
    }

    /// Refused when `client`'s token does not allow the action.
    pub fn admit(&self, client: &Client) -> Result<(), CommandError> {
        let access = self.action.access();
        match access.allows(client) {
            true => Ok(()),
            false => Err(admin::unauthorized(self.action.name(), access)),
        }
    }

    /// The bot its `bot_id` names, for an action that runs on a bot: `None` when it names
    /// none (the only bot), an error when it is not a string or the action needs one.
    pub fn bot_id(&self) -> Result<Option<&str>, CommandError> {
        let name = self.action.name();
        match self.fields.get("bot_id") {
            None | Some(Value::Null) if self.action.which_bot() == actions::WhichBot::Named => {
                Err(CommandError::invalid(name, "bot_id is required"))
            }
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(id)) if !id.trim().is_empty() => Ok(Some(id)),
            Some(Value::String(_)) => Err(CommandError::invalid(name, "bot_id is required")),
            Some(_) => Err(CommandError::invalid(name, "bot_id must be a string")),
        }
    }
}

/// The digits of the request's numeric `request_id`, when it is an integer too big for a
/// JSON number here (the rare case: read again from the text for its raw value).
fn exact_request_id(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Ids<'a> {
        #[serde(borrow)]
        request_id: Option<&'a serde_json::value::RawValue>,
    }
    serde_json::from_str::<Ids>(text)
        .ok()
        .and_then(|ids| ids.request_id)
        .map(|raw| raw.get().to_string())
        .filter(|raw| {
            let digits = raw.strip_prefix('-').unwrap_or(raw);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        })
}

/// What kind of JSON value `value` is, in words.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "an object",
    }
}
