//! The accounts of the configuration: libtdjson loaded where a `tdlib` account needs it, each
//! account started, the api_hash read from the variable the config names.

use crate::accounts::{Account, Accounts, AccountsError, sandbox, tdjson, tdlib};
use crate::config::{AccountConfig, Backend, Config, data_dir};
use std::sync::Arc;

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
    #[error("account {0}: api_id is required for a tdlib account")]
    NoApiId(i64),
    /// A `tdlib` account without `api_hash_env`.
    #[error(
        "account {0}: api_hash_env is required (the name of the variable holding the api_hash)"
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
) -> Result<Accounts, AccountConfigError> {
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
            return Err(AccountConfigError::Twice(account.id));
        }
        let started: Arc<dyn Account> = match account.backend {
            Backend::Sandbox => Arc::new(sandbox::SandboxAccount::new()),
            Backend::Tdlib => {
                load_tdjson(config)?;
                Arc::new(tdlib::TdlibAccount::start(
                    tdlib_settings(account, tdlib_timeout(config))?,
                    runtime,
                )?)
            }
        };
        list.push((account.id, started));
    }
    if let Some(id) = config.default_account
        && !list.iter().any(|(a, _)| *a == id)
    {
        return Err(AccountConfigError::NoSuchDefault(id));
    }
    Ok(Accounts::new(list, config.default_account))
}

/// How long TDLib requests wait: `[limits] tdlib_timeout_ms`.
pub fn tdlib_timeout(config: &Config) -> std::time::Duration {
    std::time::Duration::from_millis(config.limits.tdlib_timeout_ms)
}

/// The settings of a `tdlib` account; the api_hash is read from the variable the config names.
/// Its requests wait `request_timeout` for an answer.
pub fn tdlib_settings(
    account: &AccountConfig,
    request_timeout: std::time::Duration,
) -> Result<tdlib::TdlibSettings, AccountConfigError> {
    let id = account.id;
    let api_id = account.api_id.ok_or(AccountConfigError::NoApiId(id))?;
    let var = account
        .api_hash_env
        .as_deref()
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
            .unwrap_or_else(|| data_dir().join("accounts").join(id.to_string())),
        api_id,
        api_hash,
        phone: account.phone.clone(),
        request_timeout,
    })
}
