//! tgscript: host Rhai scripts as Telegram bot scenarios.
//!
//! Layers point down and never back (a test keeps it so):
//! - foundations: [`telegram`] (the Bot API client and update kinds), [`accounts`] (TDLib and
//!   the sandbox account), [`store`] (SQLite or PostgreSQL: state, inbox tables), [`request`] (typed
//!   request fields, [`request::CommandError`]), [`lanes`], [`logging`] and [`activity`] (what the
//!   process did lately, for the console), [`budget`] (what a tenant's scripts may log), [`stdlib`],
//!   [`cluster`] (leases on NATS JetStream: which instance runs which bot);
//! - [`engine`]: the sandboxed Rhai host (limits, hooks, module resolution); it knows nothing
//!   above it, and each call's context rides as the run's tag;
//! - [`effects`]: the one interface to the world, served by [`host`] and wrapped once by the
//!   inbox's journal ([`inbox::Journaled`]);
//! - [`commands`]: one table per command family, validated and executed in one place;
//! - [`builtins`]: the Rhai package registered from those tables;
//! - [`scenario`], [`inbox`], [`gateway`], [`repl`], [`sandbox`], [`check`], [`docs`],
//!   [`config`];
//! - [`app`]: the one application value `run`, `serve`, `repl` and `exec` are built from, and
//!   the bot loop;
//! - [`cli`]: arguments in, one error out.

pub mod accounts;
pub mod activity;
pub mod app;
pub mod authority;
pub mod budget;
pub mod builtins;
pub mod check;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod docs;
pub mod effects;
pub mod engine;
pub mod figures;
pub mod gateway;
pub mod host;
pub mod http;
pub mod inbox;
pub mod intake;
pub mod lanes;
pub mod logging;
pub mod repl;
pub mod request;
pub mod sandbox;
pub mod scenario;
pub mod stdlib;
pub mod store;
pub mod telegram;
pub mod telemetry;
