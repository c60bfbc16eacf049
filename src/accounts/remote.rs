//! Accounts across a cluster's instances: each account runs (its TDLib client open) on one
//! instance only, and every other instance holds a [`RemoteAccount`] in its place, which
//! relays each operation, login step and sandbox act to the owner over NATS
//! ([`crate::cluster::relay`], `tgscript.gw.<instance>.account.<id>`) and follows the account's
//! authorization state from the events the owner publishes. The owner answers with
//! [`answer_for`]. Scripts, the gateway and the bots use either through the same
//! [`Account`] trait.

use crate::accounts::auth::UPDATE_AUTHORIZATION_STATE;
use crate::accounts::events::Filter;
use crate::accounts::{Account, AccountOp, AuthState, Drive, Driven, EventHub, LoginStep, TdError};
use crate::cluster::relay::{Answering, Handler, Owned, Relay, RelayError};
use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::Value;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;

/// How often a remote account asks its owner for the state when no event said it changed.
const REFRESH: Duration = Duration::from_secs(15);

/// How soon a remote account asks again while its owner did not answer, or its client was
/// still starting.
const ASK_AGAIN: Duration = Duration::from_secs(1);

/// How long a remote account waits for its owner to tell the state.
const STATE_WAIT: Duration = Duration::from_secs(2);

/// How much longer than the owner waits for a login step's answer the asker waits for it.
const LOGIN_MARGIN: Duration = Duration::from_secs(2);

/// What one instance asks of the instance running an account.
#[derive(serde::Serialize, serde::Deserialize)]
enum Ask {
    /// Run one operation.
    Call(AccountOp),
    /// Take one login step, answered within `within_ms`.
    Login {
        /// The step (a code or password crosses to the owner: secure NATS with TLS).
        step: LoginStep,
        /// How long the owner waits for TDLib's answer.
        within_ms: u64,
    },
    /// The authorization state.
    State,
    /// A sandbox act.
    Drive(Drive),
}

/// What the owner answers.
#[derive(serde::Serialize, serde::Deserialize)]
enum Reply {
    /// An operation's result.
    Value(Value),
    /// A state (after a login step, or asked for).
    State(AuthState),
    /// What a sandbox act led to.
    Driven(Driven),
}

/// An account of the cluster that runs on another instance.
pub struct RemoteAccount {
    id: i64,
    backend: &'static str,
    relay: Relay,
    /// The last state the owner told.
    state: Arc<Mutex<AuthState>>,
    /// Dropped with the account: ends the task following its state.
    _following: oneshot::Sender<()>,
}

impl RemoteAccount {
    /// Account `id` (of `backend`) reached over `relay`, its state followed from the events
    /// on `hub` (those of the owner arrive there) on `runtime`, until it is dropped.
    pub fn follow(
        id: i64,
        backend: &'static str,
        relay: Relay,
        hub: &EventHub,
        runtime: &tokio::runtime::Handle,
    ) -> Arc<RemoteAccount> {
        let (following, stopped) = oneshot::channel();
        let state = Arc::new(Mutex::new(AuthState::Starting));
        let changes = hub.subscribe(
            Filter {
                accounts: Some([id].into()),
                kinds: Some([UPDATE_AUTHORIZATION_STATE.to_string()].into()),
            },
            4,
        );
        let (asking, known) = (relay.clone(), state.clone());
        runtime.spawn(async move {
            let mut stopped = stopped;
            loop {
                let settled = tokio::select! {
                    answer = ask(&asking, id, &Ask::State) => match answer {
                        Ok(Reply::State(now)) => {
                            let settled = now.settled();
                            *known.lock().unwrap_or_else(PoisonError::into_inner) = now;
                            settled
                        }
                        _ => false,
                    },
                    _ = &mut stopped => return,
                };
                // An owner that is not there yet, or still starting the client, publishes
                // no event when it is: asked again soon.
                let wait = if settled { REFRESH } else { ASK_AGAIN };
                tokio::select! {
                    _ = changes.next() => {}
                    () = tokio::time::sleep(wait) => {}
                    _ = &mut stopped => return,
                }
            }
        });
        Arc::new(RemoteAccount {
            id,
            backend,
            relay,
            state,
            _following: following,
        })
    }
}

/// Ask account `id`'s owner over `relay`.
async fn ask(relay: &Relay, id: i64, asked: &Ask) -> Result<Reply, TdError> {
    let body = serde_json::to_vec(asked).map_err(|e| TdError::new(400, e.to_string()))?;
    let owned = Owned::Account(id);
    let answer = match asked {
        // The owner waits `within_ms` for TDLib: its answer (even a timeout) comes first.
        Ask::Login { within_ms, .. } => {
            let within = Duration::from_millis(*within_ms) + LOGIN_MARGIN;
            relay.ask_within(&owned, body.into(), within).await
        }
        // Answered at once: one that does not come (its owner stopped as it took it) is
        // asked again soon rather than waited for.
        Ask::State => relay.ask_within(&owned, body.into(), STATE_WAIT).await,
        _ => relay.ask(&owned, body.into()).await,
    }
    .map_err(|e: RelayError| TdError::new(e.code().into(), e.to_string()))?;
    serde_json::from_slice::<Result<Reply, TdError>>(&answer).unwrap_or_else(|e| {
        Err(TdError::new(
            502,
            format!("the answer of account {id}'s instance is not one: {e}"),
        ))
    })
}

/// A reply of the wrong kind.
fn unexpected(id: i64) -> TdError {
    TdError::new(
        502,
        format!("account {id}'s instance answered something else"),
    )
}

impl Account for RemoteAccount {
    fn call(&self, op: AccountOp) -> BoxFuture<'_, Result<Value, TdError>> {
        Box::pin(async move {
            match ask(&self.relay, self.id, &Ask::Call(op)).await? {
                Reply::Value(value) => Ok(value),
                _ => Err(unexpected(self.id)),
            }
        })
    }

    fn status(&self) -> String {
        format!(
            "{}: {} (runs on another instance of the cluster)",
            self.backend,
            self.authorization().describe()
        )
    }

    fn backend(&self) -> &'static str {
        self.backend
    }

    fn authorization(&self) -> AuthState {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn login(
        &self,
        step: LoginStep,
        within: Duration,
    ) -> BoxFuture<'_, Result<AuthState, TdError>> {
        Box::pin(async move {
            let within_ms = u64::try_from(within.as_millis()).unwrap_or(u64::MAX);
            match ask(&self.relay, self.id, &Ask::Login { step, within_ms }).await? {
                Reply::State(state) => {
                    *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state.clone();
                    Ok(state)
                }
                _ => Err(unexpected(self.id)),
            }
        })
    }

    fn drive(&self, act: Drive) -> BoxFuture<'_, Result<Driven, TdError>> {
        Box::pin(async move {
            match ask(&self.relay, self.id, &Ask::Drive(act)).await? {
                Reply::Driven(driven) => Ok(driven),
                _ => Err(unexpected(self.id)),
            }
        })
    }
}

/// Start answering what the other instances ask of `account` (account `id`, running here).
pub async fn answer_for(
    relay: &Relay,
    id: i64,
    account: Arc<dyn Account>,
) -> Result<Answering, RelayError> {
    let handler: Handler = Arc::new(move |body: Bytes| {
        let account = account.clone();
        Box::pin(async move {
            let answer = match serde_json::from_slice::<Ask>(&body) {
                Ok(asked) => carry_out(&*account, asked).await,
                Err(e) => Err(TdError::new(
                    400,
                    format!("a relayed account request that is not one: {e}"),
                )),
            };
            serde_json::to_vec(&answer).unwrap_or_else(|e| {
                tracing::error!("cluster: an account answer cannot be written: {e}");
                Vec::new()
            })
        })
    });
    Answering::start(relay, &Owned::Account(id), handler).await
}

/// Do what was asked of `account`: a raw TDLib request only by an allowed name, as on the
/// asking instance (whatever it let through).
async fn carry_out(account: &dyn Account, asked: Ask) -> Result<Reply, TdError> {
    Ok(match asked {
        Ask::Call(op) => {
            if let AccountOp::Raw(request) = &op {
                let kind = request.get("@type").and_then(Value::as_str).unwrap_or("");
                crate::accounts::raw::raw_allowed(kind).map_err(|why| TdError::new(403, why))?;
            }
            Reply::Value(account.call(op).await?)
        }
        Ask::Login { step, within_ms } => {
            let within = Duration::from_millis(within_ms);
            Reply::State(account.login(step, within).await?)
        }
        Ask::State => Reply::State(account.authorization()),
        Ask::Drive(act) => Reply::Driven(account.drive(act).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::sandbox::SandboxAccount;
    use serde_json::json;

    fn call(account: &SandboxAccount, request: Value) -> Result<Reply, TdError> {
        futures::executor::block_on(carry_out(account, Ask::Call(AccountOp::Raw(request))))
    }

    #[test]
    fn a_relayed_raw_request_passes_the_scripts_filter_on_the_owner() {
        let account = SandboxAccount::new();
        let refused = call(&account, json!({"@type": "sendMessage", "chat_id": 1}))
            .err()
            .expect("sendMessage is refused");
        assert_eq!(refused.code, 403, "{refused:?}");
        assert!(refused.message.contains("not allowed"), "{refused:?}");
        assert!(call(&account, json!({"@type": "getAuthorizationState"})).is_ok());
        assert_eq!(
            account.calls(),
            [AccountOp::Raw(json!({"@type": "getAuthorizationState"}))],
            "only the allowed one reached the account"
        );
    }
}
