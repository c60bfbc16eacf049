//! The effects served in-process: the Bot API client (real or sandbox), the accounts, the
//! state database, and the async runtime the blocking script threads bridge into. Calls on a
//! business account's behalf are checked against the bot's connections first (`business`).

mod business;

use crate::accounts::{AccountOp, Accounts, AuthState, LoginStep};
use crate::clock::Clock;
use crate::effects::Caller;
use crate::effects::{Effect, Effects, Refusal};
use crate::http::{HttpClient, HttpError, HttpRequest};
use crate::request::CommandError;
use crate::store::Store;
use crate::telegram::download::{Cap, DownloadError, FilesConfig};
use crate::telegram::{BotClient, BotError, errors};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;

/// How long a login step waits for TDLib by default (`[limits] tdlib_timeout_ms`).
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The connections builtins use, served in-process.
#[derive(Debug)]
pub struct Host {
    bot: Option<BotClient>,
    runtime: Option<Handle>,
    store: Arc<Store>,
    accounts: Accounts,
    /// How long a login step may wait for TDLib's answer.
    login_timeout: Duration,
    /// The clock scripts and jobs go by.
    clock: Arc<Clock>,
    /// Outbound HTTP, when `[http] allow` lists hosts.
    http: Option<HttpClient>,
    /// Whose scripts act through it (none: the operator's tools).
    caller: Option<Caller>,
    /// The hosts each tenant's outbound HTTP is narrowed to (`[[tenant]] http_allow`).
    tenant_http: Arc<TenantHttp>,
    /// What downloads may fetch: the cap, and a local Bot API server's folder.
    downloads: Arc<Downloads>,
}

/// What `download(file_id)` may fetch (`[files]`, and the blob limit of `[limits]`).
#[derive(Debug)]
struct Downloads {
    /// The most bytes one download brings.
    cap: Cap,
    /// `[files] local_dir`.
    local_dir: Option<std::path::PathBuf>,
}

impl Default for Downloads {
    fn default() -> Self {
        Self::new(
            &FilesConfig::default(),
            crate::engine::Limits::default().max_array_size,
        )
    }
}

impl Downloads {
    fn new(config: &FilesConfig, max_array_size: usize) -> Self {
        Self {
            cap: Cap::of(config, max_array_size),
            local_dir: config.local_dir.clone(),
        }
    }
}

/// The hosts each tenant's outbound HTTP is narrowed to, by tenant.
pub type TenantHttp = std::collections::BTreeMap<String, Arc<[String]>>;

impl Host {
    /// No connections: builtins that need one fail with an error saying how to connect;
    /// state lives in memory.
    pub fn offline() -> Self {
        Self {
            bot: None,
            runtime: None,
            store: Arc::default(),
            accounts: Accounts::default(),
            login_timeout: LOGIN_TIMEOUT,
            clock: Arc::default(),
            http: None,
            caller: None,
            tenant_http: Arc::default(),
            downloads: Arc::default(),
        }
    }

    /// The same host, its login steps waiting `timeout` for TDLib.
    pub fn with_login_timeout(mut self, timeout: Duration) -> Self {
        self.login_timeout = timeout;
        self
    }

    /// Connected to `bot` (if any), `accounts` and `store`, bridging into `runtime`.
    pub fn new(
        bot: Option<BotClient>,
        accounts: Accounts,
        store: Arc<Store>,
        runtime: Handle,
    ) -> Self {
        Self {
            bot,
            runtime: Some(runtime),
            store,
            accounts,
            login_timeout: LOGIN_TIMEOUT,
            clock: Arc::default(),
            http: None,
            caller: None,
            tenant_http: Arc::default(),
            downloads: Arc::default(),
        }
    }

    /// The same connections for the scenarios of bot `id` of `tenant`, `bot` its client
    /// (another bot of the process, or the same one): what they may reach is decided here.
    pub fn for_bot(&self, bot: BotClient, id: &str, tenant: &str) -> Self {
        self.accounts.serve_tenant(tenant);
        Self {
            bot: Some(bot),
            runtime: self.runtime.clone(),
            store: self.store.clone(),
            accounts: self.accounts.clone(),
            login_timeout: self.login_timeout,
            clock: self.clock.clone(),
            http: self.http.clone(),
            caller: Some(
                Caller::bot(id, tenant, self.accounts.clone())
                    .with_http_allow(self.tenant_http.get(tenant).cloned()),
            ),
            tenant_http: self.tenant_http.clone(),
            downloads: self.downloads.clone(),
        }
    }

    /// What a gateway client of `tenant` (its token's) acts as: the tenant's accounts, no
    /// bot, no state namespace, its outbound HTTP narrowed as its scenarios' is.
    pub fn client_of(&self, tenant: &str) -> Caller {
        Caller::tenant(tenant, self.accounts.clone())
            .with_http_allow(self.tenant_http.get(tenant).cloned())
    }

    /// The same host narrowing each tenant's outbound HTTP to the hosts `narrowed` lists.
    pub fn with_tenant_http(mut self, narrowed: TenantHttp) -> Self {
        self.tenant_http = Arc::new(narrowed);
        self
    }

    /// The same host sending scripts' outbound HTTP through `http`.
    pub fn with_http(mut self, http: Option<HttpClient>) -> Self {
        self.http = http;
        self
    }

    /// The same host downloading files as `config` says, no larger than a blob may be
    /// (`max_array_size`, `[limits]`).
    pub fn with_files(mut self, config: &FilesConfig, max_array_size: usize) -> Self {
        self.downloads = Arc::new(Downloads::new(config, max_array_size));
        self
    }

    /// The same host going by `clock` (the sandbox's).
    pub fn with_clock(mut self, clock: Arc<Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock scripts and jobs go by.
    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// The user accounts.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The bot, if one is connected.
    pub fn bot(&self) -> Option<&BotClient> {
        self.bot.as_ref()
    }

    /// The database: script state and the inbox.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Run `future` to completion from a script thread, no later than the wall deadline of
    /// the call it serves (`[limits] wall_timeout_ms`, see [`crate::engine::run::wall_left`]):
    /// a wait that would outlast it is given up with code 504.
    fn block_on<F: Future>(&self, command: &str, future: F) -> Result<F::Output, CommandError> {
        let runtime = self.runtime.as_ref().ok_or_else(|| {
            CommandError::invalid(
                command,
                "no async runtime: this builtin needs a connected bot",
            )
        })?;
        let Some(left) = crate::engine::run::wall_left() else {
            return Ok(runtime.block_on(future));
        };
        runtime
            .block_on(async { tokio::time::timeout(left, future).await })
            .map_err(|_| CommandError {
                command: command.to_string(),
                error: format!(
                    "{} ({} ms were left; [limits] wall_timeout_ms counts waits on Telegram, TDLib and HTTP)",
                    crate::engine::run::WALL_CUT,
                    left.as_millis()
                ),
                code: Some(504),
                hint: None,
            })
    }
}

impl Host {
    /// This host's bot, or why `command` has none.
    fn connected_bot(&self, command: &str) -> Result<&BotClient, CommandError> {
        self.bot.as_ref().ok_or_else(|| {
            CommandError::invalid(
                command,
                "no bot connected: set TELOXIDE_TOKEN (or use `tgscript run` without a token for the sandbox)",
            )
        })
    }

    /// Bot API `method` with `params`, through this host's bot.
    fn call_bot(&self, command: &str, method: &str, params: &Value) -> Result<Value, CommandError> {
        let bot = self.connected_bot(command)?;
        self.check_business(command, method, params)?;
        self.block_on(command, bot.call(method, params))?
            .map_err(|e| refusal(command, &e))
    }

    /// `request` sent by this host's outbound HTTP client.
    fn send_http(&self, command: &str, request: &HttpRequest) -> Result<Value, CommandError> {
        let client = self
            .http
            .as_ref()
            .ok_or_else(|| HttpError::Off.for_command(command))?;
        self.block_on(command, client.send(request))?
            .map_err(|e| e.for_command(command))
    }

    /// The file Telegram knows as `file_id`, through this host's bot, as an upload.
    fn download(&self, command: &str, file_id: &str) -> Result<Value, CommandError> {
        let bot = self.connected_bot(command)?;
        let downloads = &self.downloads;
        self.block_on(
            command,
            bot.download(file_id, downloads.cap, downloads.local_dir.as_deref()),
        )?
        .map(|file| file.to_json())
        .map_err(|e| match e {
            DownloadError::GetFile(e) => refusal(command, &e),
            other => CommandError {
                code: other.code(),
                ..CommandError::invalid(command, other.to_string())
            },
        })
    }

    /// Account `userbot_id` (the default when `None`), checked to exist.
    fn account_id(&self, command: &str, userbot_id: Option<i64>) -> Result<i64, CommandError> {
        let id = match userbot_id {
            Some(id) => id,
            None => self
                .accounts
                .default_id()
                .map_err(|e| CommandError::invalid(command, e.to_string()))?,
        };
        self.accounts
            .get(id)
            .map(|_| id)
            .map_err(|e| CommandError::invalid(command, e.to_string()))
    }

    /// `op` run on account `id`.
    fn call_account(&self, command: &str, id: i64, op: &AccountOp) -> Result<Value, CommandError> {
        let account = self
            .accounts
            .get(id)
            .map_err(|e| CommandError::invalid(command, e.to_string()))?;
        self.block_on(command, account.call(op.clone()))?
            .map_err(|e| td_refusal(command, e))
    }
}

impl Effects for Host {
    fn apply(&self, effect: &Effect<'_>) -> Result<Value, Refusal> {
        match effect {
            Effect::Bot {
                command,
                method,
                params,
            } => Ok(self.call_bot(command, method, params)?),
            Effect::AccountId {
                command,
                userbot_id,
            } => Ok(Value::from(self.account_id(command, *userbot_id)?)),
            Effect::Account { command, id, op } => Ok(self.call_account(command, *id, op)?),
            Effect::Http { command, request } => Ok(self.send_http(command, request)?),
            Effect::Download { command, file_id } => Ok(self.download(command, file_id)?),
            Effect::State(op) => Ok(self.store.apply(op, self.clock.now_ms())?),
            Effect::Now => Ok(Value::from(self.clock.now())),
        }
    }

    fn login(
        &self,
        command: &str,
        id: i64,
        step: Option<LoginStep>,
    ) -> Result<AuthState, CommandError> {
        let account = self
            .accounts
            .get(id)
            .map_err(|e| CommandError::invalid(command, e.to_string()))?;
        let current = account.authorization();
        let Some(step) = step else {
            return Ok(current);
        };
        if current.settled() && !step.fits(&current) {
            let next = current
                .next_action()
                .map(|next| format!(": {next} is the next step"))
                .unwrap_or_default();
            return Err(CommandError {
                command: command.to_string(),
                error: format!("account {id} is {}{next}", current.name()),
                code: Some(400),
                hint: None,
            });
        }
        self.block_on(command, account.login(step, self.login_timeout))?
            .map_err(|e| td_refusal(command, e))
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn caller(&self) -> Option<&Caller> {
        self.caller.as_ref()
    }
}

/// A TDLib failure as a command error: TDLib's message and code.
fn td_refusal(command: &str, e: crate::accounts::TdError) -> CommandError {
    CommandError {
        command: command.to_string(),
        error: e.message,
        code: Some(e.code),
        hint: None,
    }
}

/// A Bot API failure as a command error: Telegram's description, its code, and a hint.
pub fn refusal(command: &str, err: &BotError) -> CommandError {
    let error = err.to_string();
    CommandError {
        command: command.to_string(),
        hint: errors::hint(&error).map(str::to_string),
        code: err.code(),
        error,
    }
}
