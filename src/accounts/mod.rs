//! User accounts ("userbots"): one trait, two backends — the real TDLib ([`tdlib`]) and an
//! in-memory account that behaves like it ([`sandbox`]). Operations are typed; results and
//! errors are TDLib-shaped JSON, normalized once by the account commands.

pub mod auth;
pub mod events;
pub mod open;
pub mod raw;
pub mod remote;
pub mod sandbox;
pub mod tdjson;
pub mod tdlib;

pub use auth::{AuthState, LoginStep};
pub use events::{AccountEvent, EventHub, EventSink};

use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// A TDLib error: `{"@type": "error", "code": …, "message": …}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
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

/// Wait (up to `within`) until `account` has left [`AuthState::Starting`]; its state then.
pub async fn settled(account: &dyn Account, within: Duration) -> AuthState {
    let deadline = tokio::time::Instant::now() + within;
    let mut state = account.authorization();
    while !state.settled() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        state = account.authorization();
    }
    state
}

/// The id of the sandbox account scripts get when no account is configured.
pub const FALLBACK_ID: i64 = 1;

/// Why an account cannot be had or started.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// No account has this `userbot_id`.
    #[error("unknown userbot_id {0}")]
    UnknownId(i64),
    /// An account with this `userbot_id` exists already.
    #[error("account {0} exists already (remove_account it first)")]
    Exists(i64),
    /// No account is configured at all.
    #[error("no account configured: add an [[account]] to tgscript.toml")]
    NoAccount,
    /// Several accounts and no default among them.
    #[error("several accounts are configured: set default_account or use account(id)")]
    NoDefault,
    /// A TDLib client was asked for before libtdjson was loaded.
    #[error("libtdjson is not loaded")]
    TdjsonNotLoaded,
    /// An account's TDLib folder cannot be created.
    #[error("cannot create {path}: {error}")]
    DataDir {
        /// The folder.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The account is not the calling tenant's (whether or not it exists: nothing is said of
    /// other tenants' accounts).
    #[error(
        "account {id} is not one of tenant {tenant:?}'s accounts: give it `owner = \"{tenant}\"` in its [[account]] (or add_account with owner)"
    )]
    NotOwned {
        /// The account asked for.
        id: i64,
        /// The caller's tenant.
        tenant: String,
    },
    /// The tenant has no account to act on by default.
    #[error(
        "tenant {0:?} has no default account: give an [[account]] `owner = \"{0}\"` (one, or set default_account to one of them), or use account(id)"
    )]
    NoDefaultFor(String),
}

/// Which block list (`blockListMain` or `blockListStories`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// `confirmSession`: a new login is the owner's.
    ConfirmSession(i64),
    /// Any TDLib request, as JSON with `@type` (the `tdlib()` builtin).
    Raw(Value),
}

impl AccountOp {
    /// The operation as one line, from its fields (the TDLib function and its arguments): what
    /// the journal matches a replay on.
    pub fn describe(&self) -> String {
        use serde_json::json;
        let list = |l: &BlockList| l.type_name();
        let line = match self {
            AccountOp::GetActiveSessions => json!({"@type": "getActiveSessions"}),
            AccountOp::TerminateSession(id) => {
                json!({"@type": "terminateSession", "session_id": id})
            }
            AccountOp::ToggleSessionCanAcceptCalls(id, on) => {
                json!({"@type": "toggleSessionCanAcceptCalls", "session_id": id, "can_accept_calls": on})
            }
            AccountOp::ToggleSessionCanAcceptSecretChats(id, on) => json!({
                "@type": "toggleSessionCanAcceptSecretChats", "session_id": id, "can_accept_secret_chats": on
            }),
            AccountOp::TerminateAllOtherSessions => json!({"@type": "terminateAllOtherSessions"}),
            AccountOp::SetUserBlockList(user, block) => json!({
                "@type": "setMessageSenderBlockList", "user_id": user, "block_list": block.as_ref().map(list)
            }),
            AccountOp::GetBlockedMessageSenders(block, offset, limit) => json!({
                "@type": "getBlockedMessageSenders", "block_list": list(block), "offset": offset, "limit": limit
            }),
            AccountOp::GetPrivacyRules(setting) => {
                json!({"@type": "getUserPrivacySettingRules", "setting": setting})
            }
            AccountOp::SetPrivacyRules(setting, rules) => {
                json!({"@type": "setUserPrivacySettingRules", "setting": setting, "rules": rules})
            }
            AccountOp::GetNewChatPrivacySettings => json!({"@type": "getNewChatPrivacySettings"}),
            AccountOp::SetNewChatPrivacySettings(settings) => {
                json!({"@type": "setNewChatPrivacySettings", "settings": settings})
            }
            AccountOp::ConfirmSession(id) => {
                json!({"@type": "confirmSession", "session_id": id})
            }
            AccountOp::Raw(request) => request.clone(),
        };
        line.to_string()
    }
}

/// What the sandbox does to a simulated account in Telegram's place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Drive {
    /// A login from a new device at this place, waiting for confirmation.
    LoginFrom(String),
    /// The QR link the account shows, scanned in a logged-in app.
    ConfirmQr,
}

/// What [`Drive`] led to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Driven {
    /// The new session's id.
    Session(i64),
    /// The account's state after the QR link was confirmed.
    State(AuthState),
}

/// An account backend.
pub trait Account: Send + Sync {
    /// Run one operation; the result is TDLib-shaped JSON (`{"@type": "ok"}`, `sessions`, …).
    fn call(&self, op: AccountOp) -> BoxFuture<'_, Result<Value, TdError>>;
    /// A one-line state, e.g. `sandbox (ready)` or `tdlib: waiting for the phone number`.
    fn status(&self) -> String;
    /// `tdlib` or `sandbox`.
    fn backend(&self) -> &'static str;
    /// Where the account stands in logging in.
    fn authorization(&self) -> AuthState;
    /// Take one login step and return the state it led to; TDLib's refusal is the error, and
    /// no answer within `within` is a 504.
    fn login(&self, step: LoginStep, within: Duration)
    -> BoxFuture<'_, Result<AuthState, TdError>>;
    /// The simulated account, to drive what a real one would get from Telegram (a login
    /// from a new device, a QR link confirmed).
    fn as_sandbox(&self) -> Option<&sandbox::SandboxAccount> {
        None
    }
    /// Do what Telegram would to a simulated account (wherever it runs); any other account
    /// refuses with 400.
    fn drive(&self, act: Drive) -> BoxFuture<'_, Result<Driven, TdError>> {
        let result = match self.as_sandbox() {
            Some(sandbox) => sandbox.drive(act),
            None => Err(TdError::new(400, "not a sandbox account")),
        };
        Box::pin(async move { result })
    }
    /// Close the account (TDLib flushes its database); nothing to do for simulated ones.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

#[derive(Default)]
struct Registry {
    by_id: BTreeMap<i64, Arc<dyn Account>>,
    default: Option<i64>,
    /// Each account's owning tenant (none: unowned).
    owners: BTreeMap<i64, Arc<str>>,
    /// The tenants the process serves: unowned accounts are every scenario's while there is
    /// at most one.
    tenants: BTreeSet<Arc<str>>,
}

impl Registry {
    fn set_owner(&mut self, id: i64, owner: Option<&str>) {
        match owner {
            Some(owner) => self.owners.insert(id, owner.into()),
            None => self.owners.remove(&id),
        };
    }

    fn reachable(&self, id: i64, tenant: &str) -> bool {
        match self.owners.get(&id) {
            Some(owner) => &**owner == tenant,
            None => self.tenants.iter().all(|served| &**served == tenant),
        }
    }
}

/// The accounts of the process by `userbot_id`, the default one, and the hub their events
/// are published on. Clones share them: an account added through the gateway is seen by
/// every bot and script.
#[derive(Clone, Default)]
pub struct Accounts {
    registry: Arc<RwLock<Registry>>,
    hub: Arc<EventHub>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let registry = self.read();
        f.debug_struct("Accounts")
            .field("ids", &registry.by_id.keys().collect::<Vec<_>>())
            .field("default", &registry.default)
            .finish()
    }
}

impl Accounts {
    /// Accounts from a list; `default` names the one scenarios act on (the only one, when
    /// there is one and no default is given).
    pub fn new(accounts: Vec<(i64, Arc<dyn Account>)>, default: Option<i64>) -> Self {
        let this = Self::with_default(default);
        this.write().by_id = accounts.into_iter().collect();
        this
    }

    /// No accounts yet; `default` names the one scenarios act on.
    pub fn with_default(default: Option<i64>) -> Self {
        let this = Self::default();
        this.write().default = default;
        this
    }

    /// A single sandbox account with id [`FALLBACK_ID`], logged in (what the sandbox and the
    /// REPL use when no account is configured).
    pub fn sandbox_only() -> Self {
        let this = Self::with_default(Some(FALLBACK_ID));
        let account = sandbox::SandboxAccount::logged_in(this.sink(FALLBACK_ID));
        this.write().by_id.insert(FALLBACK_ID, Arc::new(account));
        this
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Where account `id` publishes its events.
    pub fn sink(&self, id: i64) -> EventSink {
        EventSink::new(self.hub.clone(), id)
    }

    /// The hub every account's events are published on.
    pub fn hub(&self) -> &Arc<EventHub> {
        &self.hub
    }

    /// Add `account` as `id`, owned by tenant `owner` (none: unowned); an id in use is
    /// refused.
    pub fn insert(
        &self,
        id: i64,
        account: Arc<dyn Account>,
        owner: Option<&str>,
    ) -> Result<(), AccountsError> {
        let mut registry = self.write();
        if registry.by_id.contains_key(&id) {
            return Err(AccountsError::Exists(id));
        }
        registry.by_id.insert(id, account);
        registry.set_owner(id, owner);
        Ok(())
    }

    /// Put `account` in as `id`, owned by `owner`, in place of the one there (returned).
    pub fn replace(
        &self,
        id: i64,
        account: Arc<dyn Account>,
        owner: Option<&str>,
    ) -> Option<Arc<dyn Account>> {
        let mut registry = self.write();
        registry.set_owner(id, owner);
        registry.by_id.insert(id, account)
    }

    /// Take account `id` out (its handle still works for whoever holds it).
    pub fn remove(&self, id: i64) -> Option<Arc<dyn Account>> {
        let mut registry = self.write();
        registry.owners.remove(&id);
        registry.by_id.remove(&id)
    }

    /// Note that the process serves `tenant` (a bot of it starts): once there are two,
    /// unowned accounts are no scenario's.
    pub fn serve_tenant(&self, tenant: &str) {
        let mut registry = self.write();
        if !registry.tenants.contains(tenant) {
            registry.tenants.insert(tenant.into());
        }
    }

    /// The tenant owning account `id`, if it has one.
    pub fn owner(&self, id: i64) -> Option<Arc<str>> {
        self.read().owners.get(&id).cloned()
    }

    /// Whether `tenant`'s scenarios may use account `id`: it is the tenant's, or it is
    /// unowned and the process serves no other tenant. Says nothing of whether it exists.
    pub fn reachable(&self, id: i64, tenant: &str) -> bool {
        self.read().reachable(id, tenant)
    }

    /// The account `tenant`'s scenarios act on by default: the configured default if it may
    /// use it, else the only account it may use.
    pub fn default_for(&self, tenant: &str) -> Result<i64, AccountsError> {
        let registry = self.read();
        if let Some(id) = registry
            .default
            .filter(|&id| registry.reachable(id, tenant))
        {
            return Ok(id);
        }
        let mut usable = registry
            .by_id
            .keys()
            .filter(|&&id| registry.reachable(id, tenant));
        match (usable.next(), usable.next()) {
            (Some(&id), None) => Ok(id),
            (Some(_), Some(_)) => Err(AccountsError::NoDefault),
            (None, _) => Err(AccountsError::NoDefaultFor(tenant.to_string())),
        }
    }

    /// The account `id`, or `unknown userbot_id <id>`.
    pub fn get(&self, id: i64) -> Result<Arc<dyn Account>, AccountsError> {
        self.read()
            .by_id
            .get(&id)
            .cloned()
            .ok_or(AccountsError::UnknownId(id))
    }

    /// The default account's id, or why there is none: the configured default, else the
    /// only account.
    pub fn default_id(&self) -> Result<i64, AccountsError> {
        let registry = self.read();
        let only = (registry.by_id.len() == 1)
            .then(|| registry.by_id.keys().next().copied())
            .flatten();
        registry
            .default
            .or(only)
            .ok_or(if registry.by_id.is_empty() {
                AccountsError::NoAccount
            } else {
                AccountsError::NoDefault
            })
    }

    /// Close every account, e.g. before the process exits.
    pub async fn close_all(&self) {
        let all: Vec<Arc<dyn Account>> = self.read().by_id.values().cloned().collect();
        for account in all {
            account.close().await;
        }
    }

    /// Every account id.
    pub fn ids(&self) -> Vec<i64> {
        self.read().by_id.keys().copied().collect()
    }
}
