//! The accounts of a process: those of `[[account]]` and those `add_account` kept in the
//! database, each started (libtdjson loaded where a `tdlib` account needs it, the api_hash
//! read from the variable named), and a warning for each that is not logged in.

use crate::accounts::{
    Account, Accounts, AccountsError, EventSink, FALLBACK_ID, sandbox, tdjson, tdlib,
};
use crate::config::{AccountConfig, Backend, Config, data_dir};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Why the configured accounts cannot be started.
#[derive(Debug, thiserror::Error)]
pub enum AccountConfigError {
    /// Two `[[account]]` entries share an id.
    #[error("account {0} is configured twice")]
    Twice(i64),
    /// `default_account` names no configured account.
    #[error("default_account = {0}, but no [[account]] has id {0}")]
    NoSuchDefault(i64),
    /// A `tdlib` account without `api_id`.
    #[error("account {0}: api_id is required for a tdlib account (or set [tdlib] api_id)")]
    NoApiId(i64),
    /// A `tdlib` account without `api_hash_env`.
    #[error(
        "account {0}: api_hash_env is required (the name of the variable holding the api_hash; or set [tdlib] api_hash_env)"
    )]
    NoApiHashEnv(i64),
    /// The variable `api_hash_env` names is unset or empty.
    #[error("account {id}: the environment variable {var} (api_hash_env) is not set")]
    ApiHashUnset {
        /// The account.
        id: i64,
        /// The variable.
        var: String,
    },
    /// libtdjson cannot be loaded.
    #[error(transparent)]
    Tdjson(#[from] tdjson::TdjsonError),
    /// A client cannot be started.
    #[error(transparent)]
    Start(#[from] AccountsError),
    /// The accounts kept in the database cannot be read.
    #[error("accounts kept in the database: {0}")]
    Saved(String),
}

/// Where an account comes from: a configured sandbox account starts logged in, one added
/// through the gateway starts where a new TDLib account does (waiting for the phone number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `[[account]]` in the config file.
    Configured,
    /// `add_account`, kept in the database.
    Added,
}

/// Load libtdjson as configured (for `tdlib` accounts and `tgscript tdlib`).
pub fn load_tdjson(config: &Config) -> Result<&'static tdjson::Library, tdjson::TdjsonError> {
    let dir = data_dir();
    tdjson::load(
        &tdjson::candidates(config.tdlib_path.as_deref(), &dir),
        &dir.join("tdlib.log"),
    )
}

/// Start the accounts of `config` and those kept in `store` (TDLib clients on `runtime`).
/// With none at all and `sandbox_fallback`, a sandbox account with id 1.
pub fn from_config(
    config: &Config,
    runtime: &tokio::runtime::Handle,
    sandbox_fallback: bool,
    store: &Store,
) -> Result<Accounts, AccountConfigError> {
    let saved = saved(store)?;
    let accounts = match config.accounts.is_empty() && sandbox_fallback {
        true if !saved.iter().any(|a| a.id == FALLBACK_ID) => Accounts::sandbox_only(),
        _ => Accounts::with_default(config.default_account),
    };
    for account in &config.accounts {
        if accounts.get(account.id).is_ok() {
            return Err(AccountConfigError::Twice(account.id));
        }
        let started = start(
            config,
            account,
            Origin::Configured,
            runtime,
            accounts.sink(account.id),
        )?;
        accounts.insert(account.id, started, account.owner.as_deref())?;
    }
    if let Some(id) = config.default_account
        && accounts.get(id).is_err()
    {
        return Err(AccountConfigError::NoSuchDefault(id));
    }
    for account in saved {
        if accounts.get(account.id).is_ok() {
            tracing::warn!(
                "account {}: added through the gateway and now in the config file too; the config file's is used",
                account.id
            );
            continue;
        }
        match start(
            config,
            &account,
            Origin::Added,
            runtime,
            accounts.sink(account.id),
        ) {
            Ok(started) => accounts.insert(account.id, started, account.owner.as_deref())?,
            Err(e) => tracing::error!(
                "account {} (added through the gateway) cannot start: {e}",
                account.id
            ),
        }
    }
    Ok(accounts)
}

/// Say, for a command that is not an instance of `config`'s cluster (if it has one), that
/// it opens the accounts outside it.
pub fn warn_outside_cluster(config: &Config) {
    if config.cluster.nats_url.is_some() {
        tracing::warn!(
            "this command does not join the cluster of [cluster] nats_url: it opens the [[account]]s here, \
             outside it (TDLib refuses a folder an instance has open); `tgscript run` is an instance"
        );
    }
}

/// The accounts of `config` for an instance of a cluster: checked, none started (each starts
/// on the instance that comes to own it, and the others reach it there).
pub fn for_cluster(config: &Config) -> Result<Accounts, AccountConfigError> {
    let mut ids = std::collections::BTreeSet::new();
    for account in &config.accounts {
        if !ids.insert(account.id) {
            return Err(AccountConfigError::Twice(account.id));
        }
    }
    match config.default_account {
        Some(id) if !ids.contains(&id) => Err(AccountConfigError::NoSuchDefault(id)),
        default => Ok(Accounts::with_default(default)),
    }
}

/// The accounts `add_account` kept; one that cannot be read back is logged and left out.
pub fn saved(store: &Store) -> Result<Vec<AccountConfig>, AccountConfigError> {
    let rows = store
        .saved_accounts()
        .map_err(|e| AccountConfigError::Saved(e.to_string()))?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, spec)| match serde_json::from_str(&spec) {
            Ok(account) => Some(account),
            Err(e) => {
                tracing::error!(
                    "account {id} (added through the gateway) cannot be read back ({e}): not started; remove_account it and add it again"
                );
                None
            }
        })
        .collect())
}

/// Start one account, publishing its events to `events`.
pub fn start(
    config: &Config,
    account: &AccountConfig,
    origin: Origin,
    runtime: &tokio::runtime::Handle,
    events: EventSink,
) -> Result<Arc<dyn Account>, AccountConfigError> {
    Ok(match (account.backend, origin) {
        (Backend::Sandbox, Origin::Configured) => {
            Arc::new(sandbox::SandboxAccount::logged_in(events))
        }
        (Backend::Sandbox, Origin::Added) => Arc::new(sandbox::SandboxAccount::logged_out(
            events,
            account.phone.clone(),
        )),
        (Backend::Tdlib, _) => {
            let settings = tdlib_settings(config, account, tdlib_timeout(config))?;
            load_tdjson(config)?;
            Arc::new(tdlib::TdlibAccount::start(settings, runtime, events)?)
        }
    })
}

/// How long a starting account is waited for before its state is reported.
pub const SETTLE: Duration = Duration::from_secs(30);

/// The spec of account `id`: its `[[account]]`, else what `add_account` kept.
pub fn spec(
    config: &Config,
    store: &Store,
    id: i64,
) -> Result<Option<(AccountConfig, Origin)>, AccountConfigError> {
    if let Some(account) = config.accounts.iter().find(|a| a.id == id) {
        return Ok(Some((account.clone(), Origin::Configured)));
    }
    Ok(saved(store)?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| (a, Origin::Added)))
}

/// How long TDLib requests wait: `[limits] tdlib_timeout_ms`.
pub fn tdlib_timeout(config: &Config) -> Duration {
    Duration::from_millis(config.limits.tdlib_timeout_ms)
}

/// The settings of a `tdlib` account (what it leaves out from `[tdlib]`); the api_hash is
/// read from the variable named. Its requests wait `request_timeout` for an answer.
pub fn tdlib_settings(
    config: &Config,
    account: &AccountConfig,
    request_timeout: Duration,
) -> Result<tdlib::TdlibSettings, AccountConfigError> {
    let id = account.id;
    let api_id = account
        .api_id
        .or(config.tdlib.api_id)
        .ok_or(AccountConfigError::NoApiId(id))?;
    let var = account
        .api_hash_env
        .as_deref()
        .or(config.tdlib.api_hash_env.as_deref())
        .ok_or(AccountConfigError::NoApiHashEnv(id))?;
    let api_hash = std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AccountConfigError::ApiHashUnset {
            id,
            var: var.to_string(),
        })?;
    crate::logging::add_secret(&api_hash);
    Ok(tdlib::TdlibSettings {
        id,
        data_dir: account
            .data_dir
            .clone()
            .unwrap_or_else(|| default_data_dir(id)),
        api_id,
        api_hash,
        phone: account.phone.clone(),
        request_timeout,
    })
}

/// Where account `id`'s TDLib database is unless its entry names a folder.
pub fn default_data_dir(id: i64) -> std::path::PathBuf {
    data_dir().join("accounts").join(id.to_string())
}

/// Once each account has started (up to 30 s), warn for every one that is not logged in,
/// with how to log it in.
pub async fn warn_not_logged_in(accounts: Accounts) {
    for id in accounts.ids() {
        if let Ok(account) = accounts.get(id) {
            warn_unless_logged_in(id, account).await;
        }
    }
}

/// Warn (once it has started) if account `id` is not logged in.
pub async fn warn_unless_logged_in(id: i64, account: Arc<dyn Account>) {
    let state = crate::accounts::settled(&*account, SETTLE).await;
    if state.next_action().is_some() || !state.settled() {
        tracing::warn!(
            "account {id} is not logged in ({}): log it in with `tgscript account login {id}` or the gateway's login_start",
            state.describe()
        );
    }
}
