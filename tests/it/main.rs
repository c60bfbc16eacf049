//! Integration tests: one crate, one module per area, driving the real `tgscript` binary.

mod account_events;
mod accounts;
mod albums;
mod backup;
mod book;
mod bot;
mod bots;
mod business;
#[path = "../support/certs.rs"]
mod certs;
mod check;
mod cluster;
mod cluster_accounts;
mod cluster_auth;
mod cluster_gateway;
mod config;
mod console;
mod corpus;
mod crash;
mod docs;
mod exec;
mod flood;
mod fuzz;
mod gateway;
mod http;
mod inbox;
mod inline;
mod isolation;
mod jobs;
mod layers;
mod limits;
mod media;
mod modules;
#[path = "../support/nats.rs"]
mod nats;
mod operations;
mod operator;
mod payments;
#[path = "../support/postgres.rs"]
mod pg;
mod postgres;
mod protocol;
mod reload;
mod repl;
mod retries;
mod routing;
mod salebot;
mod sandbox;
mod sandbox_world;
mod servers;
mod signals;
mod state;
mod tdlib_install;
mod tenants;
mod updates;
mod util;
