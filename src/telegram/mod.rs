//! Everything that speaks the Bot API: the client (one [`call::Caller`] trait; the HTTP
//! transport; counting, flood control, retry on `429` and following a migration as layers
//! around it, composed in [`bot`]), Telegram's error words and hints, the pure permission
//! mapping, business connections and the rights they grant, long polling that acknowledges
//! only what was kept, every kind of update (one table), albums, what an update tells about
//! its context, files sent as uploads and files downloaded, and the flood-control schedule.

pub mod album;
pub mod bot;
pub mod business;
pub mod call;
pub mod download;
pub mod errors;
pub mod http;
pub mod kinds;
pub mod layers;
pub mod permissions;
pub mod polling;
pub mod throttle;
pub mod update;
pub mod upload;

pub use bot::{BotClient, BotError};
pub use throttle::FloodConfig;
pub use update::{UpdateContext, UpdateKind};

/// Bot API methods a script may not call through `bot_api`: they take the bot over from
/// tgscript, with the reason given to the script.
const TAKEOVER_METHODS: &[(&str, &str)] = &[
    (
        "getUpdates",
        "tgscript receives the bot's updates itself; a script taking them would acknowledge them past the inbox",
    ),
    (
        "setWebhook",
        "where the bot's updates are delivered is tgscript's configuration, not a script's",
    ),
    (
        "deleteWebhook",
        "where the bot's updates are delivered is tgscript's configuration, not a script's",
    ),
    (
        "logOut",
        "it would log the bot out of the Bot API server tgscript uses",
    ),
    (
        "close",
        "it would close the bot's session on the Bot API server tgscript uses",
    ),
];

/// Why a script may not call Bot API `method` (any case: Telegram matches names whatever
/// their case), if it may not: it would take the bot over from tgscript.
pub fn takeover(method: &str) -> Option<&'static str> {
    TAKEOVER_METHODS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(method))
        .map(|(_, why)| *why)
}
