//! The application: one value ([`App`]) built from the configuration — the bot or the sandbox,
//! the accounts, the state database, the effects host and the engine's builtins — used by
//! `run`, `serve`, `repl` and `exec` alike, plus the bot loop ([`bot`]) that `run` drives.

pub mod bot;
pub mod bots;
mod control;
pub mod fleet;
mod health;
mod sandbox_chat;
pub mod systemd;

use crate::builtins::{self, CallContext};
use crate::config::{Config, Isolation, data_dir};
use crate::effects::Effects;
use crate::engine::ScriptEngine;
use crate::gateway::{self, Gateway};
use crate::host::Host;
use crate::http::HttpClient;
use crate::sandbox::{BotApiServer, World, lines};
use crate::scenario::runner::pool::{PoolSettings, WorkerPool};
use crate::scenario::runner::{Runner, confine};
use crate::store::{Claim, ClaimMode, Store};
use crate::telegram::{BotClient, BotError};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

/// Token the sandbox bot uses with the local sandbox server.
const SANDBOX_TOKEN: &str = "0:sandbox";
/// Stack size of the threads scripts run on (deep Rhai recursion needs room).
const SCRIPT_STACK: usize = 8 * 1024 * 1024;

/// Why the application could not be built or could not go on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The configuration, the environment or the arguments are wrong: nothing was run.
    #[error("{0}")]
    Config(String),
    /// Something failed while starting or running.
    #[error("{0}")]
    Failed(String),
}

impl From<crate::intake::webhook::WebhookError> for AppError {
    fn from(e: crate::intake::webhook::WebhookError) -> Self {
        match e {
            crate::intake::webhook::WebhookError::Listen { .. } => AppError::Config(e.to_string()),
            _ => AppError::Failed(e.to_string()),
        }
    }
}

/// When scripts get a sandbox account (id 1) because no account is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxAccount {
    /// Always (the gateway, the REPL and `exec`).
    Always,
    /// When the bot is the sandbox too (`run` without a token).
    WithSandboxBot,
}

/// What a subcommand needs built.
#[derive(Debug, Clone, Copy)]
pub struct Wiring {
    /// Serve the bots (`run`): those of `[[bot]]` (each token variable must be set), else
    /// the one of `TELOXIDE_TOKEN`, else the sandbox Bot API server (every call made to it
    /// printed). Off, only `TELOXIDE_TOKEN` is looked at, and without it there is no bot.
    pub sandbox_bot: bool,
    /// When scripts get a sandbox account.
    pub sandbox_account: SandboxAccount,
    /// Ask the Bot API who the bot is before anything else starts: a refused token is a
    /// start-up error (`run`).
    pub verify_token: bool,
    /// Claim the database for this process (`run`: one process per inbox).
    pub claim_store: bool,
}

/// Everything a subcommand runs with, built once from the configuration.
pub struct App {
    config: Config,
    runtime: tokio::runtime::Runtime,
    host: Arc<Host>,
    sandbox: Option<Arc<BotApiServer>>,
    /// The script workers, when `[scripts] isolation = "process"`.
    workers: Option<Arc<WorkerPool>>,
    /// The `[[bot]]`s and their clients (`run` only).
    configured: Vec<bots::Configured>,
    /// Whether where scripts run has been logged (and the first worker started).
    announced: std::sync::atomic::AtomicBool,
    _claim: Option<Claim>,
}

impl App {
    /// Build what `wiring` asks for from `config` and the environment (`TELOXIDE_TOKEN`,
    /// `TELOXIDE_API_URL`). On the sandbox, state lives in memory like the rest of the
    /// simulation.
    pub fn build(config: &Config, wiring: Wiring) -> Result<App, AppError> {
        // Before anything is counted.
        crate::telemetry::recorder();
        let configured = match wiring.sandbox_bot {
            true => bots::configured(config)?,
            false => Vec::new(),
        };
        let runtime = runtime()?;
        let token = std::env::var("TELOXIDE_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty());
        let (bot, sandbox) = match token {
            // The first configured bot is the one the gateway and `on_load` reports act for.
            _ if !configured.is_empty() => (configured.first().map(|b| b.client.clone()), None),
            Some(token) => {
                crate::logging::add_secret(&token);
                let url = std::env::var("TELOXIDE_API_URL").ok();
                let bot = BotClient::new(&token, url.as_deref())
                    .map_err(AppError::Config)?
                    .with_flood(&config.flood);
                (Some(bot), None)
            }
            None if wiring.sandbox_bot => {
                let server = BotApiServer::start(World::new(), Some(SANDBOX_TOKEN))
                    .map_err(|e| AppError::Failed(format!("cannot start the sandbox: {e}")))?;
                lines::print_calls(&server);
                // Not paced: the sandbox is for trying things, and its group would make the
                // bot wait 3 s between messages.
                let bot =
                    BotClient::new(SANDBOX_TOKEN, Some(&server.url())).map_err(AppError::Config)?;
                (Some(bot), Some(Arc::new(server)))
            }
            None => (None, None),
        };
        if wiring.verify_token {
            if configured.is_empty()
                && let Some(bot) = &bot
            {
                runtime.block_on(verify_token(
                    bot,
                    crate::store::DEFAULT_BOT,
                    "TELOXIDE_TOKEN (and TELOXIDE_API_URL)",
                ))?;
            }
            for bot in &configured {
                let check = format!(
                    "{} (and api_url) of bot {:?}",
                    bot.config.token_env, bot.config.id
                );
                runtime.block_on(verify_token(&bot.client, &bot.config.id, &check))?;
            }
        }
        let in_cluster = config.cluster.nats_url.is_some();
        let store = match (&sandbox, in_cluster) {
            (Some(_), true) => {
                return Err(AppError::Config(
                    "[cluster] runs real bots, not the sandbox: set [[bot]]s or TELOXIDE_TOKEN"
                        .into(),
                ));
            }
            (Some(_), false) => Store::in_memory(),
            (None, _) => open_store(config)?,
        };
        // Before anything else starts (TDLib clients included): one `run` per database, or
        // the instances of one cluster.
        let mode = match in_cluster {
            true => ClaimMode::Cluster,
            false => ClaimMode::Alone,
        };
        let claim = match wiring.claim_store {
            true => store
                .claim(mode)
                .map_err(|e| AppError::Config(e.to_string()))?,
            false => None,
        };
        let sandbox_account = match wiring.sandbox_account {
            SandboxAccount::Always => true,
            SandboxAccount::WithSandboxBot => sandbox.is_some(),
        };
        if !wiring.claim_store {
            crate::accounts::open::warn_outside_cluster(config);
        }
        // An instance of a cluster opens an account only once it owns it (`fleet`).
        let accounts = match in_cluster && wiring.claim_store {
            true => crate::accounts::open::for_cluster(config),
            false => crate::accounts::open::from_config(
                config,
                runtime.handle(),
                sandbox_account,
                &store,
            ),
        }
        .map_err(|e| AppError::Config(e.to_string()))?;
        for bot in &config.bots {
            accounts.serve_tenant(bot.tenant());
        }
        store.limit_scopes(config.limits.max_state_scopes);
        crate::budget::log_budget().set_per_minute(config.scripts.tenant_log_bytes_per_minute);
        let clock = sandbox
            .as_ref()
            .map(|server| server.world(|w| w.clock()))
            .unwrap_or_default();
        let host = Host::new(bot, accounts, Arc::new(store), runtime.handle().clone())
            .with_login_timeout(crate::accounts::open::tdlib_timeout(config))
            .with_clock(clock)
            .with_http(HttpClient::new(&config.http).map_err(|e| AppError::Config(e.to_string()))?)
            .with_files(&config.files, config.limits.max_array_size)
            .with_tenant_http(
                config
                    .tenants
                    .iter()
                    .filter_map(|t| Some((t.name.clone(), t.http_allow.clone()?.into())))
                    .collect(),
            );
        let workers = match config.scripts.isolation {
            Isolation::Inline => None,
            Isolation::Process => Some(Arc::new(worker_pool(config)?)),
        };
        Ok(App {
            config: config.clone(),
            runtime,
            host: Arc::new(host),
            sandbox,
            workers,
            configured,
            announced: std::sync::atomic::AtomicBool::new(false),
            _claim: claim,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The effects host: bot, accounts and state.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// The host as the effects scripts act through.
    pub fn effects(&self) -> Arc<dyn Effects> {
        self.host.clone()
    }

    /// The sandbox Bot API server, when the bot is simulated.
    pub fn sandbox(&self) -> Option<&Arc<BotApiServer>> {
        self.sandbox.as_ref()
    }

    /// An engine with the builtins, acting through the host, whose imports resolve against
    /// `root`.
    pub fn engine(&self, root: &Path) -> ScriptEngine {
        builtins::engine(
            self.config.limits.clone(),
            root,
            CallContext::direct(self.effects()),
        )
    }

    /// An engine like [`App::engine`] whose chat builtins act in `chat` when not given a
    /// `chat_id` (the REPL on the sandbox).
    pub fn engine_in_chat(&self, root: &Path, chat: i64) -> ScriptEngine {
        builtins::engine(
            self.config.limits.clone(),
            root,
            CallContext::in_chat(self.effects(), chat),
        )
    }

    /// Where the untrusted scripts of the folder `root` run (handlers, `on_load`,
    /// `run_script`): the worker pool, or an engine of this process with
    /// `[scripts] isolation = "inline"`. The first call starts the first worker and logs its
    /// confinement; a binary that cannot run as a worker is an error here.
    pub fn runner(&self, root: &Path) -> Result<Arc<Runner>, AppError> {
        use std::sync::atomic::Ordering;
        let first = !self.announced.swap(true, Ordering::SeqCst);
        let Some(pool) = &self.workers else {
            if first {
                tracing::info!("scripts run in-process ([scripts] isolation = \"inline\")");
            }
            return Ok(Arc::new(Runner::Inline(Arc::new(self.engine(root)))));
        };
        if first {
            let confinement = pool.start().map_err(|e| {
                self.announced.store(false, Ordering::SeqCst);
                AppError::Failed(e.to_string())
            })?;
            tracing::info!(
                "scripts run in worker processes (up to {}): {}",
                self.config.scripts.worker_count(),
                confinement.line()
            );
            for layer in confinement.layers.iter().filter(|layer| !layer.enforced) {
                tracing::warn!(
                    "script workers: {} is not in force here ({}); see `tgscript cage`",
                    layer.name,
                    layer.detail
                );
            }
        }
        Ok(Arc::new(Runner::Process {
            pool: pool.clone(),
            root: root.to_path_buf(),
        }))
    }

    /// A gateway over the host whose scripts run on `runner`, requiring `settings`' token,
    /// taking the account admin actions and pushing account events.
    /// The clients of `[[tenant]]` tokens and of those the admin adds are taken, each acting
    /// as its tenant; `run_script` of a client other than the admin reaches no files.
    pub fn gateway(
        &self,
        runner: Arc<Runner>,
        settings: &gateway::Settings,
    ) -> Result<Gateway, AppError> {
        let mut configured = Vec::new();
        for tenant in &self.config.tenants {
            if let Some(token) = tenant.token().map_err(AppError::Config)? {
                crate::logging::add_secret(&token);
                configured.push((tenant.name.clone(), token));
            }
        }
        let tokens = gateway::TenantTokens::new(configured, Some(self.host.store().clone()));
        let sealed = self.runner(Path::new(crate::engine::folder::NO_FOLDER))?;
        let folder = gateway::admin::BotScope {
            id: "scripts".into(),
            host: self.host.clone(),
            dir: self.config.scripts.dir.clone(),
            inbox: None,
            runner: runner.clone(),
            limits: self.config.limits.clone(),
        };
        Ok(Gateway::new(self.effects(), runner, settings)
            .with_folder(folder)
            .with_accounts(
                Arc::new(gateway::account_admin::AccountAdmin::new(
                    &self.config,
                    &self.host,
                    self.runtime.handle().clone(),
                )),
                self.host.accounts().hub().clone(),
            )
            .with_tenants(tokens, self.host.clone(), sealed))
    }

    /// Run `future` to completion on the application's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Close the accounts (TDLib flushes its databases), then stop the runtime without
    /// waiting on a blocked read of stdin (the sandbox chat's): a Ctrl-C with no input
    /// pending stops at once.
    pub fn close(self) {
        self.runtime.block_on(self.host.accounts().close_all());
        let App { runtime, .. } = self;
        runtime.shutdown_timeout(SHUTDOWN_GRACE);
    }
}

/// A token the Bot API refuses is a start-up error (saying to check `what`); other failures
/// are only logged.
async fn verify_token(bot: &BotClient, id: &str, what: &str) -> Result<(), AppError> {
    match bot.call("getMe", &serde_json::json!({})).await {
        Ok(me) => tracing::info!(
            bot = id,
            "bot {id}: connected as @{}",
            me["username"].as_str().unwrap_or("?")
        ),
        Err(
            e @ BotError::Api {
                code: 401 | 404, ..
            },
        ) => {
            return Err(AppError::Config(format!(
                "the Bot API refused the bot token ({e}): check {what}"
            )));
        }
        Err(e) => tracing::warn!("getMe failed, polling anyway: {e}"),
    }
    Ok(())
}

/// Where the gateway listens and the token it requires: `listen`, else `[gateway] listen`,
/// else the default loopback address; checked before anything starts.
pub fn gateway_settings(
    config: &Config,
    listen: Option<&str>,
) -> Result<gateway::Settings, AppError> {
    let listen = listen
        .or(config.gateway.listen.as_deref())
        .unwrap_or(gateway::DEFAULT_LISTEN);
    // Secrets from now on: never in the log.
    let secret = |token: &Option<crate::config::Secret>| {
        let token = token.as_ref().map(|t| t.expose().to_string());
        if let Some(token) = &token {
            crate::logging::add_secret(token);
        }
        token
    };
    let (token, admin) = (
        secret(&config.gateway.token),
        secret(&config.gateway.admin_token),
    );
    gateway::Settings::new(listen, token, config.gateway.allowed_origins.clone())
        .map(|settings| {
            settings
                .with_admin_token(admin)
                .with_max_answer_size(config.gateway.max_answer_size)
        })
        .map_err(|e| AppError::Config(e.to_string()))
}

/// The worker pool of `[scripts]`, running this binary as `tgscript worker`.
pub fn worker_pool(config: &Config) -> Result<WorkerPool, AppError> {
    let exe = std::env::current_exe().map_err(|e| {
        AppError::Failed(format!(
            "cannot find the tgscript binary for its script workers: {e}"
        ))
    })?;
    Ok(WorkerPool::new(PoolSettings {
        exe,
        workers: config.scripts.worker_count(),
        tenant_workers: config.scripts.tenant_worker_count(),
        memory_mb: config.scripts.worker_memory_mb,
        max_calls: config.scripts.worker_max_calls,
        user: confine::worker_user(config.scripts.worker_user.as_deref())
            .map_err(|e| AppError::Config(e.to_string()))?,
        limits: config.limits.clone(),
    }))
}

/// How long closing waits for blocking tasks still running (a read of stdin never ends).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// The async runtime bots, accounts and scripts run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(SCRIPT_STACK)
        .build()
        .map_err(|e| AppError::Failed(format!("cannot start the async runtime: {e}")))
}

/// The state database: the PostgreSQL database of `[store] url`, or the SQLite file of
/// `[store] path` (default `state.db` in the data dir).
pub fn open_store(config: &Config) -> Result<Store, AppError> {
    let store = &config.store;
    let opened = match (&store.url, &store.path) {
        (Some(_), Some(_)) => {
            return Err(AppError::Config(
                "[store] has both a path and a url: keep one (path: SQLite, url: PostgreSQL)"
                    .into(),
            ));
        }
        (Some(url), None)
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) =>
        {
            return Err(AppError::Config(
                "[store] url must be a PostgreSQL URL: postgres://user@host:port/database".into(),
            ));
        }
        (Some(url), None) => Store::connect(url),
        (None, _) => Store::open(&store_path(config)),
    };
    opened.map_err(|e| AppError::Config(e.to_string()))
}

/// The state database as [`open_store`] opens it, for commands that only look or change
/// what is there (`inbox`, `jobs`, `account status`): a SQLite file that does not exist is
/// an error naming the path looked at, never a database made empty.
pub fn open_existing_store(config: &Config) -> Result<Store, AppError> {
    let path = store_path(config);
    if config.store.url.is_none() && !path.is_file() {
        let from = match &config.source {
            Some(file) => format!("the config {}", file.display()),
            None => "no config file was found".to_string(),
        };
        return Err(AppError::Config(format!(
            "no state database at {} ({from}): pass --config with the file `run` uses, or set [store] path (or TGSCRIPT_DATA_DIR) to where the database is",
            path.display()
        )));
    }
    open_store(config)
}

/// Where the state database of `[store] path` is (default `state.db` in the data dir).
pub fn store_path(config: &Config) -> std::path::PathBuf {
    config
        .store
        .path
        .clone()
        .unwrap_or_else(|| data_dir().join("state.db"))
}
