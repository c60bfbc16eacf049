//! The host as the only authority over what a script may touch. Who is calling — the bot, its
//! tenant, the state namespaces and accounts that are theirs — is fixed by the host for each
//! call ([`Caller`], from the bot's [`crate::host::Host`]) and never read from a worker's
//! frame or a client's word. Every effect a script asks for, inline or from a worker process,
//! passes [`Checked`] first, so a builtin's own checks are a courtesy (an early, precise
//! error) and this is the rule: state only in the bot's namespaces, accounts only the
//! tenant's, no Bot API method that takes the bot over, raw TDLib only by allowed name.

use crate::accounts::{AccountOp, Accounts, AccountsError};
use crate::effects::Effects;
use crate::http::HttpRequest;
use crate::request::CommandError;
use crate::store::{StateOp, StoreError, namespace_prefix};
use serde_json::Value;
use std::sync::Arc;

/// Who is calling: the scenarios of one bot of one tenant.
#[derive(Clone)]
pub struct Caller {
    /// The bot (its id).
    bot: Arc<str>,
    /// What the bot's state namespaces begin with.
    prefix: Arc<str>,
    /// The tenant the bot belongs to.
    tenant: Arc<str>,
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
            bot: bot.into(),
            prefix: namespace_prefix(bot).into(),
            tenant: tenant.into(),
            accounts,
        }
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The bot.
    pub fn bot_id(&self) -> &str {
        &self.bot
    }

    /// Whether `namespace` is one of the bot's: its prefix, then a name with no `/` (a
    /// scenario's own, or the bot's shared one).
    pub fn owns_namespace(&self, namespace: &str) -> bool {
        namespace
            .strip_prefix(&*self.prefix)
            .is_some_and(|rest| !rest.contains('/'))
    }

    /// Whether the tenant's scenarios may use account `id` (and get its events).
    pub fn reaches(&self, id: i64) -> bool {
        self.accounts.reachable(id, &self.tenant)
    }

    /// Account `id`, if the tenant's scenarios may use it.
    fn account(&self, command: &str, id: i64) -> Result<i64, CommandError> {
        match self.reaches(id) {
            true => Ok(id),
            false => Err(refused(
                command,
                AccountsError::NotOwned {
                    id,
                    tenant: self.tenant.to_string(),
                }
                .to_string(),
            )),
        }
    }

    /// Why `op` is refused to the bot, if it is.
    fn state_refusal(&self, op: &StateOp) -> Option<String> {
        let namespace = match op {
            StateOp::Get { namespace, .. }
            | StateOp::Set { namespace, .. }
            | StateOp::Delete { namespace, .. } => namespace.as_str(),
            StateOp::Job(job) => job.namespace(),
        };
        (!self.owns_namespace(namespace)).then(|| {
            format!(
                "state namespace {namespace:?} is not bot {:?}'s: a scenario keeps state and jobs in its own bot's namespaces only",
                self.bot
            )
        })
    }
}

/// A 403 refusal of `command`.
fn refused(command: &str, why: String) -> CommandError {
    CommandError {
        command: command.to_string(),
        error: why,
        code: Some(403),
        hint: None,
    }
}

/// `inner`'s effects, each checked against the caller `inner` names before it is journaled
/// or performed (the operator's tools, with no caller, are held to the rules every caller
/// is: no takeover method, no raw TDLib request outside the allowed ones).
pub struct Checked {
    inner: Arc<dyn Effects>,
}

impl Checked {
    /// `inner`, checked.
    pub fn around(inner: Arc<dyn Effects>) -> Arc<dyn Effects> {
        Arc::new(Self { inner })
    }
}

impl Effects for Checked {
    fn bot(&self, command: &str, method: &str, params: &Value) -> Result<Value, CommandError> {
        if let Some(why) = crate::telegram::takeover(method) {
            return Err(refused(command, format!("{method} is refused: {why}")));
        }
        self.inner.bot(command, method, params)
    }

    fn account_id(&self, command: &str, userbot_id: Option<i64>) -> Result<i64, CommandError> {
        let Some(caller) = self.inner.caller() else {
            return self.inner.account_id(command, userbot_id);
        };
        let id = match userbot_id {
            Some(id) => caller.account(command, id)?,
            None => caller
                .accounts
                .default_for(&caller.tenant)
                .map_err(|e| CommandError::invalid(command, e.to_string()))?,
        };
        self.inner.account_id(command, Some(id))
    }

    fn account(&self, command: &str, id: i64, op: &AccountOp) -> Result<Value, CommandError> {
        if let Some(caller) = self.inner.caller() {
            caller.account(command, id)?;
        }
        if let AccountOp::Raw(request) = op {
            let kind = request.get("@type").and_then(Value::as_str).unwrap_or("");
            crate::commands::account::raw_allowed(kind).map_err(|why| refused(command, why))?;
        }
        self.inner.account(command, id, op)
    }

    fn http(&self, command: &str, request: &HttpRequest) -> Result<Value, CommandError> {
        self.inner.http(command, request)
    }

    fn state(&self, op: &StateOp) -> Result<Value, StoreError> {
        if let Some(why) = self.inner.caller().and_then(|c| c.state_refusal(op)) {
            return Err(StoreError::Remote(why));
        }
        self.inner.state(op)
    }

    fn now(&self) -> i64 {
        self.inner.now()
    }

    fn now_ms(&self) -> i64 {
        self.inner.now_ms()
    }

    fn caller(&self) -> Option<&Caller> {
        self.inner.caller()
    }
}
