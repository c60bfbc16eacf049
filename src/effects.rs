//! The one interface between what scripts ask for and the world: Bot API calls, account
//! operations, outbound HTTP, script state and the clock, each one variant of [`Effect`].
//! Commands reach everything through [`Effects::apply`] (with a typed helper per effect on
//! `dyn Effects`); every layer is one `apply` that matches the variants it cares about: the
//! host serves each ([`crate::host::Host`]), the authority checks each
//! ([`crate::authority::Checked`]), the inbox's journal records each by its class
//! ([`crate::inbox::Journaled`]), and a script worker sends each over its pipe as it is.
//! Adding an effect is its variant here, its arm in the host, its class in the journal (and
//! its rule in the authority, which has no catch-all on purpose).

use crate::accounts::{AccountOp, Accounts, AuthState, LoginStep};
use crate::http::HttpRequest;
use crate::request::CommandError;
use crate::store::namespace_prefix;
use crate::store::{StateOp, StoreError};
use crate::telegram::upload::Upload;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// One effect a script can cause, as data: served in-process, checked, journaled, or sent
/// over a worker's pipe alike. `command` names the builtin or action an error is reported
/// for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Effect<'a> {
    /// Call Bot API `method` with `params`; answers its `result`.
    Bot {
        /// The builtin.
        command: Cow<'a, str>,
        /// The Bot API method.
        method: Cow<'a, str>,
        /// Its parameters.
        params: Cow<'a, Value>,
    },
    /// The id of account `userbot_id` (the default account when `None`), checked to exist;
    /// answers the id. No effect on the world: the journal passes it through.
    AccountId {
        /// The builtin.
        command: Cow<'a, str>,
        /// The account asked for.
        userbot_id: Option<i64>,
    },
    /// Run `op` on account `id` (TDLib-shaped JSON in and out).
    Account {
        /// The builtin.
        command: Cow<'a, str>,
        /// The account.
        id: i64,
        /// The operation.
        op: Cow<'a, AccountOp>,
    },
    /// Send an outbound HTTP `request` (`http_get`, `http_post`); answers `#{status,
    /// headers, body, json}`.
    Http {
        /// The builtin.
        command: Cow<'a, str>,
        /// The request.
        request: Cow<'a, HttpRequest>,
    },
    /// Download the file Telegram knows as `file_id` (Bot API `getFile`, then its bytes, at
    /// most the host's cap); answers it as an upload, `{"base64", "filename"}`.
    Download {
        /// The builtin.
        command: Cow<'a, str>,
        /// The file.
        file_id: Cow<'a, str>,
    },
    /// Read or change script state.
    State(Cow<'a, StateOp>),
    /// The clock: answers Unix seconds.
    Now,
}

impl Effect<'_> {
    /// The builtin or action an error of this effect is reported for.
    pub fn command(&self) -> &str {
        match self {
            Effect::Bot { command, .. }
            | Effect::AccountId { command, .. }
            | Effect::Account { command, .. }
            | Effect::Http { command, .. }
            | Effect::Download { command, .. } => command,
            Effect::State(_) => "state",
            Effect::Now => "now",
        }
    }
}

/// Why an effect was refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Refusal {
    /// A command error, as the builtin throws it.
    Command(CommandError),
    /// A state error, in the store's words.
    Store(String),
}

impl Refusal {
    /// The refusal as `command`'s error.
    pub fn for_command(self, command: &str) -> CommandError {
        match self {
            Refusal::Command(e) => e,
            Refusal::Store(e) => CommandError::invalid(command, e),
        }
    }

    /// The refusal as a state error.
    pub fn for_state(self) -> StoreError {
        match self {
            Refusal::Store(e) => StoreError::Remote(e),
            Refusal::Command(e) => StoreError::Remote(e.to_string()),
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Store(e.to_string())
    }
}

impl From<CommandError> for Refusal {
    fn from(e: CommandError) -> Self {
        Refusal::Command(e)
    }
}

/// What builtins and commands act through. Calls block the calling (script) thread until
/// they are answered.
pub trait Effects: Send + Sync {
    /// Apply `effect` and answer it.
    fn apply(&self, effect: &Effect<'_>) -> Result<Value, Refusal>;

    /// Take login `step` on account `userbot_id` (`None`: read where it stands) and return
    /// the state it led to. Not an [`Effect`]: only the host the gateway acts through logs
    /// accounts in; scripts never can (a worker has no way to ask).
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

    /// Who is calling, as the host fixed it (the bot's tenant and namespaces); `None` for
    /// the operator's own tools (exec, the REPL, the admin gateway), which reach every
    /// account and namespace.
    fn caller(&self) -> Option<&Caller> {
        None
    }

    /// The clock in Unix milliseconds, unjournaled (jobs are scheduled from it; the
    /// scheduling itself is journaled).
    fn now_ms(&self) -> i64 {
        self.apply(&Effect::Now)
            .ok()
            .and_then(|now| now.as_i64())
            .unwrap_or_default()
            .saturating_mul(1000)
    }
}

impl dyn Effects + '_ {
    /// Call Bot API `method` with `params` and return its `result`.
    pub fn bot(&self, command: &str, method: &str, params: &Value) -> Result<Value, CommandError> {
        self.apply(&Effect::Bot {
            command: command.into(),
            method: method.into(),
            params: Cow::Borrowed(params),
        })
        .map_err(|r| r.for_command(command))
    }

    /// The id of account `userbot_id` (the default account when `None`), checked to exist.
    pub fn account_id(&self, command: &str, userbot_id: Option<i64>) -> Result<i64, CommandError> {
        let id = self
            .apply(&Effect::AccountId {
                command: command.into(),
                userbot_id,
            })
            .map_err(|r| r.for_command(command))?;
        id.as_i64()
            .ok_or_else(|| CommandError::invalid(command, "the host sent no account id"))
    }

    /// Run `op` on account `userbot_id`.
    pub fn account(
        &self,
        command: &str,
        userbot_id: i64,
        op: &AccountOp,
    ) -> Result<Value, CommandError> {
        self.apply(&Effect::Account {
            command: command.into(),
            id: userbot_id,
            op: Cow::Borrowed(op),
        })
        .map_err(|r| r.for_command(command))
    }

    /// Send an outbound HTTP `request`.
    pub fn http(&self, command: &str, request: &HttpRequest) -> Result<Value, CommandError> {
        self.apply(&Effect::Http {
            command: command.into(),
            request: Cow::Borrowed(request),
        })
        .map_err(|r| r.for_command(command))
    }

    /// Download the file Telegram knows as `file_id`: its name and bytes.
    pub fn download(&self, command: &str, file_id: &str) -> Result<Upload, CommandError> {
        let answer = self
            .apply(&Effect::Download {
                command: command.into(),
                file_id: file_id.into(),
            })
            .map_err(|r| r.for_command(command))?;
        match Upload::from_json(&answer) {
            Ok(Some(file)) => Ok(file),
            _ => Err(CommandError::invalid(command, "the host sent no file")),
        }
    }

    /// Read or change script state.
    pub fn state(&self, op: &StateOp) -> Result<Value, StoreError> {
        self.apply(&Effect::State(Cow::Borrowed(op)))
            .map_err(Refusal::for_state)
    }

    /// The clock: Unix seconds.
    pub fn now(&self) -> i64 {
        self.apply(&Effect::Now)
            .ok()
            .and_then(|now| now.as_i64())
            .unwrap_or_default()
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
    fn apply(&self, effect: &Effect<'_>) -> Result<Value, Refusal> {
        match effect {
            Effect::Now => match &self.under {
                Some(under) => under.apply(effect),
                None => Ok(system_now().into()),
            },
            Effect::State(_) => Err(Refusal::Store(self.reason.into())),
            other => Err(CommandError::invalid(other.command(), self.reason).into()),
        }
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
