//! Everything that speaks the Bot API: the HTTP client with its retry rules, Telegram's error
//! words and hints, the pure permission mapping, long polling that acknowledges only what was
//! kept, what an update tells about its context, files sent as uploads, and flood control.

pub mod bot;
pub mod errors;
pub mod permissions;
pub mod polling;
pub mod throttle;
pub mod update;
pub mod upload;

pub use bot::{BotClient, BotError};
pub use throttle::FloodConfig;
pub use update::{UpdateContext, UpdateKind};
