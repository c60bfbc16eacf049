//! The gateway's account admin actions over the accounts of a process (`serve` or `run`):
//! `add_account` starts an account and keeps its spec in the database (so it comes back at
//! the next start), `remove_account` stops it (logging out and deleting its TDLib data when
//! asked) and forgets it, `list_accounts` shows each with its authorization state. The
//! sandbox actions drive a sandbox account the way Telegram would.

use super::accounts::{self, Origin, default_data_dir};
use crate::accounts::{Accounts, AccountsError, LoginStep};
use crate::config::{AccountConfig, Backend, Config};
use crate::gateway::accounts::AccountControl;
use crate::request::{CommandError, Fields};
use crate::store::Store;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The account admin side of a process.
pub struct AccountAdmin {
    config: Config,
    accounts: Accounts,
    store: Arc<Store>,
    runtime: tokio::runtime::Handle,
    /// Held through an add or a remove: two of them never race on one id.
    changing: std::sync::Mutex<()>,
}

impl AccountAdmin {
    /// Admin over `app`'s accounts.
    pub fn new(app: &super::App) -> Self {
        Self {
            config: app.config().clone(),
            accounts: app.host().accounts().clone(),
            store: app.host().store().clone(),
            runtime: app.runtime.handle().clone(),
            changing: std::sync::Mutex::new(()),
        }
    }

    fn configured(&self, id: i64) -> bool {
        self.config.accounts.iter().any(|a| a.id == id)
    }

    fn add(&self, f: &Fields) -> Result<Value, CommandError> {
        let id = f.int("userbot_id")?;
        let backend = match f.opt_str("backend")?.unwrap_or("tdlib") {
            "tdlib" => Backend::Tdlib,
            "sandbox" => Backend::Sandbox,
            other => {
                return Err(f.error(format!(
                    "backend must be \"tdlib\" or \"sandbox\", not {other:?}"
                )));
            }
        };
        let api_id = match f.opt_int("api_id")? {
            None => None,
            Some(n) => Some(
                i32::try_from(n)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| f.error("api_id must be a positive 32-bit integer"))?,
            ),
        };
        let spec = AccountConfig {
            id,
            backend,
            api_id,
            api_hash_env: f.opt_str("api_hash_env")?.map(str::to_string),
            phone: f.opt_str("phone")?.map(str::to_string),
            data_dir: None,
        };
        let _one_at_a_time = self
            .changing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.accounts.get(id).is_ok() {
            return Err(f.error(AccountsError::Exists(id).to_string()));
        }
        let saved = serde_json::to_string(&spec).map_err(|e| f.error(e.to_string()))?;
        let started = accounts::start(
            &self.config,
            &spec,
            Origin::Added,
            &self.runtime,
            self.accounts.sink(id),
        )
        .map_err(|e| f.error(e.to_string()))?;
        let state = started.authorization();
        let kept = self
            .store
            .save_account(id, &saved)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                self.accounts
                    .insert(id, started.clone())
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = kept {
            // Nothing is left running of an account that was not kept.
            self.runtime.block_on(started.close());
            let _ = self.store.forget_account(id);
            return Err(f.error(e));
        }
        tracing::info!(
            "account {id} added through the gateway ({})",
            spec_backend(backend)
        );
        Ok(
            json!({"userbot_id": id, "backend": spec_backend(backend), "authorization_state": state.to_json()}),
        )
    }

    fn remove(&self, f: &Fields) -> Result<Value, CommandError> {
        let id = f.int("userbot_id")?;
        let log_out = f.opt_bool("log_out")?.unwrap_or(false);
        let delete_data = f.opt_bool("delete_data")?.unwrap_or(false);
        let _one_at_a_time = self
            .changing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.configured(id) {
            return Err(f.error(format!(
                "account {id} is in the config file: remove its [[account]] there"
            )));
        }
        let Some(account) = self.accounts.remove(id) else {
            // Kept but not running (it could not start): forgetting it is all there is to do.
            return match self.store.forget_account(id) {
                Ok(true) => Ok(
                    json!({"userbot_id": id, "removed": true, "logged_out": false, "data_deleted": false}),
                ),
                Ok(false) => Err(f.error(format!("unknown userbot_id {id}"))),
                Err(e) => Err(f.error(e.to_string())),
            };
        };
        let within = accounts::tdlib_timeout(&self.config);
        let logged_out = log_out
            && self
                .runtime
                .block_on(account.login(LoginStep::Logout, within))
                .is_ok();
        self.runtime.block_on(account.close());
        let mut data_deleted = false;
        if delete_data && account.backend() == "tdlib" {
            let dir = default_data_dir(id);
            data_deleted = std::fs::remove_dir_all(&dir).is_ok();
        }
        self.store
            .forget_account(id)
            .map_err(|e| f.error(e.to_string()))?;
        tracing::info!("account {id} removed through the gateway");
        Ok(
            json!({"userbot_id": id, "removed": true, "logged_out": logged_out, "data_deleted": data_deleted}),
        )
    }

    fn list(&self) -> Value {
        let default = self.accounts.default_id().ok();
        let saved: Vec<i64> = self
            .store
            .saved_accounts()
            .map(|rows| rows.into_iter().map(|(id, _)| id).collect())
            .unwrap_or_default();
        let origin = |id: i64| match (self.configured(id), saved.contains(&id)) {
            (true, _) => "config",
            (false, true) => "gateway",
            (false, false) => "sandbox",
        };
        let list: Vec<Value> = self
            .accounts
            .ids()
            .into_iter()
            .filter_map(|id| {
                let account = self.accounts.get(id).ok()?;
                Some(json!({
                    "userbot_id": id,
                    "backend": account.backend(),
                    "authorization_state": account.authorization().to_json(),
                    "default": default == Some(id),
                    "added_through": origin(id),
                }))
            })
            .collect();
        json!({"accounts": list})
    }

    fn sandbox(&self, f: &Fields, action: &str) -> Result<Value, CommandError> {
        let id = f.int("userbot_id")?;
        let account = self.accounts.get(id).map_err(|e| f.error(e.to_string()))?;
        let sandbox = account
            .as_sandbox()
            .ok_or_else(|| f.error(format!("account {id} is not a sandbox account")))?;
        if action == "sandbox_confirm_qr" {
            let state = sandbox.confirm_qr().map_err(|e| f.error(e.message))?;
            return Ok(json!({"userbot_id": id, "authorization_state": state.to_json()}));
        }
        let location = f.opt_str("location")?.unwrap_or("Berlin, Germany");
        let session = sandbox.login_from(location);
        Ok(json!({"userbot_id": id, "session_id": session, "location": location}))
    }
}

fn spec_backend(backend: Backend) -> &'static str {
    match backend {
        Backend::Tdlib => "tdlib",
        Backend::Sandbox => "sandbox",
    }
}

impl AccountControl for AccountAdmin {
    fn act(&self, action: &str, request: &Map<String, Value>) -> Result<Value, CommandError> {
        let mut fields = request.clone();
        for envelope in ["action", "request_id"] {
            fields.remove(envelope);
        }
        let f = Fields::new(action, &fields);
        match action {
            "add_account" => self.add(&f),
            "remove_account" => self.remove(&f),
            "list_accounts" => Ok(self.list()),
            "sandbox_login_from" | "sandbox_confirm_qr" => self.sandbox(&f, action),
            _ => Err(f.error(format!("unknown action '{action}'"))),
        }
    }
}
