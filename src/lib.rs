//! tgscript: host Rhai scripts as Telegram bot scenarios.
//!
//! The top-level modules sit on floors and import only their own floor or below (the
//! [`engine`] at the bottom, [`cli`] at the top). The floors are declared once, every module
//! on one, in `FLOORS` of `tests/it/layers.rs`, which fails on an import up, on a cycle and on
//! a module no floor holds; ARCHITECTURE.md walks them and says what each module does.

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
