//! Integration tests: one crate, one module per area, driving the real `tgscript` binary.

mod account_events;
mod accounts;
mod backup;
mod bot;
mod bots;
mod check;
mod config;
mod corpus;
mod docs;
mod exec;
mod fuzz;
mod gateway;
mod inbox;
mod isolation;
mod layers;
mod limits;
mod modules;
mod protocol;
mod reload;
mod repl;
mod retries;
mod sandbox;
mod sandbox_world;
mod state;
mod util;
