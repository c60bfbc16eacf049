//! Gateway requests for a bot, from whichever instance got them to the bot's owner: NATS
//! request/reply on `tgscript.gw.bot.<id>`, which only the instance running the bot answers
//! (it subscribes once it holds the bot's claim and unsubscribes before it lets the claim go;
//! in one queue group, so even two subscriptions at once would never both get a request). While
//! the bot moves nobody answers ("no responders", which NATS says at once and which means
//! nobody got the request), so the request is asked again until a bound; a request someone
//! took but did not answer in time is never asked again (it may have been done).

use bytes::Bytes;
use futures::StreamExt;
use std::time::Duration;

/// How long to wait before asking again while nobody runs the bot.
const ASK_AGAIN_AFTER: Duration = Duration::from_millis(100);
/// The queue group of a bot's subscribers: a request goes to one of them.
const OWNERS: &str = "owner";
/// How long an unsubscription may take to reach the server (none while NATS is away: the
/// server dropped the subscription with the connection, and it is not made again).
const UNSUBSCRIBE_WAIT: Duration = Duration::from_secs(1);

/// Why a relayed request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// No instance ran the bot for the whole bound.
    #[error(
        "no instance of the cluster ran bot {bot} within {} ms (it is moving between instances, or none can start it): try again",
        waited.as_millis()
    )]
    NoOwner {
        /// The bot.
        bot: String,
        /// How long it was asked for.
        waited: Duration,
    },
    /// The owner took the request but did not answer in time.
    #[error(
        "the instance running bot {bot} did not answer within {} ms (it may have stopped); the request may or may not have been carried out",
        after.as_millis()
    )]
    TimedOut {
        /// The bot.
        bot: String,
        /// How long the answer was waited for.
        after: Duration,
    },
    /// NATS refused or is unreachable.
    #[error("NATS: {0}")]
    Nats(String),
}

/// Requests relayed to the owners of bots, and answered for the bots running here.
#[derive(Clone)]
pub struct Relay {
    client: async_nats::Client,
    /// How long a request is asked again while nobody runs its bot.
    patience: Duration,
    /// How long an owner that took a request has to answer it.
    timeout: Duration,
}

/// The subject of bot `bot`'s requests.
fn subject(bot: &str) -> String {
    format!("tgscript.gw.bot.{bot}")
}

impl Relay {
    /// Requests over `client`, asked again for `patience` while nobody runs their bot and
    /// waited for `timeout` once taken.
    pub(super) fn new(client: async_nats::Client, patience: Duration, timeout: Duration) -> Self {
        Relay {
            client,
            patience,
            timeout,
        }
    }

    /// Ask bot `bot`'s owner `body`; its answer.
    pub async fn ask(&self, bot: &str, body: Bytes) -> Result<Bytes, RelayError> {
        use async_nats::RequestErrorKind;
        let started = tokio::time::Instant::now();
        loop {
            let request = async_nats::Request::new()
                .payload(body.clone())
                .timeout(Some(self.timeout));
            match self.client.send_request(subject(bot), request).await {
                Ok(answer) => return Ok(answer.payload),
                Err(e) if e.kind() == RequestErrorKind::NoResponders => {
                    if started.elapsed() >= self.patience {
                        return Err(RelayError::NoOwner {
                            bot: bot.to_string(),
                            waited: started.elapsed(),
                        });
                    }
                    tokio::time::sleep(ASK_AGAIN_AFTER).await;
                }
                Err(e) if e.kind() == RequestErrorKind::TimedOut => {
                    return Err(RelayError::TimedOut {
                        bot: bot.to_string(),
                        after: self.timeout,
                    });
                }
                Err(e) => return Err(RelayError::Nats(e.to_string())),
            }
        }
    }

    /// Take bot `bot`'s requests (it runs here now), until [`Requests::close`]; until the
    /// server has the subscription, requests find nobody and are asked again.
    pub async fn take(&self, bot: &str) -> Result<Requests, RelayError> {
        let subscriber = self
            .client
            .queue_subscribe(subject(bot), OWNERS.into())
            .await
            .map_err(|e| RelayError::Nats(e.to_string()))?;
        Ok(Requests {
            subscriber,
            client: self.client.clone(),
        })
    }
}

/// One bot's requests, as they come to its owner.
pub struct Requests {
    subscriber: async_nats::Subscriber,
    client: async_nats::Client,
}

/// One request to answer.
pub struct Asked {
    /// What was asked.
    pub body: Bytes,
    reply: Option<async_nats::Subject>,
    client: async_nats::Client,
}

impl Requests {
    /// The next request (none once the subscription ended).
    pub async fn next(&mut self) -> Option<Asked> {
        let message = self.subscriber.next().await?;
        Some(Asked {
            body: message.payload,
            reply: message.reply,
            client: self.client.clone(),
        })
    }

    /// Take no more requests: from now on they find nobody (and are asked again elsewhere).
    pub async fn close(mut self) {
        let _ = self.subscriber.unsubscribe().await;
        let _ = tokio::time::timeout(UNSUBSCRIBE_WAIT, self.client.flush()).await;
    }
}

impl Asked {
    /// Send `answer` to whoever asked.
    pub async fn answer(self, answer: Bytes) {
        let Some(reply) = self.reply else { return };
        if let Err(e) = self.client.publish(reply, answer).await {
            tracing::warn!("cluster: a gateway answer was not sent: {e}");
        }
    }
}
