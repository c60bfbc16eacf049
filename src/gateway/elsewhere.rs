//! Gateway requests across a cluster's instances ([`crate::cluster::relay`]): one for a bot
//! that runs on another instance is relayed there ([`Elsewhere::ask`]); the instance running
//! a bot carries out the requests relayed to it ([`handler`], answered through
//! [`crate::cluster::relay::Answering`]) from before the bot starts there until after it
//! stopped.

use super::actions::{self, Action};
use super::admin::BotScope;
use crate::cluster::View;
use crate::cluster::relay::{Handler, Owned, Relay};
use crate::request::CommandError;
use bytes::Bytes;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// A request as one instance relays it to another: the action's name and the request, and
/// the tenant whose client asked, if one's did (the owner checks the bot is the tenant's).
/// The owner looks the action up once and runs the same [`Action::run_on_bot`].
#[derive(serde::Serialize, serde::Deserialize)]
struct Relayed {
    action: String,
    request: Map<String, Value>,
    #[serde(default)]
    scope: Option<String>,
}

/// The bots of the cluster as this instance's gateway reaches them.
#[derive(Clone)]
pub struct Elsewhere {
    /// This instance's name.
    pub instance: String,
    /// Every bot of the cluster, with its tenant (the seat keeps it up to date).
    pub bots: Arc<RwLock<BTreeMap<String, String>>>,
    /// Which instance runs which bot.
    pub view: watch::Receiver<View>,
    relay: Relay,
    runtime: tokio::runtime::Handle,
}

impl Elsewhere {
    /// The cluster's bots as instance `instance` (seeing `view`) reaches them over `relay`;
    /// made on the runtime its requests are asked on.
    pub fn new(instance: &str, view: watch::Receiver<View>, relay: Relay) -> Self {
        Elsewhere {
            instance: instance.to_string(),
            bots: Arc::default(),
            view,
            relay,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Have the instance running bot `bot` carry out `action` (called on a blocking thread);
    /// an answer that does not come is an error with code 503 (nobody ran the bot for the
    /// whole wait), 504 (its owner took the request and did not answer) or 502 (NATS).
    pub fn ask(
        &self,
        action: Action,
        bot: &str,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError> {
        let action = action.name();
        let relayed = Relayed {
            action: action.to_string(),
            request: request.clone(),
            scope: scope.map(str::to_string),
        };
        let body = serde_json::to_vec(&relayed)
            .map_err(|e| CommandError::invalid(action, format!("cannot relay it: {e}")))?;
        let owned = Owned::Bot(bot.to_string());
        match self.runtime.block_on(self.relay.ask(&owned, body.into())) {
            Ok(answer) => serde_json::from_slice(&answer).unwrap_or_else(|e| {
                Err(CommandError::invalid(
                    action,
                    format!("the answer of bot {bot}'s instance is not one: {e}"),
                ))
            }),
            Err(e) => Err(CommandError {
                command: action.to_string(),
                code: Some(e.code().into()),
                error: e.to_string(),
                hint: None,
            }),
        }
    }
}

/// What carries out the gateway requests relayed to `bot`, which runs here: each runs the
/// action it names with [`Action::run_on_bot`], as on the instance that took it.
pub fn handler(bot: BotScope) -> Handler {
    Arc::new(move |body| Box::pin(carry_out(bot.clone(), body)))
}

/// Carry out one relayed gateway request through `bot`: the answer to send.
async fn carry_out(bot: BotScope, body: Bytes) -> Vec<u8> {
    let result =
        tokio::task::spawn_blocking(move || match serde_json::from_slice::<Relayed>(&body) {
            Ok(relayed) => match actions::find(&relayed.action) {
                Some(action) if action.runs_on_a_bot() => {
                    action.run_on_bot(&bot, relayed.scope.as_deref(), &relayed.request)
                }
                _ => Err(CommandError::invalid(
                    &relayed.action,
                    "not an action on a bot: a relayed request must name one",
                )),
            },
            Err(e) => Err(CommandError::invalid(
                "relay",
                format!("a relayed request that is not one: {e}"),
            )),
        })
        .await
        .unwrap_or_else(|e| {
            Err(CommandError::invalid(
                "relay",
                format!("internal error: {e}"),
            ))
        });
    serde_json::to_vec(&result).unwrap_or_else(|e| {
        tracing::error!("cluster: a gateway answer cannot be written: {e}");
        Vec::new()
    })
}
