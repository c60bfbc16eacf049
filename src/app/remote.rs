//! Gateway requests across a cluster's instances ([`crate::cluster::relay`]): one for a bot
//! that runs on another instance is relayed there ([`Elsewhere::ask`]); the instance running
//! a bot carries out the requests relayed to it and answers them ([`Answering`]), from before
//! the bot starts there until after it stopped (its handlers finished): then it takes no more
//! (they wait for the next owner), and the ones it took are finished and answered before the
//! bot is let go.

use super::bots::BotSetup;
use super::on_bot::{Target, on_bot};
use crate::cluster::View;
use crate::cluster::relay::{Asked, Relay, RelayError, Requests};
use crate::engine::Limits;
use crate::request::CommandError;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// Requests of one bot carried out at once; more wait at NATS.
const AT_ONCE: usize = 16;

/// A request as one instance relays it to another: the action and its fields (`bot_id`
/// taken out for account commands and chat actions, kept for the script actions).
#[derive(serde::Serialize, serde::Deserialize)]
struct Relayed {
    action: String,
    request: Map<String, Value>,
}

/// The bots of the cluster as this instance's gateway reaches them.
#[derive(Clone)]
pub(super) struct Elsewhere {
    /// This instance's name.
    pub(super) instance: String,
    /// Every bot of the cluster (the seat keeps it up to date).
    pub(super) bots: Arc<RwLock<BTreeSet<String>>>,
    /// Which instance runs which bot.
    pub(super) view: watch::Receiver<View>,
    relay: Relay,
    runtime: tokio::runtime::Handle,
}

impl Elsewhere {
    /// The cluster's bots as instance `instance` (seeing `view`) reaches them over `relay`;
    /// made on the runtime its requests are asked on.
    pub(super) fn new(instance: &str, view: watch::Receiver<View>, relay: Relay) -> Self {
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
    pub(super) fn ask(
        &self,
        action: &str,
        bot: &str,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError> {
        let relayed = Relayed {
            action: action.to_string(),
            request: request.clone(),
        };
        let body = serde_json::to_vec(&relayed)
            .map_err(|e| CommandError::invalid(action, format!("cannot relay it: {e}")))?;
        match self.runtime.block_on(self.relay.ask(bot, body.into())) {
            Ok(answer) => serde_json::from_slice(&answer).unwrap_or_else(|e| {
                Err(CommandError::invalid(
                    action,
                    format!("the answer of bot {bot}'s instance is not one: {e}"),
                ))
            }),
            Err(e) => Err(CommandError {
                command: action.to_string(),
                code: Some(match e {
                    RelayError::NoOwner { .. } => 503,
                    RelayError::TimedOut { .. } => 504,
                    RelayError::Nats(_) => 502,
                }),
                error: e.to_string(),
                hint: None,
            }),
        }
    }
}

/// The task answering a bot's relayed gateway requests, and how to end it.
pub(super) struct Answering {
    close: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Answering {
    /// Start answering the gateway requests `relay` has for `setup`'s bot, carried out
    /// within `limits`.
    pub(super) async fn start(
        relay: &Relay,
        setup: &BotSetup,
        limits: Limits,
    ) -> Result<Answering, RelayError> {
        let requests = relay.take(&setup.id).await?;
        let target = Target {
            id: setup.id.clone(),
            host: setup.host.clone(),
            dir: setup.dir.clone(),
        };
        let (close, closed) = oneshot::channel();
        let task = tokio::spawn(answer(target, limits, requests, closed));
        Ok(Answering { close, task })
    }

    /// Take no more requests; finish and answer those taken.
    pub(super) async fn close(self) {
        let _ = self.close.send(());
        let _ = self.task.await;
    }
}

/// Answer `bot`'s relayed `requests` until `close` (or until it is dropped): then take no
/// more, and finish and answer those taken.
async fn answer(
    bot: Target,
    limits: Limits,
    mut requests: Requests,
    mut close: oneshot::Receiver<()>,
) {
    let mut running = JoinSet::new();
    loop {
        if running.len() >= AT_ONCE {
            tokio::select! {
                _ = running.join_next() => continue,
                _ = &mut close => break,
            }
        }
        let asked = tokio::select! {
            asked = requests.next() => asked,
            _ = &mut close => break,
        };
        let Some(asked) = asked else { break };
        running.spawn(carry_out(bot.clone(), limits.clone(), asked));
    }
    requests.close().await;
    while running.join_next().await.is_some() {}
}

/// Carry out one relayed request through `bot` and answer it.
async fn carry_out(bot: Target, limits: Limits, asked: Asked) {
    let body = asked.body.clone();
    let result =
        tokio::task::spawn_blocking(move || match serde_json::from_slice::<Relayed>(&body) {
            Ok(relayed) => on_bot(&bot, &limits, &relayed.action, &relayed.request),
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
    match serde_json::to_vec(&result) {
        Ok(answer) => asked.answer(answer.into()).await,
        Err(e) => tracing::error!("cluster: a gateway answer cannot be written: {e}"),
    }
}
