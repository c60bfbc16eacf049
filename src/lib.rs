//! tgscript: host Rhai scripts as Telegram bot scenarios.
//!
//! The crate is laid out by concern: [`engine`] is the sandboxed Rhai host (limits, hooks,
//! module resolution), [`builtins`] the functions scripts call, [`stdlib`] the modules shipped
//! in the binary, [`check`] the static checks of `tgscript check`, [`docs`] the builtin
//! reference, [`config`] the `tgscript.toml` loader and [`cli`] the command line on top.
//! [`store`] is the SQLite database holding script state and the [`inbox`] of updates.

pub mod accounts;
pub mod app;
pub mod builtins;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod docs;
pub mod effects;
pub mod engine;
pub mod gateway;
pub mod host;
pub mod inbox;
pub mod lanes;
pub mod logging;
pub mod repl;
pub mod request;
pub mod sandbox;
pub mod scenario;
pub mod stdlib;
pub mod store;
pub mod telegram;
