//! Gateway requests across a cluster's instances ([`crate::cluster::relay`]): one for a bot
//! that runs on another instance is relayed there ([`Elsewhere::ask`]); the instance running
//! a bot carries out the requests relayed to it and answers them ([`Answering`]), from before
//! the bot starts there until after it stopped (its handlers finished): then it takes no more
//! (they wait for the next owner), and the ones it took are finished and answered before the
//! bot is let go.

use super::bots::BotSetup;
use crate::cluster::View;
use crate::cluster::relay::{Owned, Relay, RelayError, Requests};
use crate::engine::Limits;
use crate::gateway::actions::{self, Action};
use crate::gateway::admin::BotScope;
use crate::inbox::Inbox;
use crate::request::CommandError;
use crate::scenario::runner::Runner;
use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// Requests of one bot or account carried out at once; more wait at NATS.
const AT_ONCE: usize = 16;

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
pub(super) struct Elsewhere {
    /// This instance's name.
    pub(super) instance: String,
    /// Every bot of the cluster, with its tenant (the seat keeps it up to date).
    pub(super) bots: Arc<RwLock<BTreeMap<String, String>>>,
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

/// What carries out one relayed request: its body in, the answer to send out.
pub(super) type Handler = Arc<dyn Fn(Bytes) -> BoxFuture<'static, Vec<u8>> + Send + Sync>;

/// The task answering the requests relayed to a bot or an account that runs here, and how to
/// end it.
pub(super) struct Answering {
    close: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Answering {
    /// Start answering the requests `relay` has for `owned`, each carried out by `handler`.
    pub(super) async fn start(
        relay: &Relay,
        owned: &Owned,
        handler: Handler,
    ) -> Result<Answering, RelayError> {
        let requests = relay.take(owned).await?;
        let (close, closed) = oneshot::channel();
        let task = tokio::spawn(answer(requests, closed, handler));
        Ok(Answering { close, task })
    }

    /// Start answering the gateway requests `relay` has for `setup`'s bot (whose inbox is
    /// `inbox`), carried out within `limits`.
    pub(super) async fn bot(
        relay: &Relay,
        setup: &BotSetup,
        inbox: Option<Arc<Inbox>>,
        runner: Arc<Runner>,
        limits: Limits,
    ) -> Result<Answering, RelayError> {
        let scope = BotScope {
            id: setup.id.clone(),
            host: setup.host.clone(),
            dir: setup.dir.clone(),
            inbox,
            runner,
            limits,
        };
        let handler: Handler = Arc::new(move |body| Box::pin(carry_out(scope.clone(), body)));
        Self::start(relay, &Owned::Bot(setup.id.clone()), handler).await
    }

    /// Take no more requests; finish and answer those taken.
    pub(super) async fn close(self) {
        let _ = self.close.send(());
        let _ = self.task.await;
    }
}

/// Answer `requests` with `handler` until `close` (or until it is dropped): then take no
/// more, and finish and answer those taken and those already on their way.
async fn answer(mut requests: Requests, mut close: oneshot::Receiver<()>, handler: Handler) {
    let mut running = JoinSet::new();
    let mut closing = false;
    loop {
        if running.len() >= AT_ONCE {
            running.join_next().await;
            continue;
        }
        let asked = match closing {
            true => requests.next().await,
            false => tokio::select! {
                asked = requests.next() => asked,
                _ = &mut close => {
                    closing = true;
                    requests.drain().await;
                    continue;
                }
            },
        };
        let Some(asked) = asked else { break };
        let handled = handler(asked.body.clone());
        running.spawn(async move { asked.answer(handled.await.into()).await });
    }
    while running.join_next().await.is_some() {}
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
