//! User accounts ("userbots"): one trait, two backends — the real TDLib ([`tdlib`]) and an
//! in-memory account that behaves like it ([`sandbox`]). Operations are typed; results and
//! errors are TDLib-shaped JSON, normalized once in [`crate::commands::account`].

pub mod sandbox;
pub mod tdjson;
pub mod tdlib;

use crate::config::{AccountConfig, Backend, Config, data_dir};
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A TDLib error: `{"@type": "error", "code": …, "message": …}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TdError {
    /// TDLib's code (400, 401, 404, 429, …).
    pub code: i64,
    /// TDLib's message, e.g. `Unauthorized`.
    pub message: String,
}

impl TdError {
    /// An error with TDLib's code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Which block list (`blockListMain` or `blockListStories`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockList {
    /// `blockListMain`: messages and calls.
    Main,
    /// `blockListStories`: stories only.
    Stories,
}

impl BlockList {
    /// The TDLib type name.
    pub fn type_name(self) -> &'static str {
        match self {
            BlockList::Main => "blockListMain",
            BlockList::Stories => "blockListStories",
        }
    }
}

/// One operation on an account: the TDLib functions the seed commands use.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountOp {
    /// `getActiveSessions`
    GetActiveSessions,
    /// `terminateSession`
    TerminateSession(i64),
    /// `toggleSessionCanAcceptCalls`
    ToggleSessionCanAcceptCalls(i64, bool),
    /// `toggleSessionCanAcceptSecretChats`
    ToggleSessionCanAcceptSecretChats(i64, bool),
    /// `terminateAllOtherSessions`
    TerminateAllOtherSessions,
    /// `setMessageSenderBlockList` for a user (`None` unblocks).
    SetUserBlockList(i64, Option<BlockList>),
    /// `getBlockedMessageSenders`
    GetBlockedMessageSenders(BlockList, i32, i32),
    /// `getUserPrivacySettingRules` (setting type name)
    GetPrivacyRules(String),
    /// `setUserPrivacySettingRules` (setting type name, `userPrivacySettingRules` JSON)
    SetPrivacyRules(String, Value),
    /// `getNewChatPrivacySettings`
    GetNewChatPrivacySettings,
    /// `setNewChatPrivacySettings` (`newChatPrivacySettings` JSON)
    SetNewChatPrivacySettings(Value),
    /// Any TDLib request, as JSON with `@type` (the `tdlib()` builtin).
    Raw(Value),
}

/// An account backend.
pub trait Account: Send + Sync {
    /// Run one operation; the result is TDLib-shaped JSON (`{"@type": "ok"}`, `sessions`, …).
    fn call(&self, op: AccountOp) -> BoxFuture<'_, Result<Value, TdError>>;
    /// A one-line state, e.g. `sandbox (ready)` or `tdlib: waiting for the phone number`.
    fn status(&self) -> String;
    /// Close the account (TDLib flushes its database); nothing to do for simulated ones.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The configured accounts by `userbot_id`, and the default one.
#[derive(Clone, Default)]
pub struct Accounts {
    by_id: BTreeMap<i64, Arc<dyn Account>>,
    default: Option<i64>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("ids", &self.by_id.keys().collect::<Vec<_>>())
            .field("default", &self.default)
            .finish()
    }
}

impl Accounts {
    /// Accounts from a list; `default` names the one scenarios act on (the only one, when
    /// there is one and no default is given).
    pub fn new(accounts: Vec<(i64, Arc<dyn Account>)>, default: Option<i64>) -> Self {
        let by_id: BTreeMap<i64, Arc<dyn Account>> = accounts.into_iter().collect();
        let default = default.or_else(|| {
            if by_id.len() == 1 {
                by_id.keys().next().copied()
            } else {
                None
            }
        });
        Self { by_id, default }
    }

    /// A single sandbox account with id 1 (what the sandbox and the REPL use when no account
    /// is configured).
    pub fn sandbox_only() -> Self {
        Self::new(
            vec![(
                1,
                Arc::new(sandbox::SandboxAccount::new()) as Arc<dyn Account>,
            )],
            Some(1),
        )
    }

    /// The account `id`, or `unknown userbot_id <id>`.
    pub fn get(&self, id: i64) -> Result<Arc<dyn Account>, String> {
        self.by_id
            .get(&id)
            .cloned()
            .ok_or_else(|| format!("unknown userbot_id {id}"))
    }

    /// The default account's id, or why there is none.
    pub fn default_id(&self) -> Result<i64, String> {
        self.default.ok_or_else(|| {
            if self.by_id.is_empty() {
                "no account configured: add an [[account]] to tgscript.toml".to_string()
            } else {
                "several accounts are configured: set default_account or use account(id)"
                    .to_string()
            }
        })
    }

    /// Close every account, e.g. before the process exits.
    pub async fn close_all(&self) {
        for account in self.by_id.values() {
            account.close().await;
        }
    }

    /// Every account id.
    pub fn ids(&self) -> Vec<i64> {
        self.by_id.keys().copied().collect()
    }
}

/// Load libtdjson as configured (for `tdlib` accounts and `tgscript tdlib`).
pub fn load_tdjson(config: &Config) -> Result<&'static tdjson::Library, tdjson::TdjsonError> {
    let dir = data_dir();
    tdjson::load(
        &tdjson::candidates(config.tdlib_path.as_deref(), &dir),
        &dir.join("tdlib.log"),
    )
}

/// Start the accounts of `config` (TDLib clients on `runtime`). With none configured and
/// `sandbox_fallback`, a sandbox account with id 1.
pub fn from_config(
    config: &Config,
    runtime: &tokio::runtime::Handle,
    sandbox_fallback: bool,
) -> Result<Accounts, String> {
    if config.accounts.is_empty() {
        return Ok(if sandbox_fallback {
            Accounts::sandbox_only()
        } else {
            Accounts::default()
        });
    }
    let mut list: Vec<(i64, Arc<dyn Account>)> = Vec::new();
    for account in &config.accounts {
        if list.iter().any(|(id, _)| *id == account.id) {
            return Err(format!("account {} is configured twice", account.id));
        }
        let started: Arc<dyn Account> = match account.backend {
            Backend::Sandbox => Arc::new(sandbox::SandboxAccount::new()),
            Backend::Tdlib => {
                load_tdjson(config).map_err(|e| e.to_string())?;
                Arc::new(tdlib::TdlibAccount::start(
                    tdlib_settings(account)?,
                    runtime,
                )?)
            }
        };
        list.push((account.id, started));
    }
    if let Some(id) = config.default_account
        && !list.iter().any(|(a, _)| *a == id)
    {
        return Err(format!(
            "default_account = {id}, but no [[account]] has id {id}"
        ));
    }
    Ok(Accounts::new(list, config.default_account))
}

/// The settings of a `tdlib` account; the api_hash is read from the variable the config names.
pub fn tdlib_settings(account: &AccountConfig) -> Result<tdlib::TdlibSettings, String> {
    let id = account.id;
    let api_id = account
        .api_id
        .ok_or_else(|| format!("account {id}: api_id is required for a tdlib account"))?;
    let var = account.api_hash_env.as_deref().ok_or_else(|| {
        format!(
            "account {id}: api_hash_env is required (the name of the variable holding the api_hash)"
        )
    })?;
    let api_hash = std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            format!("account {id}: the environment variable {var} (api_hash_env) is not set")
        })?;
    crate::logging::add_secret(&api_hash);
    Ok(tdlib::TdlibSettings {
        id,
        data_dir: account
            .data_dir
            .clone()
            .unwrap_or_else(|| data_dir().join("accounts").join(id.to_string())),
        api_id,
        api_hash,
        phone: account.phone.clone(),
    })
}
