//! The sandbox: a simulated Telegram behind a real Bot API server on loopback, so scripts run
//! through the same teloxide client and HTTP path as in production. `tgscript run` uses it
//! when no bot token is set; the tests use the same server.

pub mod lines;
pub mod params;
pub mod server;
pub mod world;

pub use server::{BotApiServer, Recorded};
pub use world::{NOT_SIMULATED, Refusal, World};
