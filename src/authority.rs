//! The host as the only authority over what a script may touch. Who is calling — the bot, its
//! tenant, the state namespaces and accounts that are theirs — is fixed by the host for each
//! call ([`Caller`], from the bot's [`crate::host::Host`]) and never read from a worker's
//! frame or a client's word. Every effect a script asks for, inline or from a worker process,
//! passes [`Checked`] first, so a builtin's own checks are a courtesy (an early, precise
//! error) and this is the rule: state only in the bot's namespaces, accounts only the
//! tenant's, no Bot API method that takes the bot over, raw TDLib only by allowed name.

use crate::accounts::{AccountOp, AccountsError};
use crate::effects::{Caller, Effect, Effects, Refusal};
use crate::request::CommandError;
use crate::store::StateOp;
use serde_json::Value;
use std::sync::Arc;

/// Account `id`, if `caller`'s tenant may use it.
fn owned(caller: &Caller, command: &str, id: i64) -> Result<i64, CommandError> {
    match caller.reaches(id) {
        true => Ok(id),
        false => Err(refused(
            command,
            AccountsError::NotOwned {
                id,
                tenant: caller.tenant_name().to_string(),
            }
            .to_string(),
        )),
    }
}

/// Why `op` is refused to `caller`'s bot, if it is.
fn state_refusal(caller: &Caller, op: &StateOp) -> Option<String> {
    let namespace = match op {
        StateOp::Get { namespace, .. }
        | StateOp::Set { namespace, .. }
        | StateOp::Delete { namespace, .. } => namespace.as_str(),
        StateOp::Job(job) => job.namespace(),
    };
    (!caller.owns_namespace(namespace)).then(|| {
        format!(
            "state namespace {namespace:?} is not bot {:?}'s: a scenario keeps state and jobs in its own bot's namespaces only",
            caller.bot_id().unwrap_or("(none: a gateway client)")
        )
    })
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
    /// Who calls, when not `inner`'s caller: a gateway client of one tenant.
    client: Option<Caller>,
}

impl Checked {
    /// `inner`, checked.
    pub fn around(inner: Arc<dyn Effects>) -> Arc<dyn Effects> {
        Arc::new(Self {
            inner,
            client: None,
        })
    }

    /// `inner` (the operator's effects), checked as `caller`'s: a gateway client of one
    /// tenant reaches what its scenarios would.
    pub fn as_client(inner: Arc<dyn Effects>, caller: Caller) -> Arc<dyn Effects> {
        Arc::new(Self {
            inner,
            client: Some(caller),
        })
    }

    /// Who calls.
    fn who(&self) -> Option<&Caller> {
        self.client.as_ref().or_else(|| self.inner.caller())
    }

    /// Refused when the caller is a gateway client: the effects it acts through carry the
    /// operator's bot, not one of the tenant's.
    fn bot_of_caller(&self, command: &str) -> Result<(), CommandError> {
        match self.who().filter(|c| c.is_client()) {
            Some(client) => Err(refused(
                command,
                format!(
                    "a client of tenant {:?} has no bot in a script: send Bot API calls as chat actions over the gateway, with bot_id naming one of the tenant's bots",
                    client.tenant_name()
                ),
            )),
            None => Ok(()),
        }
    }
}

impl Effects for Checked {
    // No catch-all: a new effect is refused to compile here until its rule is written.
    fn apply(&self, effect: &Effect<'_>) -> Result<Value, Refusal> {
        match effect {
            Effect::Bot {
                command, method, ..
            } => {
                self.bot_of_caller(command)?;
                if let Some(why) = crate::telegram::takeover(method) {
                    return Err(refused(command, format!("{method} is refused: {why}")).into());
                }
            }
            // A download reads what the bot may read: its own files, through its own token.
            Effect::Download { command, .. } => self.bot_of_caller(command)?,
            Effect::AccountId {
                command,
                userbot_id,
            } => {
                if let Some(caller) = self.who() {
                    let id = match userbot_id {
                        Some(id) => *id,
                        None => caller
                            .default_account()
                            .map_err(|e| CommandError::invalid(command, e.to_string()))?,
                    };
                    let id = owned(caller, command, id)?;
                    return self.inner.apply(&Effect::AccountId {
                        command: command.clone(),
                        userbot_id: Some(id),
                    });
                }
            }
            Effect::Account { command, id, op } => {
                if let Some(caller) = self.who() {
                    owned(caller, command, *id)?;
                }
                if let AccountOp::Raw(request) = op.as_ref() {
                    let kind = request.get("@type").and_then(Value::as_str).unwrap_or("");
                    crate::accounts::raw::raw_allowed(kind).map_err(|why| refused(command, why))?;
                }
            }
            Effect::Http { command, request } => {
                if let Some(allowed) = self.who().and_then(Caller::http_allow) {
                    let host = reqwest::Url::parse(&request.url)
                        .ok()
                        .and_then(|url| url.host_str().map(str::to_string))
                        .unwrap_or_default();
                    let host = host.trim_start_matches('[').trim_end_matches(']');
                    if !crate::http::guard::listed(allowed, host) {
                        let tenant = self.who().map(Caller::tenant_name).unwrap_or_default();
                        return Err(refused(
                            command,
                            format!(
                                "host {host:?} is not one tenant {tenant:?} may reach: add it to the tenant's [[tenant]] http_allow"
                            ),
                        )
                        .into());
                    }
                }
            }
            Effect::State(op) => {
                if let Some(why) = self.who().and_then(|c| state_refusal(c, op)) {
                    return Err(Refusal::Store(why));
                }
            }
            Effect::Now => {}
        }
        self.inner.apply(effect)
    }

    fn now_ms(&self) -> i64 {
        self.inner.now_ms()
    }

    fn caller(&self) -> Option<&Caller> {
        self.who()
    }

    fn login(
        &self,
        command: &str,
        id: i64,
        step: Option<crate::accounts::LoginStep>,
    ) -> Result<crate::accounts::AuthState, CommandError> {
        if let Some(caller) = self.who() {
            owned(caller, command, id)?;
        }
        self.inner.login(command, id, step)
    }
}
