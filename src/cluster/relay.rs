//! Requests for a bot or an account, from whichever instance got them to its owner: NATS
//! request/reply on `tgscript.gw.bot.<id>` or `tgscript.gw.account.<id>`, which only the
//! instance running it answers (it subscribes once it holds the claim and unsubscribes before
//! it lets the claim go; in one queue group, so even two subscriptions at once would never
//! both get a request). While it moves nobody answers ("no responders", which NATS says at
//! once and which means nobody got the request), so the request is asked again until a bound;
//! a request someone took but did not answer in time is never asked again (it may have been
//! done). Requests and answers are sealed ([`super::seal`]): one that does not open is
//! dropped (a request is then never answered, an answer fails its request).

use super::seal::Seal;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// How long to wait before asking again while nobody runs the bot.
const ASK_AGAIN_AFTER: Duration = Duration::from_millis(100);
/// The queue group of a bot's subscribers: a request goes to one of them.
const OWNERS: &str = "owner";
/// How long a drained subscription waits for the server to confirm it (never while NATS is
/// away: the server dropped the subscription with the connection).
const UNSUBSCRIBE_WAIT: Duration = Duration::from_secs(1);

/// What a relayed request is for: one bot or one account of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    /// The bot with this id.
    Bot(String),
    /// The account with this `userbot_id`.
    Account(i64),
}

impl Owned {
    /// The subject its owner answers on.
    fn subject(&self) -> String {
        match self {
            Owned::Bot(id) => format!("tgscript.gw.bot.{id}"),
            Owned::Account(id) => format!("tgscript.gw.account.{id}"),
        }
    }

    /// What rendezvous hashing assigns it by ([`super::View::owner`]): the bot's id, or
    /// `account:<id>` (no bot id has a `:`).
    pub fn key(&self) -> String {
        match self {
            Owned::Bot(id) => id.clone(),
            Owned::Account(id) => format!("account:{id}"),
        }
    }
}

impl std::fmt::Display for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owned::Bot(id) => write!(f, "bot {id}"),
            Owned::Account(id) => write!(f, "account {id}"),
        }
    }
}

/// Why a relayed request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// No instance ran the bot or account for the whole bound.
    #[error(
        "no instance of the cluster ran {owned} within {} ms (it is moving between instances, or none can start it): try again",
        waited.as_millis()
    )]
    NoOwner {
        /// The bot or account.
        owned: Owned,
        /// How long it was asked for.
        waited: Duration,
    },
    /// The owner took the request but did not answer in time.
    #[error(
        "the instance running {owned} did not answer within {} ms (it may have stopped); the request may or may not have been carried out",
        after.as_millis()
    )]
    TimedOut {
        /// The bot or account.
        owned: Owned,
        /// How long the answer was waited for.
        after: Duration,
    },
    /// NATS refused or is unreachable.
    #[error("NATS: {0}")]
    Nats(String),
    /// The answer did not open with the cluster key (dropped, and logged).
    #[error(
        "the answer about {owned} was not sealed with this cluster's key (every instance needs the same key_env value); the request may or may not have been carried out"
    )]
    Unsealed {
        /// The bot or account.
        owned: Owned,
    },
}

impl RelayError {
    /// The HTTP-like code of the failure: 503 (nobody ran it for the whole wait), 504 (its
    /// owner took the request and did not answer), 502 (NATS).
    pub fn code(&self) -> u16 {
        match self {
            RelayError::NoOwner { .. } => 503,
            RelayError::TimedOut { .. } => 504,
            RelayError::Nats(_) | RelayError::Unsealed { .. } => 502,
        }
    }
}

/// Requests relayed to the owners of bots and accounts, and answered for those running here.
#[derive(Clone)]
pub struct Relay {
    client: async_nats::Client,
    seal: Arc<Seal>,
    /// How long a request is asked again while nobody runs what it is for.
    patience: Duration,
    /// How long an owner that took a request has to answer it.
    timeout: Duration,
}

impl Relay {
    /// Requests over `client`, sealed with `seal`, asked again for `patience` while nobody
    /// runs their bot and waited for `timeout` once taken.
    pub fn new(
        client: async_nats::Client,
        seal: Arc<Seal>,
        patience: Duration,
        timeout: Duration,
    ) -> Self {
        Relay {
            client,
            seal,
            patience,
            timeout,
        }
    }

    /// Ask `owned`'s owner `body`; its answer.
    pub async fn ask(&self, owned: &Owned, body: Bytes) -> Result<Bytes, RelayError> {
        self.ask_within(owned, body, self.timeout).await
    }

    /// Ask `owned`'s owner `body`, waiting `timeout` for the answer once it took it (for what
    /// the owner itself waits on longer than the usual timeout); its answer.
    pub async fn ask_within(
        &self,
        owned: &Owned,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, RelayError> {
        use async_nats::RequestErrorKind;
        let started = tokio::time::Instant::now();
        let subject = owned.subject();
        loop {
            // Sealed anew each time: a nonce is never sent twice.
            let request = async_nats::Request::new()
                .payload(self.seal.seal(&subject, &body))
                .timeout(Some(timeout));
            match self.client.send_request(subject.clone(), request).await {
                Ok(answer) => {
                    return self
                        .seal
                        .open(&answer.subject, &answer.payload)
                        .ok_or_else(|| RelayError::Unsealed {
                            owned: owned.clone(),
                        });
                }
                Err(e) if e.kind() == RequestErrorKind::NoResponders => {
                    if started.elapsed() >= self.patience {
                        return Err(RelayError::NoOwner {
                            owned: owned.clone(),
                            waited: started.elapsed(),
                        });
                    }
                    tokio::time::sleep(ASK_AGAIN_AFTER).await;
                }
                Err(e) if e.kind() == RequestErrorKind::TimedOut => {
                    return Err(RelayError::TimedOut {
                        owned: owned.clone(),
                        after: timeout,
                    });
                }
                Err(e) => return Err(RelayError::Nats(e.to_string())),
            }
        }
    }

    /// Take `owned`'s requests (it runs here now), until [`Requests::close`]; until the
    /// server has the subscription, requests find nobody and are asked again.
    pub async fn take(&self, owned: &Owned) -> Result<Requests, RelayError> {
        let subscriber = self
            .client
            .queue_subscribe(owned.subject(), OWNERS.into())
            .await
            .map_err(|e| RelayError::Nats(e.to_string()))?;
        Ok(Requests {
            subscriber,
            client: self.client.clone(),
            seal: self.seal.clone(),
            draining_until: None,
        })
    }
}

/// One bot's or account's requests, as they come to its owner.
pub struct Requests {
    subscriber: async_nats::Subscriber,
    client: async_nats::Client,
    seal: Arc<Seal>,
    /// Once draining: when to stop waiting for the server to confirm the last requests.
    draining_until: Option<tokio::time::Instant>,
}

/// One request to answer.
pub struct Asked {
    /// What was asked.
    pub body: Bytes,
    reply: Option<async_nats::Subject>,
    client: async_nats::Client,
    seal: Arc<Seal>,
}

impl Requests {
    /// The next request (none once the subscription ended, or the drain's wait is over);
    /// one that does not open is dropped.
    pub async fn next(&mut self) -> Option<Asked> {
        loop {
            let message = match self.draining_until {
                Some(until) => tokio::time::timeout_at(until, self.subscriber.next())
                    .await
                    .ok()??,
                None => self.subscriber.next().await?,
            };
            let Some(body) = self.seal.open(&message.subject, &message.payload) else {
                continue;
            };
            return Some(Asked {
                body,
                reply: message.reply,
                client: self.client.clone(),
                seal: self.seal.clone(),
            });
        }
    }

    /// Take no more requests: those the server sent before it knew still come out of
    /// [`Requests::next`] (to be answered, not lost to a timeout), until it confirms (within
    /// `UNSUBSCRIBE_WAIT`); from then on they find nobody (and are asked again elsewhere).
    pub async fn drain(&mut self) {
        self.draining_until = Some(tokio::time::Instant::now() + UNSUBSCRIBE_WAIT);
        if let Err(e) = self.subscriber.drain().await {
            tracing::warn!("cluster: cannot stop taking requests cleanly: {e}");
        }
    }
}

impl Asked {
    /// Send `answer` to whoever asked.
    pub async fn answer(self, answer: Bytes) {
        let Some(reply) = self.reply else { return };
        let sealed = self.seal.seal(&reply, &answer);
        if let Err(e) = self.client.publish(reply, sealed).await {
            tracing::warn!("cluster: a gateway answer was not sent: {e}");
        }
    }
}

/// Requests of one bot or account carried out at once; more wait at NATS.
const AT_ONCE: usize = 16;

/// What carries out one relayed request: its body in, the answer to send out.
pub type Handler = Arc<dyn Fn(Bytes) -> BoxFuture<'static, Vec<u8>> + Send + Sync>;

/// The task answering the requests relayed to a bot or an account that runs here, and how to
/// end it.
pub struct Answering {
    close: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Answering {
    /// Start answering the requests `relay` has for `owned`, each carried out by `handler`.
    pub async fn start(
        relay: &Relay,
        owned: &Owned,
        handler: Handler,
    ) -> Result<Answering, RelayError> {
        let requests = relay.take(owned).await?;
        let (close, closed) = oneshot::channel();
        let task = tokio::spawn(answer(requests, closed, handler));
        Ok(Answering { close, task })
    }

    /// Take no more requests; finish and answer those taken.
    pub async fn close(self) {
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
