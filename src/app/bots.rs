//! The bots `run` serves: the one `TELOXIDE_TOKEN` names (id `default`, `[scripts] dir` or
//! the folder given), or those of `[[bot]]`, each with its own Bot API client and effects
//! host (state, inbox and accounts shared through the one database and runtime), scenario
//! folder and mode.

use super::{App, AppError};
use crate::config::{BotConfig, BotMode, Config};
use crate::host::Host;
use crate::store::{DEFAULT_BOT, SavedBot};
use crate::telegram::{BotClient, FloodConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One bot as `run` serves it.
#[derive(Clone)]
pub struct BotSetup {
    /// Its id (`default` for the `TELOXIDE_TOKEN` bot).
    pub id: String,
    /// What its scripts act through: its own Bot API client.
    pub host: Arc<Host>,
    /// Its scenario folder.
    pub dir: PathBuf,
    /// How it gets its updates.
    pub mode: BotMode,
    /// Where it comes from.
    pub source: BotSource,
}

/// Where a bot comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum BotSource {
    /// `TELOXIDE_TOKEN` (or the sandbox).
    Environment,
    /// A `[[bot]]` entry (a config edit changes it).
    Config(BotConfig),
    /// `add_bot` over the gateway (kept in the database).
    Gateway,
}

impl BotSource {
    /// As `list_bots` names it.
    pub fn name(&self) -> &'static str {
        match self {
            BotSource::Environment => "environment",
            BotSource::Config(_) => "config",
            BotSource::Gateway => "gateway",
        }
    }
}

/// A configured bot and its client.
pub(super) struct Configured {
    pub(super) config: BotConfig,
    pub(super) client: BotClient,
}

/// The clients of the `[[bot]]`s, tokens read from the variables they name: an unset or
/// empty variable is a configuration error that names the bot and the variable, before
/// anything starts.
pub(super) fn configured(config: &Config) -> Result<Vec<Configured>, AppError> {
    config
        .bots
        .iter()
        .map(|bot| configured_one(bot, &config.flood))
        .collect()
}

/// The client of bot `id` with `token` (kept out of the logs from now on), at `api_url` (else
/// `TELOXIDE_API_URL`, else Telegram's), keeping to `flood`.
fn client(
    id: &str,
    token: &str,
    api_url: Option<&str>,
    flood: &FloodConfig,
) -> Result<BotClient, AppError> {
    crate::logging::add_secret(token);
    let default_url = std::env::var("TELOXIDE_API_URL").ok();
    let url = api_url.or(default_url.as_deref());
    Ok(BotClient::new(token, url)
        .map_err(|e| AppError::Config(format!("bot {id:?}: {e}")))?
        .with_flood(flood))
}

/// The client of one `[[bot]]`, its token read from the variable it names.
fn configured_one(bot: &BotConfig, flood: &FloodConfig) -> Result<Configured, AppError> {
    let token = std::env::var(&bot.token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            AppError::Config(format!(
                "bot {:?}: its token variable {} is unset or empty; set it to the bot's token (from @BotFather), or remove the bot from the config",
                bot.id, bot.token_env
            ))
        })?;
    let client = client(&bot.id, &token, bot.api_url.as_deref(), flood)?;
    Ok(Configured {
        config: bot.clone(),
        client,
    })
}

impl App {
    /// The bots to serve: the `[[bot]]`s, else the one bot of `TELOXIDE_TOKEN` (or the
    /// sandbox) with the scenarios of `dir`.
    pub fn bots(&self, dir: &Path) -> Result<Vec<BotSetup>, AppError> {
        if self.configured.is_empty() {
            let Some(client) = self.host.bot() else {
                return Err(AppError::Config("no bot: set TELOXIDE_TOKEN".into()));
            };
            return Ok(vec![BotSetup {
                id: DEFAULT_BOT.to_string(),
                host: Arc::new(self.host.for_bot(client.clone(), DEFAULT_BOT, DEFAULT_BOT)),
                dir: dir.to_path_buf(),
                mode: BotMode::Polling,
                source: BotSource::Environment,
            }]);
        }
        Ok(self.configured.iter().map(|bot| self.setup(bot)).collect())
    }

    /// A `[[bot]]` added to (or changed in) the config while running, its token read from
    /// the variable it names.
    pub fn bot_from_config(&self, bot: &BotConfig) -> Result<BotSetup, AppError> {
        configured_one(bot, &self.config().flood).map(|bot| self.setup(&bot))
    }

    /// A bot added through the gateway (now, or kept from an earlier run).
    pub fn bot_from_saved(&self, bot: &SavedBot) -> Result<BotSetup, AppError> {
        from_saved(&self.host, bot, &self.config().flood)
    }

    fn setup(&self, bot: &Configured) -> BotSetup {
        BotSetup {
            id: bot.config.id.clone(),
            host: Arc::new(self.host.for_bot(
                bot.client.clone(),
                &bot.config.id,
                bot.config.tenant(),
            )),
            dir: bot.config.scripts.clone(),
            mode: bot.config.mode,
            source: BotSource::Config(bot.config.clone()),
        }
    }
}

/// The setup of a bot added through the gateway, its client sharing `host`'s connections.
pub(super) fn from_saved(
    host: &Host,
    bot: &SavedBot,
    flood: &FloodConfig,
) -> Result<BotSetup, AppError> {
    let client = client(&bot.id, &bot.token, bot.api_url.as_deref(), flood)?;
    let mode = match bot.mode.as_str() {
        "webhook" => BotMode::Webhook,
        _ => BotMode::Polling,
    };
    Ok(BotSetup {
        id: bot.id.clone(),
        host: Arc::new(host.for_bot(client, &bot.id, bot.tenant())),
        dir: PathBuf::from(&bot.scripts),
        mode,
        source: BotSource::Gateway,
    })
}
