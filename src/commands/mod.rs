//! The command layer: every action a script, the REPL or the gateway can ask for, as data in
//! (a JSON request map) and data out (a JSON result or a [`CommandError`]). Each family is one
//! table ([`account::COMMANDS`], [`chat::ACTIONS`]) whose entries carry the name, the builtin
//! overloads, the docs and the validation; requests are validated here, once, before anything
//! is sent, and executed through [`crate::effects::Effects`]. Each entry lists the request
//! fields it reads ([`FieldSpec`]), from which the gateway's reference is generated.

pub mod account;
pub mod chat;
pub mod fields;
pub mod http;
pub mod login;

pub use fields::FieldSpec;

use crate::effects::Effects;
use crate::request::{CommandError, as_int};
use crate::telegram::UpdateContext;
use serde_json::{Map, Value};

/// How scripts call a command: each overload's parameters (`name: Type`, the return type
/// last), as shown by `tgscript docs`.
pub type Overloads = &'static [&'static [&'static str]];

/// Run a request in the seed protocol's shape (`{"action": ..., "userbot_id": ..., ...}`):
/// account commands need `userbot_id`; chat actions act through the bot.
pub fn execute_request(
    effects: &dyn Effects,
    request: &Map<String, Value>,
    context: Option<&UpdateContext>,
) -> Result<Value, CommandError> {
    let action = match request.get("action") {
        Some(Value::String(a)) if !a.is_empty() => a.as_str(),
        Some(_) => return Err(CommandError::invalid("command", "action must be a string")),
        None => return Err(CommandError::invalid("command", "action is required")),
    };
    let mut fields = request.clone();
    for envelope in ["action", "userbot_id", "request_id"] {
        fields.remove(envelope);
    }
    if let Some(command) = find(account::COMMANDS, action) {
        let userbot_id = required_userbot_id(action, request)?;
        return command.run(effects, Some(userbot_id), &fields);
    }
    if let Some(chat) = find(chat::ACTIONS, action) {
        return chat.run(effects, &fields, context);
    }
    Err(CommandError::invalid(
        action,
        format!(
            "unknown action '{action}' (account commands: {}; chat actions: {})",
            names(account::COMMANDS),
            names(chat::ACTIONS)
        ),
    ))
}

/// The request's `userbot_id`: `userbot_id is required` / `userbot_id must be an integer`.
pub fn required_userbot_id(
    action: &str,
    request: &Map<String, Value>,
) -> Result<i64, CommandError> {
    match request.get("userbot_id") {
        None | Some(Value::Null) => Err(CommandError::invalid(action, "userbot_id is required")),
        Some(v) => {
            as_int(v).ok_or_else(|| CommandError::invalid(action, "userbot_id must be an integer"))
        }
    }
}

/// An entry of a command table, known by its name.
pub trait Named {
    /// The name scripts and the gateway call it by.
    fn name(&self) -> &'static str;
}

/// The entry of `table` named `name`.
pub fn find<T: Named>(table: &'static [T], name: &str) -> Option<&'static T> {
    table.iter().find(|entry| entry.name() == name)
}

/// The names of `table`'s entries, comma-separated.
fn names<T: Named>(table: &[T]) -> String {
    table.iter().map(Named::name).collect::<Vec<_>>().join(", ")
}
