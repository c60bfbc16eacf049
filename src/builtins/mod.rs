//! The functions tgscript adds to Rhai. Each is registered once, with its parameter names and
//! its documentation (summary and a runnable `rhai` example) attached to the registration, so
//! `tgscript docs`, the REPL's `:help` and `tgscript check` all read the same source.

mod account;
mod chat;
mod core;
mod state;

use crate::commands::CommandError;
use crate::host::Host;
use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map, Position};
use serde_json::Value;
use std::sync::Arc;

/// A command's request from positional arguments (unit values left out) and the entries of a
/// trailing options map; `receiver` names what the values are sent to, for the error.
pub(crate) fn request(
    command: &str,
    fields: &[(&str, Dynamic)],
    options: Option<Map>,
    receiver: &str,
) -> Result<serde_json::Map<String, Value>, Box<EvalAltResult>> {
    let mut request = serde_json::Map::new();
    let extra = options
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.to_string(), v));
    for (key, value) in fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain(extra)
    {
        if value.is_unit() {
            continue;
        }
        let json = serde_json::to_value(&value).map_err(|_| {
            throw(&CommandError::invalid(
                command,
                format!(
                    "{key} cannot be sent to {receiver} (a {})",
                    value.type_name()
                ),
            ))
        })?;
        request.insert(key, json);
    }
    Ok(request)
}

/// Turn a command error into the catchable map scripts see.
pub(crate) fn throw(err: &CommandError) -> Box<EvalAltResult> {
    let value = rhai::serde::to_dynamic(err.to_json()).unwrap_or_else(|_| err.to_string().into());
    EvalAltResult::ErrorRuntime(value, Position::NONE).into()
}

/// A command's JSON result as a Rhai value.
pub(crate) fn to_dynamic(value: Value) -> Result<Dynamic, Box<EvalAltResult>> {
    rhai::serde::to_dynamic(value)
}

/// Start registering builtin `name` with its parameter list (`"name: Type"`, the return type
/// last) and doc text (plain lines; each becomes a `///` doc comment).
///
/// Builtins are volatile by default: most do I/O or read the current update, so the optimizer
/// must never run them at compile time. Pure helpers opt out with `.with_volatility(false)`.
pub(crate) fn builtin(name: &str, params: &[&str], doc: &str) -> FuncRegistration {
    let comment = doc
        .trim_matches('\n')
        .lines()
        .map(|line| {
            if line.is_empty() {
                "///".to_string()
            } else {
                format!("/// {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    FuncRegistration::new(name)
        .with_params_info(params)
        .with_comments([comment])
        .with_volatility(true)
}

/// Register every builtin into `engine`; the ones that reach Telegram use `host`.
pub fn register_all(engine: &mut Engine, host: &Arc<Host>) {
    core::register(engine);
    chat::register(engine, host);
    account::register(engine, host);
    state::register(engine, host);
}
