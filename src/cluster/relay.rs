//! Requests for a bot or an account, from whichever instance got them to the instance running
//! it: NATS request/reply on `tgscript.gw.<instance>.bot.<id>` or
//! `tgscript.gw.<instance>.account.<id>`, the instance being the one the asker's [`View`] says
//! should run it. Each instance subscribes once to its own subjects and keeps that
//! subscription for its whole life; what it runs registers here ([`Relay::take`]) and lets go
//! ([`Requests::drain`]) without touching the subscription, so no request is ever in flight to
//! a subscription that is going away (a NATS client drops those). A request for something that
//! does not run on the instance that got it (it has not started there yet, or has let go) is
//! answered "not here", and nothing was done: it is asked again, like a request that found no
//! instance at all ("no responders", which NATS says at once), until a bound. A request someone
//! took but did not answer in time is never asked again (it may have been done). Requests and
//! answers are sealed ([`super::seal`]): one that does not open is dropped (a request is then
//! never answered, an answer fails its request).

use super::View;
use super::seal::Seal;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{OnceCell, mpsc, oneshot, watch};
use tokio::task::JoinSet;

/// How long to wait before asking again while nobody runs the bot.
const ASK_AGAIN_AFTER: Duration = Duration::from_millis(100);
/// The queue group of an instance's subscribers: a request goes to one of them, even should
/// two processes ever subscribe as one instance.
const OWNERS: &str = "owner";
/// The first byte of a sealed answer: what the owner answered.
const ANSWERED: u8 = 0;
/// The first byte of a sealed answer: the instance that got the request does not run what it
/// is for, and did nothing.
const NOT_HERE: u8 = 1;

/// What a relayed request is for: one bot or one account of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    /// The bot with this id.
    Bot(String),
    /// The account with this `userbot_id`.
    Account(i64),
}

impl Owned {
    /// The subject `instance` takes its requests on.
    fn subject(&self, instance: &str) -> String {
        match self {
            Owned::Bot(id) => format!("{}.bot.{id}", instance_subjects(instance)),
            Owned::Account(id) => format!("{}.account.{id}", instance_subjects(instance)),
        }
    }

    /// What rendezvous hashing assigns it by ([`View::owner`]): the bot's id, or
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

/// The prefix of the subjects `instance` takes requests on.
fn instance_subjects(instance: &str) -> String {
    format!("tgscript.gw.{instance}")
}

/// Requests relayed to the owners of bots and accounts, and answered for those running here.
#[derive(Clone)]
pub struct Relay {
    client: async_nats::Client,
    seal: Arc<Seal>,
    /// This instance's name: what runs here takes its requests on its subjects.
    instance: String,
    /// Which instance runs what, as this one sees the cluster.
    view: watch::Receiver<View>,
    /// How long a request is asked again while nobody runs what it is for.
    patience: Duration,
    /// How long an owner that took a request has to answer it.
    timeout: Duration,
    /// What runs here, and this instance's subscription.
    here: Arc<Here>,
}

/// What runs on this instance: where each one's requests go, by subject.
#[derive(Default)]
struct Here {
    /// By subject: the taker's number (so only it lets go) and where its requests go.
    takers: Mutex<HashMap<String, (u64, mpsc::UnboundedSender<Asked>)>>,
    /// The number of the next taker.
    next_taker: std::sync::atomic::AtomicU64,
    /// Set once this instance subscribed to its subjects (on the first take).
    subscribed: OnceCell<()>,
}

impl Here {
    fn takers(&self) -> MutexGuard<'_, HashMap<String, (u64, mpsc::UnboundedSender<Asked>)>> {
        self.takers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hand `asked` to whoever takes `subject`'s requests here; back if nobody does.
    fn hand(&self, subject: &str, asked: Asked) -> Option<Asked> {
        match self.takers().get(subject) {
            Some((_, taker)) => taker.send(asked).err().map(|e| e.0),
            None => Some(asked),
        }
    }

    /// Stop handing `subject`'s requests to taker `number` (if it still takes them).
    fn let_go(&self, subject: &str, number: u64) {
        let mut takers = self.takers();
        if takers.get(subject).is_some_and(|(n, _)| *n == number) {
            takers.remove(subject);
        }
    }
}

impl Relay {
    /// Requests over `client` for instance `instance`, sealed with `seal`, sent where `view`
    /// says, asked again for `patience` while nobody runs what they are for and waited for
    /// `timeout` once taken.
    pub fn new(
        client: async_nats::Client,
        seal: Arc<Seal>,
        instance: &str,
        view: watch::Receiver<View>,
        patience: Duration,
        timeout: Duration,
    ) -> Self {
        Relay {
            client,
            seal,
            instance: instance.to_owned(),
            view,
            patience,
            timeout,
            here: Arc::default(),
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
        let key = owned.key();
        loop {
            let owner = self.view.borrow().owner(&key).map(str::to_owned);
            if let Some(owner) = owner {
                let subject = owned.subject(&owner);
                // Sealed anew each time: a nonce is never sent twice.
                let request = async_nats::Request::new()
                    .payload(self.seal.seal(&subject, &body))
                    .timeout(Some(timeout));
                match self.client.send_request(subject, request).await {
                    Ok(answer) => {
                        let opened = self.seal.open(&answer.subject, &answer.payload);
                        match opened.as_ref().and_then(|o| o.first()) {
                            Some(&ANSWERED) => {
                                return Ok(opened.unwrap_or_default().slice(1..));
                            }
                            Some(&NOT_HERE) => {}
                            _ => {
                                return Err(RelayError::Unsealed {
                                    owned: owned.clone(),
                                });
                            }
                        }
                    }
                    Err(e) if e.kind() == RequestErrorKind::NoResponders => {}
                    Err(e) if e.kind() == RequestErrorKind::TimedOut => {
                        return Err(RelayError::TimedOut {
                            owned: owned.clone(),
                            after: timeout,
                        });
                    }
                    Err(e) => return Err(RelayError::Nats(e.to_string())),
                }
            }
            // Nobody runs it now (or nobody is live): nothing was done, ask again.
            if started.elapsed() >= self.patience {
                return Err(RelayError::NoOwner {
                    owned: owned.clone(),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(ASK_AGAIN_AFTER).await;
        }
    }

    /// Take `owned`'s requests (it runs here now), until [`Requests::drain`]: those sent to
    /// this instance come out of [`Requests::next`]; until the server has this instance's
    /// subscription (on the first take), requests find nobody and are asked again.
    pub async fn take(&self, owned: &Owned) -> Result<Requests, RelayError> {
        self.here
            .subscribed
            .get_or_try_init(|| self.subscribe())
            .await?;
        let subject = owned.subject(&self.instance);
        let number = self
            .here
            .next_taker
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (taker, taken) = mpsc::unbounded_channel();
        self.here.takers().insert(subject.clone(), (number, taker));
        Ok(Requests {
            taken,
            here: self.here.clone(),
            subject,
            number,
        })
    }

    /// Subscribe to this instance's subjects and hand what comes to whoever takes it here,
    /// answering "not here" for what nobody takes (on a task of its own, for as long as the
    /// client is connected).
    async fn subscribe(&self) -> Result<(), RelayError> {
        let mut subscriber = self
            .client
            .queue_subscribe(
                format!("{}.>", instance_subjects(&self.instance)),
                OWNERS.into(),
            )
            .await
            .map_err(|e| RelayError::Nats(e.to_string()))?;
        let (client, seal, here) = (self.client.clone(), self.seal.clone(), self.here.clone());
        tokio::spawn(async move {
            while let Some(message) = subscriber.next().await {
                let Some(body) = seal.open(&message.subject, &message.payload) else {
                    continue;
                };
                let asked = Asked {
                    body,
                    reply: message.reply,
                    client: client.clone(),
                    seal: seal.clone(),
                };
                if let Some(asked) = here.hand(&message.subject, asked) {
                    asked.reply(NOT_HERE, &[]).await;
                }
            }
        });
        Ok(())
    }
}

/// One bot's or account's requests, as they come to the instance running it.
pub struct Requests {
    taken: mpsc::UnboundedReceiver<Asked>,
    here: Arc<Here>,
    subject: String,
    /// Which taker this is (a later take of the same subject replaces it).
    number: u64,
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
    /// The next request (none once drained and every request taken before came out).
    pub async fn next(&mut self) -> Option<Asked> {
        self.taken.recv().await
    }

    /// Take no more requests: those taken before still come out of [`Requests::next`] (to be
    /// answered, not lost to a timeout); from now on they are answered "not here" (and asked
    /// again elsewhere).
    pub fn drain(&mut self) {
        self.here.let_go(&self.subject, self.number);
    }
}

impl Drop for Requests {
    fn drop(&mut self) {
        self.here.let_go(&self.subject, self.number);
    }
}

impl Asked {
    /// Send `answer` to whoever asked.
    pub async fn answer(self, answer: Bytes) {
        self.reply(ANSWERED, &answer).await;
    }

    /// Send `answer`, after its first byte `kind`, to whoever asked.
    async fn reply(self, kind: u8, answer: &[u8]) {
        let Some(reply) = self.reply else { return };
        let mut framed = Vec::with_capacity(answer.len() + 1);
        framed.push(kind);
        framed.extend_from_slice(answer);
        let sealed = self.seal.seal(&reply, &framed);
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
                    requests.drain();
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
