//! `[[bot]]` (any number of bots served by one process) and `[webhook]` (where Telegram
//! delivers the updates of the bots in webhook mode).

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[[bot]]`: one bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// Its id: letters, digits, `_` and `-` (in logs, the inbox, `/webhook/<id>`).
    pub id: String,
    /// The name of the environment variable holding its token (never the token itself).
    pub token_env: String,
    /// Its scenario folder, relative to the config file.
    pub scripts: PathBuf,
    /// How it gets its updates (default `polling`).
    #[serde(default)]
    pub mode: BotMode,
    /// The Bot API server it talks to (default Telegram's, or `TELOXIDE_API_URL`).
    pub api_url: Option<String>,
    /// The tenant (customer) it belongs to: bots of one tenant share its accounts; default
    /// its own id, so every bot is a tenant of its own.
    pub tenant: Option<String>,
}

impl BotConfig {
    /// Its tenant: `tenant`, else its id.
    pub fn tenant(&self) -> &str {
        self.tenant.as_deref().unwrap_or(&self.id)
    }
}

/// How a bot gets its updates.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum BotMode {
    /// It asks for them (`getUpdates`).
    #[default]
    Polling,
    /// Telegram posts them to `[webhook] public_url` + `/webhook/<id>`.
    Webhook,
}

impl BotMode {
    /// The mode as the config spells it.
    pub fn name(self) -> &'static str {
        match self {
            BotMode::Polling => "polling",
            BotMode::Webhook => "webhook",
        }
    }
}

/// `[webhook]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// The address the webhook listener binds, e.g. `127.0.0.1:8443` (a reverse proxy with
    /// TLS in front of it).
    pub listen: Option<String>,
    /// The public HTTPS address Telegram posts to, e.g. `https://bots.example.com`; each bot
    /// gets `<public_url>/webhook/<id>`.
    pub public_url: Option<String>,
    /// `max_connections` passed to `setWebhook` (1–100, default 40).
    pub max_connections: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            listen: None,
            public_url: None,
            max_connections: 40,
        }
    }
}

/// Whether `id` may name a bot: 1–64 letters, digits, `_` or `-`.
pub fn valid_bot_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The first thing wrong with `bots` and `webhook` taken together, as `(key, message)`.
pub(super) fn refusal(bots: &[BotConfig], webhook: &WebhookConfig) -> Option<(String, String)> {
    for (n, bot) in bots.iter().enumerate() {
        let key = |field: &str| format!("bot[{n}].{field}");
        if !valid_bot_id(&bot.id) {
            return Some((
                key("id"),
                format!(
                    "{:?} is not a bot id: use 1–64 letters, digits, `_` or `-`",
                    bot.id
                ),
            ));
        }
        if let Some(tenant) = &bot.tenant
            && !valid_bot_id(tenant)
        {
            return Some((
                key("tenant"),
                format!("{tenant:?} is not a tenant name: use 1–64 letters, digits, `_` or `-`"),
            ));
        }
        if let Some(first) = bots[..n].iter().position(|b| b.id == bot.id) {
            return Some((
                key("id"),
                format!("bot {:?} is configured twice (also bot[{first}])", bot.id),
            ));
        }
        if bot.token_env.trim().is_empty() {
            return Some((
                key("token_env"),
                "is empty: name the environment variable that holds the bot's token".into(),
            ));
        }
        if bot.mode == BotMode::Webhook
            && (webhook.listen.is_none() || webhook.public_url.is_none())
        {
            return Some((
                key("mode"),
                format!(
                    "bot {:?} is in webhook mode: set [webhook] listen and public_url",
                    bot.id
                ),
            ));
        }
    }
    if let Some(url) = &webhook.public_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Some((
            "webhook.public_url".into(),
            format!("{url:?} is not an http(s) address (Telegram needs https://…)"),
        ));
    }
    if !(1..=100).contains(&webhook.max_connections) {
        return Some((
            "webhook.max_connections".into(),
            "must be from 1 to 100 (Telegram's range)".into(),
        ));
    }
    None
}

/// `refusal` as the error `Config` loading returns, from `origin`.
pub(super) fn check(
    bots: &[BotConfig],
    webhook: &WebhookConfig,
    origin: impl Fn(&str) -> String,
) -> Result<(), ConfigError> {
    match refusal(bots, webhook) {
        None => Ok(()),
        Some((key, message)) => Err(ConfigError::Invalid {
            origin: origin(&key),
            key,
            message,
        }),
    }
}
