//! The ten session and privacy commands of the seed protocol, one table entry each
//! ([`COMMANDS`]): the name, how scripts call it, its doc, and its validation, which turns a
//! request into the work to do (the seed's error words, before any call). The work runs on one
//! account through [`Effects`]; results are normalized to plain maps. The Rhai builtins,
//! `command(...)` and the gateway all come through [`AccountCommand::run`].
//!
//! Adding a command is one entry in [`COMMANDS`] plus the function that does its work.

mod privacy;
pub mod rules;
mod sessions;

use super::{FieldSpec, Overloads};
use crate::accounts::AccountOp;
use crate::effects::Effects;
use crate::request::{CommandError, Fields};
use serde_json::{Map, Value};

pub use crate::accounts::raw::{RAW_ALLOWED, raw_allowed};
pub use privacy::{NEW_CHAT_SETTING, PRIVACY_SETTINGS};

/// One seed command.
pub struct AccountCommand {
    /// The seed's name, also the builtin's and the gateway action's.
    pub name: &'static str,
    /// How scripts call it: each overload's parameters (`name: Type`, the return type last).
    /// A `Map` parameter named `options` or `settings` carries more request fields.
    pub overloads: Overloads,
    /// Its reference text: what it does, its errors, a runnable example.
    pub doc: &'static str,
    /// The request fields [`Self::prepare`] reads (besides `userbot_id`).
    pub fields: &'static [FieldSpec],
    /// What a success's `data` looks like: an example, as JSON text.
    pub returns: &'static str,
    /// Validate a request into the work to do; nothing is called yet.
    pub prepare: fn(&Fields) -> Result<Job, CommandError>,
}

/// The work of a validated command, on one account.
pub type Job = Box<dyn FnOnce(&Target) -> Result<Value, CommandError>>;

/// The account a command runs on.
pub struct Target<'a> {
    effects: &'a dyn Effects,
    command: &'a str,
    userbot_id: i64,
}

impl Target<'_> {
    /// Run one TDLib operation on the account.
    pub fn call(&self, op: AccountOp) -> Result<Value, CommandError> {
        self.effects.account(self.command, self.userbot_id, &op)
    }

    /// The command being run.
    pub fn command(&self) -> &str {
        self.command
    }
}

/// The seed's commands.
pub const COMMANDS: &[AccountCommand] = &[
    sessions::GET_ACTIVE_SESSIONS,
    sessions::TERMINATE_SESSION,
    sessions::SET_SESSION_SETTINGS,
    sessions::TERMINATE_ALL_OTHER_SESSIONS,
    sessions::CONFIRM_SESSION,
    sessions::BLOCK_USER,
    sessions::UNBLOCK_USER,
    sessions::GET_BLOCKED_USERS,
    privacy::GET_PRIVACY_SETTING,
    privacy::GET_PRIVACY_SETTINGS,
    privacy::SET_PRIVACY_SETTING,
];

impl super::Named for AccountCommand {
    fn name(&self) -> &'static str {
        self.name
    }
}

impl AccountCommand {
    /// Validate `request` as this command, pick the account (`userbot_id`, else the default)
    /// and run it.
    pub fn run(
        &self,
        effects: &dyn Effects,
        userbot_id: Option<i64>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError> {
        let job = (self.prepare)(&Fields::new(self.name, request))?;
        let userbot_id = effects.account_id(self.name, userbot_id)?;
        job(&Target {
            effects,
            command: self.name,
            userbot_id,
        })
    }
}

/// A raw TDLib request (`tdlib(#{"@type": ...})`) on account `userbot_id` (else the
/// default), if [`raw_allowed`] lets it through.
pub fn raw(
    effects: &dyn Effects,
    userbot_id: Option<i64>,
    request: Value,
) -> Result<Value, CommandError> {
    let action = "tdlib";
    let kind = request
        .get("@type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CommandError::invalid(action, "a TDLib request needs an \"@type\""))?;
    raw_allowed(kind).map_err(|why| CommandError::invalid(action, why))?;
    let userbot_id = effects.account_id(action, userbot_id)?;
    effects.account(action, userbot_id, &AccountOp::Raw(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_of_only_the_documented_fields_validates() {
        for command in COMMANDS {
            let request = super::super::fields::example_request(command.fields);
            if let Err(e) = (command.prepare)(&Fields::new(command.name, &request)) {
                panic!(
                    "{}: the documented example {request:?} is refused: {e}",
                    command.name
                );
            }
            let returns: Result<Value, _> = serde_json::from_str(command.returns);
            assert!(returns.is_ok(), "{}: returns is not JSON", command.name);
        }
    }

    #[test]
    fn validation_reads_only_documented_fields() {
        for command in COMMANDS {
            let read = |f: &Fields| {
                let _ = (command.prepare)(f);
            };
            let unknown =
                super::super::fields::undocumented_reads(command.fields, read, command.name);
            assert!(
                unknown.is_empty(),
                "{} reads undocumented {unknown:?}",
                command.name
            );
        }
    }
}
