//! `tgscript.toml` and its environment overrides.
//!
//! Precedence: built-in defaults, then the file (see [`Config::find`]), then environment
//! variables `TGSCRIPT_<SECTION>_<KEY>` (e.g.
//! `TGSCRIPT_LIMITS_TIMEOUT_MS=500`) and `TGSCRIPT_DEFAULT_ACCOUNT`. Errors name the file or
//! variable, the key and what was expected.

mod accounts;
mod bots;
mod cluster;
mod env;
mod tenants;

pub use accounts::{AccountConfig, Backend, TdlibConfig};
pub use bots::{BotConfig, BotMode, WebhookConfig, valid_bot_id};
pub use cluster::{ClusterConfig, ClusterSecrets, MIN_KEY_BYTES};
pub use tenants::TenantConfig;

use crate::engine::Limits;
use crate::http::HttpConfig;
use crate::telegram::FloodConfig;
use crate::telegram::download::FilesConfig;
use env::{env_key, typed_env_value, unknown_variable};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The file looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "tgscript.toml";

/// The variable naming the config file when `--config` is not given.
pub const CONFIG_VARIABLE: &str = "TGSCRIPT_CONFIG";

/// Sections whose keys can be overridden with `TGSCRIPT_<SECTION>_<KEY>`.
const SECTIONS: &[&str] = &[
    "scripts", "limits", "flood", "http", "files", "store", "inbox", "gateway", "webhook",
    "cluster",
];

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The account (`userbot_id`) scenarios act on; optional with a single account.
    pub default_account: Option<i64>,
    /// `[scripts]`: where scenarios live and how they reload.
    pub scripts: ScriptsConfig,
    /// `[limits]`: the sandbox limits of every script call.
    pub limits: Limits,
    /// `[flood]`: the rates every bot keeps to before a request goes out.
    pub flood: FloodConfig,
    /// `[http]`: what scripts' outbound HTTP may reach (off by default).
    pub http: HttpConfig,
    /// `[files]`: what `download(file_id)` may fetch.
    pub files: FilesConfig,
    /// `[store]`: the state database.
    pub store: StoreConfig,
    /// `[inbox]`: how `run` keeps and retries the updates it receives.
    pub inbox: InboxConfig,
    /// `[gateway]`: the JSON command gateway.
    pub gateway: GatewayConfig,
    /// `[[bot]]`: the bots this process serves (none: the one `TELOXIDE_TOKEN` names).
    #[serde(rename = "bot")]
    pub bots: Vec<BotConfig>,
    /// `[webhook]`: where the webhook bots get their updates.
    pub webhook: WebhookConfig,
    /// `[[account]]`: user accounts driven through TDLib or the sandbox.
    #[serde(rename = "account")]
    pub accounts: Vec<AccountConfig>,
    /// `[[tenant]]`: what each tenant is granted (a gateway token, outbound HTTP hosts).
    #[serde(rename = "tenant")]
    pub tenants: Vec<TenantConfig>,
    /// Path of libtdjson, when not in `TDJSON_PATH`, the data dir or the system folders.
    pub tdlib_path: Option<PathBuf>,
    /// `[tdlib]`: API credentials every `tdlib` account uses unless it names its own.
    pub tdlib: TdlibConfig,
    /// `[cluster]`: this process as one instance of a cluster (off unless `nats_url` is set).
    pub cluster: ClusterConfig,
    /// The file it was loaded from, if any (`run` watches it for `[[bot]]` changes).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// What loading found odd but not wrong (a `TGSCRIPT_*` variable that sets nothing), for
    /// the caller to log.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `TGSCRIPT_*` variables read elsewhere, not settings of the file.
const OTHER_VARIABLES: &[&str] = &[
    "TGSCRIPT_LOG",
    "TGSCRIPT_LOG_FORMAT",
    "TGSCRIPT_DATA_DIR",
    "TGSCRIPT_TEST_SEED",
    CONFIG_VARIABLE,
    "TGSCRIPT_NPM_REGISTRY",
];

/// The environment variable that sets `key` (of `section`, else of the top level), if one
/// does: `TGSCRIPT_LIMITS_TIMEOUT_MS`, `TGSCRIPT_DEFAULT_ACCOUNT`.
pub fn variable_of(section: Option<&str>, key: &str) -> Option<String> {
    let name = match section {
        Some(section) => format!("TGSCRIPT_{section}_{key}"),
        None => format!("TGSCRIPT_{key}"),
    }
    .to_ascii_uppercase();
    env_key(&name).map(|_| name)
}

/// tgscript's data dir: `TGSCRIPT_DATA_DIR`, else `$XDG_DATA_HOME/tgscript`, else
/// `~/.local/share/tgscript` (libtdjson, account databases, TDLib's log).
pub fn data_dir() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("TGSCRIPT_DATA_DIR")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("tgscript")))
        .or_else(|| var("HOME").map(|h| h.join(".local/share/tgscript")))
        .unwrap_or_else(|| PathBuf::from(".tgscript"))
}

/// `[scripts]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptsConfig {
    /// Scenario folder used by `tgscript run` without an argument (default `scripts`).
    pub dir: PathBuf,
    /// Reload scenarios when their files change (default true).
    pub hot_reload: bool,
    /// Chat id that receives reload and handler errors, besides the log.
    pub report_errors_to: Option<i64>,
    /// Where scenario handlers, `on_load` and the gateway's `run_script` run (default
    /// `process`).
    pub isolation: Isolation,
    /// The most worker processes at once (default 0: eight per core), plus one for the queries
    /// Telegram waits on (pre-checkout, shipping).
    pub workers: usize,
    /// Each worker's address-space limit in MiB (default 256; 0 = none). A worker is replaced
    /// once it holds more than half of it.
    pub worker_memory_mb: u64,
    /// Calls a worker serves before it is replaced (default 10,000; 0 = no limit).
    pub worker_max_calls: u32,
    /// The user script workers run as when tgscript starts as root: a name, `uid` or
    /// `uid:gid` (default `nobody`; never root). Started as another user, workers stay that
    /// user and this key must be unset.
    pub worker_user: Option<String>,
    /// The most workers one tenant's calls hold at once while the process serves several
    /// tenants (default 0: half the pool, at least one), so one tenant's slow handlers cannot
    /// keep another's waiting.
    pub tenant_workers: usize,
    /// Bytes of script output (prints) each tenant's scripts may write to the log per minute
    /// (default 1 MiB; 0 = no limit): past it the rest of the minute's lines are dropped, and
    /// one line says how much was.
    pub tenant_log_bytes_per_minute: usize,
    /// How long an album waits for more parts after its last one before `on_album` gets it,
    /// in milliseconds (default 1000): Telegram sends an album's parts one by one, nearly at
    /// once.
    pub album_wait_ms: u64,
}

impl Default for ScriptsConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("scripts"),
            hot_reload: true,
            report_errors_to: None,
            isolation: Isolation::Process,
            workers: 0,
            worker_memory_mb: 256,
            worker_max_calls: 10_000,
            worker_user: None,
            tenant_workers: 0,
            tenant_log_bytes_per_minute: crate::budget::DEFAULT_LOG_BYTES_PER_MINUTE,
            album_wait_ms: 1000,
        }
    }
}

impl ScriptsConfig {
    /// How many workers the pool may run: `workers`, else eight per core (a call holds its
    /// worker while it waits on Telegram).
    pub fn worker_count(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()) * 8,
            n => n,
        }
    }

    /// The most workers one tenant may hold at once: `tenant_workers`, else half the pool
    /// (at least one), never more than the pool.
    pub fn tenant_worker_count(&self) -> usize {
        let pool = self.worker_count().max(1);
        match self.tenant_workers {
            0 => (pool / 2).max(1),
            n => n.min(pool),
        }
    }
}

/// `[scripts] isolation`: where untrusted scripts run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// In worker processes with OS limits (the default).
    #[default]
    Process,
    /// In this process: cheaper, for trusted single-author setups (the REPL and `exec` always
    /// run inline).
    Inline,
}

/// `[store]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Path of the state database (default: in the data dir).
    pub path: Option<PathBuf>,
    /// A PostgreSQL database to keep everything in instead of SQLite
    /// (`postgres://user[:password]@host:port/db`; `TGSCRIPT_STORE_URL` keeps the password out
    /// of the file).
    pub url: Option<String>,
}

/// `[inbox]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InboxConfig {
    /// Write each update to the database before acknowledging it and record what handled it
    /// (default true). Off, an update fetched but not handled when the process dies is lost.
    pub enabled: bool,
    /// Tries an update gets when a handler keeps failing on it, before it is parked
    /// (default 3, at least 1).
    pub max_attempts: u32,
}

impl Default for InboxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_attempts: 3,
        }
    }
}

/// `[gateway]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Address to listen on, e.g. `127.0.0.1:8377`.
    pub listen: Option<String>,
    /// Bearer token clients must send (`TGSCRIPT_GATEWAY_TOKEN`).
    pub token: Option<Secret>,
    /// Bearer token of the admin actions (`add_bot`, `put_script`, …;
    /// `TGSCRIPT_GATEWAY_ADMIN_TOKEN`); it is accepted wherever `token` is. Without it, no
    /// admin action is taken.
    pub admin_token: Option<Secret>,
    /// Web origins (`https://console.example`) whose pages may call the gateway; a request
    /// carrying any other browser `Origin` is refused.
    pub allowed_origins: Vec<String>,
    /// Largest answer (one event, in bytes) the gateway sends (default 8 MiB, at least
    /// 64 KiB); a bigger one is replaced by an error event saying so (`POST /command`: 422).
    pub max_answer_size: usize,
}

/// `[gateway] max_answer_size` when the config does not set it: 8 MiB.
pub const DEFAULT_MAX_ANSWER_SIZE: usize = 8 * 1024 * 1024;

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: None,
            token: None,
            admin_token: None,
            allowed_origins: Vec::new(),
            max_answer_size: DEFAULT_MAX_ANSWER_SIZE,
        }
    }
}

/// A secret value: never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for comparing or sending; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(i64),
        }
        Ok(Secret(match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Number(n) => n.to_string(),
        }))
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{file}: invalid TOML: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A key has the wrong type or is unknown.
    #[error("{origin}: key `{key}`: {message}")]
    Invalid {
        /// The file, or `environment variable NAME`.
        origin: String,
        /// Dotted key path, e.g. `limits.timeout_ms`.
        key: String,
        /// What was wrong and what was expected.
        message: String,
    },
}

impl Config {
    /// The config file to read: `explicit` (`--config`, which must exist), else the file
    /// `TGSCRIPT_CONFIG` names, else the first of `./tgscript.toml`,
    /// `$XDG_CONFIG_HOME/tgscript/tgscript.toml` (default `~/.config`) and
    /// `/etc/tgscript/tgscript.toml` that exists; none: defaults and the environment only.
    pub fn find(explicit: Option<&Path>) -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(path) = explicit
            .map(Path::to_path_buf)
            .or_else(|| var(CONFIG_VARIABLE).map(PathBuf::from))
        {
            return Some(path);
        }
        let xdg = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".config")));
        let searched = [
            Some(PathBuf::from(DEFAULT_FILE)),
            xdg.map(|dir| dir.join("tgscript").join(DEFAULT_FILE)),
            Some(PathBuf::from("/etc/tgscript").join(DEFAULT_FILE)),
        ];
        searched.into_iter().flatten().find(|p| p.is_file())
    }

    /// Load the file [`Config::find`] finds, then apply the process environment. Relative
    /// paths in the configuration are taken from the file's folder.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = Self::find(explicit);
        let file = match &path {
            Some(p) => Some((
                p.display().to_string(),
                std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    file: p.display().to_string(),
                    source,
                })?,
            )),
            None => None,
        };
        let mut config = Self::from_sources(
            file.as_ref()
                .map(|(name, text)| (name.as_str(), text.as_str())),
            std::env::vars(),
        )?;
        if let Some(base) = path.as_ref().and_then(|p| p.parent()) {
            config.resolve_paths(base);
        }
        if let Some((key, message)) = config.cluster.missing_file() {
            return Err(ConfigError::Invalid {
                origin: path.map_or_else(|| "the environment".into(), |p| p.display().to_string()),
                key,
                message,
            });
        }
        config.source = path;
        Ok(config)
    }

    /// Build from an optional `(file name, TOML text)` and environment variables.
    pub fn from_sources(
        file: Option<(&str, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let file_name = file.map_or(DEFAULT_FILE, |(name, _)| name).to_string();
        let mut table = match file {
            Some((name, text)) => {
                toml::from_str::<toml::Table>(text).map_err(|e| ConfigError::Syntax {
                    file: name.to_string(),
                    message: e.message().to_string()
                        + e.span()
                            .map(|s| format!(" (line {})", line_of(text, s.start)))
                            .unwrap_or_default()
                            .as_str(),
                })?
            }
            None => toml::Table::new(),
        };
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        let mut from_env: Vec<(String, String)> = Vec::new();
        let mut warnings = Vec::new();
        let env: Vec<(String, String)> = env.into_iter().collect();
        for (name, raw) in env.iter().cloned() {
            let Some((section, key)) = env_key(&name) else {
                if name.starts_with("TGSCRIPT_") && !OTHER_VARIABLES.contains(&name.as_str()) {
                    warnings.push(unknown_variable(&name));
                }
                continue;
            };
            let typed = typed_env_value(&defaults, section.as_deref(), &key, &raw);
            let target = match &section {
                Some(section) => {
                    let entry = table
                        .entry(section.clone())
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    match entry {
                        toml::Value::Table(t) => t,
                        _ => continue,
                    }
                }
                None => &mut table,
            };
            target.insert(key.clone(), typed);
            let dotted = section.map_or(key.clone(), |s| format!("{s}.{key}"));
            from_env.push((dotted, name));
        }
        let origin_of = |key: &str| {
            from_env
                .iter()
                .find(|(dotted, _)| key == *dotted || key.starts_with(&format!("{dotted}.")))
                .map(|(_, var)| format!("environment variable {var}"))
                .unwrap_or_else(|| file_name.clone())
        };
        let wall_set = table
            .get("limits")
            .and_then(|limits| limits.get("wall_timeout_ms"))
            .is_some();
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let key = e.path().to_string();
                ConfigError::Invalid {
                    origin: origin_of(&key),
                    key,
                    message: e.into_inner().to_string(),
                }
            })?;
        if !wall_set {
            config.limits.default_wall_timeout();
        }
        if let Some((key, message)) = config.limits.refusal() {
            let key = format!("limits.{key}");
            return Err(ConfigError::Invalid {
                origin: origin_of(&key),
                key,
                message,
            });
        }
        // Values the types allow but that cannot work.
        let empty =
            |token: &Option<Secret>| token.as_ref().is_some_and(|t| t.expose().trim().is_empty());
        let token_empty = empty(&config.gateway.token);
        let admin_empty = empty(&config.gateway.admin_token);
        let refused = [
            (
                config.limits.tdlib_timeout_ms == 0,
                "limits.tdlib_timeout_ms",
                "must be at least 1: a TDLib request with no time would fail at once",
            ),
            (
                config.inbox.max_attempts == 0,
                "inbox.max_attempts",
                "must be at least 1 (the first try counts)",
            ),
            (
                token_empty,
                "gateway.token",
                "is empty: set a token clients must send, or leave it out (loopback only)",
            ),
            (
                admin_empty,
                "gateway.admin_token",
                "is empty: set the token admin clients must send, or leave it out (no admin actions)",
            ),
        ];
        if let Some((_, key, message)) = refused.into_iter().find(|(wrong, ..)| *wrong) {
            return Err(ConfigError::Invalid {
                origin: origin_of(key),
                key: key.into(),
                message: message.into(),
            });
        }
        bots::check(&config.bots, &config.webhook, origin_of)?;
        if let Some((key, message)) = accounts::refusal(&config.accounts)
            .or_else(|| tenants::refusal(&config.tenants, config.gateway.token.is_some()))
            .or_else(|| cluster::refusal(&config))
        {
            return Err(ConfigError::Invalid {
                origin: origin_of(&key),
                key,
                message,
            });
        }
        let variable = |var: &str| env.iter().find(|(n, _)| n == var).map(|(_, v)| v.clone());
        config.cluster.secrets =
            cluster::secrets(&config.cluster, variable).map_err(|(key, message)| {
                ConfigError::Invalid {
                    origin: origin_of(&key),
                    key,
                    message,
                }
            })?;
        config.warnings = warnings;
        Ok(config)
    }

    /// The same configuration with its secrets replaced by `***` (the gateway's tokens) or
    /// left out (the cluster's), for showing (`tgscript config show`, which also takes the
    /// password out of `[store] url`). Tokens of bots and tenants are never in it: only the
    /// names of their variables.
    pub fn redacted(&self) -> Config {
        let mut shown = self.clone();
        let hidden = || Secret("***".to_string());
        for token in [&mut shown.gateway.token, &mut shown.gateway.admin_token] {
            if token.is_some() {
                *token = Some(hidden());
            }
        }
        shown.cluster.secrets = ClusterSecrets::default();
        shown
    }

    /// Make relative paths in the file relative to the folder the file is in.
    fn resolve_paths(&mut self, base: &Path) {
        self.cluster.resolve_paths(base);
        let paths = [
            Some(&mut self.scripts.dir),
            self.store.path.as_mut(),
            self.tdlib_path.as_mut(),
        ];
        let bots = self.bots.iter_mut().map(|bot| Some(&mut bot.scripts));
        let accounts = self.accounts.iter_mut().map(|a| a.data_dir.as_mut());
        for path in paths.into_iter().chain(bots).chain(accounts).flatten() {
            resolve(base, path);
        }
    }
}

/// `path` taken from `base` when it is relative.
fn resolve(base: &Path, path: &mut PathBuf) {
    if path.is_relative() && !base.as_os_str().is_empty() {
        *path = base.join(&*path);
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
