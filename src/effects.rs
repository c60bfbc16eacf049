//! The one interface between what scripts ask for and the world: Bot API calls, account
//! operations, outbound HTTP, script state and the clock. Commands reach everything through [`Effects`];
//! cross-cutting layers wrap it once (the inbox's journal is one, see
//! [`crate::inbox::Journaled`]), the way teloxide's adaptors wrap a `Requester`. Everything
//! that crosses it is plain data, so it can be served in-process ([`crate::host::Host`]) or, later,
//! over a pipe to a script worker.

use crate::accounts::{AccountOp, Accounts, AuthState, LoginStep};
use crate::http::{HttpError, HttpRequest};
use crate::request::CommandError;
use crate::store::namespace_prefix;
use crate::store::{StateOp, StoreError};
use serde_json::Value;
use std::sync::Arc;

/// What builtins and commands act through. Calls block the calling (script) thread until
/// they are answered; `command` names the builtin or action an error is reported for.
pub trait Effects: Send + Sync {
    /// Call Bot API `method` with `params` and return its `result`.
    fn bot(&self, command: &str, method: &str, params: &Value) -> Result<Value, CommandError>;

    /// The id of account `userbot_id` (the default account when `None`), checked to exist.
    /// No effect: the journal passes it through.
    fn account_id(&self, command: &str, userbot_id: Option<i64>) -> Result<i64, CommandError>;

    /// Run `op` on account `userbot_id` (TDLib-shaped JSON in and out).
    fn account(
        &self,
        command: &str,
        userbot_id: i64,
        op: &AccountOp,
    ) -> Result<Value, CommandError>;

    /// Take login `step` on account `userbot_id` (`None`: read where it stands) and return
    /// the state it led to. Only the host the gateway acts through logs accounts in; scripts
    /// never can.
    fn login(
        &self,
        command: &str,
        _userbot_id: i64,
        _step: Option<LoginStep>,
    ) -> Result<AuthState, CommandError> {
        Err(CommandError::invalid(
            command,
            "accounts log in through the gateway's login actions or `tgscript account login`, not from scripts",
        ))
    }

    /// Send an outbound HTTP `request` (`http_get`, `http_post`) and answer
    /// `#{status, headers, body, json}`.
    fn http(&self, command: &str, _request: &HttpRequest) -> Result<Value, CommandError> {
        Err(HttpError::Off.for_command(command))
    }

    /// Read or change script state.
    fn state(&self, op: &StateOp) -> Result<Value, StoreError>;

    /// The clock: Unix seconds.
    fn now(&self) -> i64;

    /// Who is calling, as the host fixed it (the bot's tenant and namespaces); `None` for
    /// the operator's own tools (exec, the REPL, the admin gateway), which reach every
    /// account and namespace.
    fn caller(&self) -> Option<&Caller> {
        None
    }

    /// The clock in Unix milliseconds, unjournaled (jobs are scheduled from it; the
    /// scheduling itself is journaled).
    fn now_ms(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
}

/// Effects that act on nothing: every Bot API call, account operation and state access is
/// refused with `reason`; the clock and the caller are those of the effects it stands in for,
/// if any (a check on a tenant's behalf), else the system clock and no one (`check`, `docs`).
pub struct Nothing {
    /// Why nothing is done, the error every refused call carries.
    reason: &'static str,
    /// The effects whose clock and caller it keeps.
    under: Option<Arc<dyn Effects>>,
}

impl Nothing {
    /// Nothing done, for `reason`, with no caller.
    pub fn offline(reason: &'static str) -> Self {
        Self {
            reason,
            under: None,
        }
    }

    /// Nothing done, for `reason`, on behalf of the caller of `under`.
    pub fn under(reason: &'static str, under: Arc<dyn Effects>) -> Self {
        Self {
            reason,
            under: Some(under),
        }
    }
}

impl Effects for Nothing {
    fn bot(&self, command: &str, _: &str, _: &Value) -> Result<Value, CommandError> {
        Err(CommandError::invalid(command, self.reason))
    }

    fn account_id(&self, command: &str, _: Option<i64>) -> Result<i64, CommandError> {
        Err(CommandError::invalid(command, self.reason))
    }

    fn account(&self, command: &str, _: i64, _: &AccountOp) -> Result<Value, CommandError> {
        Err(CommandError::invalid(command, self.reason))
    }

    fn state(&self, _: &StateOp) -> Result<Value, StoreError> {
        Err(StoreError::Remote(self.reason.into()))
    }

    fn now(&self) -> i64 {
        self.under.as_ref().map_or_else(system_now, |u| u.now())
    }

    fn caller(&self) -> Option<&Caller> {
        self.under.as_ref().and_then(|u| u.caller())
    }
}

/// The system clock in Unix seconds (0 before 1970).
pub fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Who is calling: the scenarios of one bot of one tenant, or a gateway client of one
/// tenant (no bot: no state namespace is its).
#[derive(Clone)]
pub struct Caller {
    /// The bot (its id), if the caller is one's scenarios.
    bot: Option<Arc<str>>,
    /// What the bot's state namespaces begin with.
    prefix: Option<Arc<str>>,
    /// The tenant.
    tenant: Arc<str>,
    /// The hosts the tenant's outbound HTTP may reach, when `[[tenant]] http_allow` narrows
    /// `[http] allow` (`None`: it does not).
    http_allow: Option<Arc<[String]>>,
    /// Only accounts whose owner is the tenant (a gateway client's): an account without an
    /// owner is the operator's.
    owned_only: bool,
    /// The process's accounts, which know their owners.
    accounts: Accounts,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("bot", &self.bot)
            .field("tenant", &self.tenant)
            .finish()
    }
}

impl Caller {
    /// The scenarios of bot `bot` of `tenant`, whose accounts `accounts` knows.
    pub fn bot(bot: &str, tenant: &str, accounts: Accounts) -> Self {
        Self {
            bot: Some(bot.into()),
            prefix: Some(namespace_prefix(bot).into()),
            owned_only: false,
            ..Self::tenant(tenant, accounts)
        }
    }

    /// A gateway client of `tenant` (its token's), whose accounts `accounts` knows: it
    /// reaches the accounts the tenant owns, none without an owner.
    pub fn tenant(tenant: &str, accounts: Accounts) -> Self {
        Self {
            bot: None,
            prefix: None,
            tenant: tenant.into(),
            http_allow: None,
            owned_only: true,
            accounts,
        }
    }

    /// Whether it is a gateway client's (no bot of its own).
    pub fn is_client(&self) -> bool {
        self.bot.is_none()
    }

    /// The same caller, its outbound HTTP narrowed to `hosts` when given.
    pub fn with_http_allow(mut self, hosts: Option<Arc<[String]>>) -> Self {
        self.http_allow = hosts;
        self
    }

    /// The tenant.
    pub fn tenant_name(&self) -> &str {
        &self.tenant
    }

    /// The bot, if the caller is one's scenarios.
    pub fn bot_id(&self) -> Option<&str> {
        self.bot.as_deref()
    }

    /// The hosts the tenant's outbound HTTP may reach, when narrowed.
    pub fn http_allow(&self) -> Option<&[String]> {
        self.http_allow.as_deref()
    }

    /// Whether `namespace` is one of the bot's: its prefix, then a name with no `/` (a
    /// scenario's own, or the bot's shared one). A caller without a bot has none.
    pub fn owns_namespace(&self, namespace: &str) -> bool {
        self.prefix.as_deref().is_some_and(|prefix| {
            namespace
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.contains('/'))
        })
    }

    /// Whether the tenant's scenarios may use account `id` (and get its events).
    pub fn reaches(&self, id: i64) -> bool {
        match self.owned_only {
            true => self.accounts.owner(id).as_deref() == Some(&*self.tenant),
            false => self.accounts.reachable(id, &self.tenant),
        }
    }

    /// The account the tenant's scenarios act on by default.
    pub fn default_account(&self) -> Result<i64, crate::accounts::AccountsError> {
        self.accounts.default_for(&self.tenant)
    }
}
