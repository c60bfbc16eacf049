//! The functions tgscript adds to Rhai. Each is registered once, with its parameter names and
//! its documentation (summary and a runnable `rhai` example) attached to the registration, so
//! `tgscript docs`, the REPL's `:help` and `tgscript check` all read the same source.

mod account;
mod chat;
mod core;
mod state;

use crate::host::Host;
use rhai::{Engine, FuncRegistration};
use std::sync::Arc;

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
