//! The gateway's account admin actions over the accounts of a process (`serve` or `run`):
//! `add_account` starts an account and keeps its spec in the database (so it comes back at
//! the next start), `remove_account` stops it (logging out and deleting its TDLib data when
//! asked) and forgets it, `list_accounts` shows each with its authorization state. The
//! sandbox actions drive a sandbox account the way Telegram would. In a cluster an account is
//! kept in (or forgotten from) the shared store and every instance is told; the instance
//! that owns it opens (or closes) it. Each action's fields come checked from its entry in
//! [`super::actions`], for a client of tenant `scope` when given (then its accounts only;
//! an account added under it is the tenant's); called on a blocking thread.

use crate::accounts::open::{self as accounts, Origin, default_data_dir};
use crate::accounts::{Accounts, AccountsError, Drive, Driven, LoginStep, TdError};
use crate::cluster::Announcer;
use crate::config::{AccountConfig, Backend, Config};
use crate::host::Host;
use crate::request::{CommandError, Fields};
use crate::store::Store;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// In a cluster: how the instances learn that an account was added or removed, and how long
/// its owner may take to open or close it.
struct InCluster {
    announcer: Announcer,
    patience: Duration,
}

/// The account admin side of a process.
pub struct AccountAdmin {
    config: Config,
    accounts: Accounts,
    store: Arc<Store>,
    runtime: tokio::runtime::Handle,
    /// Held through an add or a remove: two of them never race on one id.
    changing: std::sync::Mutex<()>,
    cluster: Option<InCluster>,
}

impl AccountAdmin {
    /// Admin over `host`'s accounts, as `config` describes them, on `runtime`.
    pub fn new(config: &Config, host: &Host, runtime: tokio::runtime::Handle) -> Self {
        Self {
            config: config.clone(),
            accounts: host.accounts().clone(),
            store: host.store().clone(),
            runtime,
            changing: std::sync::Mutex::new(()),
            cluster: None,
        }
    }

    /// The same admin as one instance of a cluster: changes go through the shared store and
    /// `announcer`; an account's owner opens or closes it within `patience`.
    pub fn in_cluster(self, announcer: Announcer, patience: Duration) -> Self {
        Self {
            cluster: Some(InCluster {
                announcer,
                patience,
            }),
            ..self
        }
    }

    /// Wait (up to `within`) until `done` holds.
    fn wait_until(&self, within: Duration, done: impl Fn() -> bool) {
        self.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + within;
            while !done() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    }

    /// `add_account` in a cluster: the spec checked as its owner will check it, kept, every
    /// instance told; answered with the state its owner reports (within the patience).
    fn add_in_cluster(
        &self,
        f: &Fields,
        cluster: &InCluster,
        spec: &AccountConfig,
        saved: &str,
    ) -> Result<Value, CommandError> {
        let id = spec.id;
        if spec.backend == Backend::Tdlib {
            accounts::tdlib_settings(&self.config, spec, Duration::ZERO)
                .map_err(|e| f.error(e.to_string()))?;
        }
        self.store
            .save_account(id, saved)
            .map_err(|e| f.error(e.to_string()))?;
        self.runtime.block_on(cluster.announcer.accounts_changed());
        self.wait_until(cluster.patience, || self.accounts.get(id).is_ok());
        let state = match self.accounts.get(id) {
            Ok(account) => self
                .runtime
                .block_on(crate::accounts::settled(&*account, cluster.patience)),
            Err(_) => crate::accounts::AuthState::Starting,
        };
        tracing::info!(
            "account {id} added through the gateway ({}), for the cluster",
            spec.backend.name()
        );
        Ok(json!({
            "userbot_id": id,
            "backend": spec.backend.name(),
            "authorization_state": state.to_json(),
        }))
    }

    /// `remove_account` in a cluster: logged out through its owner when asked, forgotten in
    /// the store, every instance told (its owner closes it).
    fn remove_in_cluster(
        &self,
        f: &Fields,
        cluster: &InCluster,
        log_out: bool,
        delete_data: bool,
    ) -> Result<Value, CommandError> {
        let id = f.int("userbot_id")?;
        if delete_data {
            return Err(f.error(format!(
                "in a cluster an account's TDLib folder is the instances' shared one: remove account {id} without delete_data, then delete {} yourself",
                default_data_dir(id).display()
            )));
        }
        let logged_out = match (log_out, self.accounts.get(id)) {
            (true, Ok(account)) => {
                let within = accounts::tdlib_timeout(&self.config);
                self.runtime
                    .block_on(account.login(LoginStep::Logout, within))
                    .is_ok()
            }
            _ => false,
        };
        match self.store.forget_account(id) {
            Ok(true) => {}
            Ok(false) => return Err(f.error(format!("unknown userbot_id {id}"))),
            Err(e) => return Err(f.error(e.to_string())),
        }
        self.runtime.block_on(cluster.announcer.accounts_changed());
        self.wait_until(cluster.patience, || self.accounts.get(id).is_err());
        tracing::info!("account {id} removed through the gateway, from the cluster");
        Ok(
            json!({"userbot_id": id, "removed": true, "logged_out": logged_out, "data_deleted": false}),
        )
    }

    fn configured(&self, id: i64) -> bool {
        self.config.accounts.iter().any(|a| a.id == id)
    }

    /// The spec of account `id` as kept in the store, if it was added over the gateway.
    fn saved_spec(&self, id: i64) -> Option<AccountConfig> {
        let saved = self.store.saved_accounts().ok()?;
        let (_, spec) = saved.into_iter().find(|(kept, _)| *kept == id)?;
        serde_json::from_str(&spec).ok()
    }

    /// `add_account`: start the account `f` describes and keep it.
    pub fn add(&self, f: &Fields, scope: Option<&str>) -> Result<Value, CommandError> {
        let id = f.int("userbot_id")?;
        if scope.is_some() && f.opt_str("api_hash_env")?.is_some() {
            return Err(f.error(
                "api_hash_env is the operator's to set: a tenant's account uses [tdlib]'s credentials",
            ));
        }
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
            // A tenant's account keeps its TDLib files in a folder of the tenant's: an id
            // another tenant used before (and left its session in) opens nothing of it.
            data_dir: scope.map(|tenant| tenant_data_dir(tenant, id)),
            owner: match (f.opt_str("owner")?, scope) {
                (Some(owner), _) if !crate::config::valid_bot_id(owner) => {
                    return Err(f.error(format!(
                        "owner {owner:?} is not a tenant name: use 1–64 letters, digits, `_` or `-`"
                    )));
                }
                (Some(owner), Some(tenant)) if owner != tenant => {
                    return Err(CommandError {
                        code: Some(403),
                        ..f.error(format!(
                            "owner {owner:?}: a client of tenant {tenant:?} adds its own accounts only"
                        ))
                    });
                }
                (owner, scope) => owner.or(scope).map(str::to_string),
            },
        };
        let _one_at_a_time = self
            .changing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Running, in the config, or kept (one that could not start is still its owner's).
        if self.accounts.get(id).is_ok() || self.configured(id) || self.saved_spec(id).is_some() {
            return Err(f.error(AccountsError::Exists(id).to_string()));
        }
        let saved = serde_json::to_string(&spec).map_err(|e| f.error(e.to_string()))?;
        if let Some(cluster) = &self.cluster {
            return self.add_in_cluster(f, cluster, &spec, &saved);
        }
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
                    .insert(id, started.clone(), spec.owner.as_deref())
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
            backend.name()
        );
        Ok(
            json!({"userbot_id": id, "backend": backend.name(), "authorization_state": state.to_json()}),
        )
    }

    /// `remove_account`: stop account `userbot_id` and forget it.
    pub fn remove(&self, f: &Fields, scope: Option<&str>) -> Result<Value, CommandError> {
        let id = f.int("userbot_id")?;
        let owner = self
            .accounts
            .owner(id)
            .map(|o| o.to_string())
            .or_else(|| self.saved_spec(id).and_then(|spec| spec.owner));
        if let Some(tenant) = scope
            && owner.as_deref() != Some(tenant)
        {
            return Err(CommandError {
                code: Some(403),
                ..f.error(
                    AccountsError::NotOwned {
                        id,
                        tenant: tenant.to_string(),
                    }
                    .to_string(),
                )
            });
        }
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
        if let Some(cluster) = &self.cluster {
            return self.remove_in_cluster(f, cluster, log_out, delete_data);
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
            let dir = self
                .saved_spec(id)
                .and_then(|spec| spec.data_dir)
                .unwrap_or_else(|| default_data_dir(id));
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

    /// `list_accounts`: every account with its authorization state.
    pub fn list(&self, scope: Option<&str>) -> Value {
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
            .filter(|id| {
                scope.is_none_or(|tenant| self.accounts.owner(*id).as_deref() == Some(tenant))
            })
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

    /// The sandbox's stand-ins for Telegram: `act` done to sandbox account `userbot_id`.
    pub fn drive(&self, f: &Fields, act: Drive) -> Result<Value, CommandError> {
        let id = f.int("userbot_id")?;
        let account = self.accounts.get(id).map_err(|e| f.error(e.to_string()))?;
        let location = match &act {
            Drive::LoginFrom(location) => Some(location.clone()),
            Drive::ConfirmQr => None,
        };
        let refused = |e: TdError| match e.code {
            400 => f.error(format!("account {id}: {}", e.message)),
            code => CommandError {
                code: Some(code),
                ..f.error(format!("account {id}: {}", e.message))
            },
        };
        match self.runtime.block_on(account.drive(act)).map_err(refused)? {
            Driven::State(state) => {
                Ok(json!({"userbot_id": id, "authorization_state": state.to_json()}))
            }
            Driven::Session(session) => {
                Ok(json!({"userbot_id": id, "session_id": session, "location": location}))
            }
        }
    }
}

/// Where the TDLib files of account `id` added by a client of `tenant` are kept.
fn tenant_data_dir(tenant: &str, id: i64) -> std::path::PathBuf {
    crate::config::data_dir()
        .join("accounts")
        .join("tenants")
        .join(tenant)
        .join(id.to_string())
}
