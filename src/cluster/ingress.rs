//! Webhook ingress for a cluster: a delivery that reaches any instance is written to the
//! JetStream stream [`STREAM`] (subject `tgscript.in.<bot>`, message id `<bot>:<update_id>`
//! so a repeated delivery is stored once) and answered 200 only once the stream has it; the
//! bot's owner takes the updates from its own durable consumer and acknowledges them once
//! its inbox has kept them, so an update is never lost between the two. Each delivery is
//! sealed ([`super::seal`]); one that does not open, or was sealed longer ago than the
//! stream keeps updates, is dropped.

use super::seal::Seal;
use async_nats::jetstream::{self, consumer, stream};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// The stream of webhook deliveries waiting for their bot's owner.
pub const STREAM: &str = "TGSCRIPT_IN";
/// How long an update waits in the stream for an owner (Telegram keeps them a day too).
const KEPT_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long a repeated delivery of one update is recognised.
const DEDUPLICATE_FOR: Duration = Duration::from_secs(120);
/// How long a taken update may stay unacknowledged before the stream gives it out again:
/// the owner acknowledges once the inbox kept it, not once it is handled.
const ACK_WAIT: Duration = Duration::from_secs(10);
/// The longest wait of one fetch: a stopping bot's consumer ends within it.
const FETCH_WAIT: Duration = Duration::from_secs(1);
/// Updates asked for per fetch.
const BATCH: usize = 100;

/// Why a delivery could not be written or taken.
#[derive(Debug, thiserror::Error)]
#[error("NATS JetStream: {0}")]
pub struct IngressError(String);

fn failed(e: impl std::fmt::Display) -> IngressError {
    IngressError(e.to_string())
}

/// The cluster's webhook ingress.
#[derive(Clone)]
pub struct Ingress {
    /// Shared: a context is large, and an ingress is held by every webhook bot's route.
    js: Arc<jetstream::Context>,
    seal: Arc<Seal>,
}

impl Ingress {
    /// The ingress over `js`, sealed with `seal`, its stream created if it is not there yet.
    pub(super) async fn open(
        js: jetstream::Context,
        seal: Arc<Seal>,
    ) -> Result<Ingress, IngressError> {
        let made = js
            .get_or_create_stream(stream::Config {
                name: STREAM.into(),
                description: Some("tgscript: webhook updates waiting for their bot's owner".into()),
                subjects: vec!["tgscript.in.>".into()],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                max_age: KEPT_FOR,
                duplicate_window: DEDUPLICATE_FOR,
                num_replicas: 1,
                ..Default::default()
            })
            .await;
        // Two instances making it at once: one may be told its subjects overlap, the stream
        // being there all the same.
        if let Err(e) = made {
            js.get_stream(STREAM).await.map_err(|_| failed(e))?;
        }
        Ok(Ingress {
            js: Arc::new(js),
            seal,
        })
    }

    /// Write bot `bot`'s update `update_id` (`body`, as delivered) to the stream; `Ok` once
    /// the stream has it (`true` if it had it already).
    pub async fn publish(
        &self,
        bot: &str,
        update_id: i64,
        body: bytes::Bytes,
    ) -> Result<bool, IngressError> {
        let subject = format!("tgscript.in.{bot}");
        let message = jetstream::message::PublishMessage::build()
            .payload(self.seal.seal(&subject, &body))
            .message_id(format!("{bot}:{update_id}"));
        let ack = self
            .js
            .send_publish(subject, message)
            .await
            .map_err(failed)?
            .await
            .map_err(failed)?;
        Ok(ack.duplicate)
    }

    /// Bot `bot`'s updates in the stream, from its durable consumer (kept across owners).
    pub async fn feed(&self, bot: &str) -> Result<Feed, IngressError> {
        let stream = self.js.get_stream(STREAM).await.map_err(failed)?;
        let name = format!("bot-{bot}");
        let consumer = stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    description: Some(format!("tgscript: bot {bot}'s webhook updates")),
                    filter_subject: format!("tgscript.in.{bot}"),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    ..Default::default()
                },
            )
            .await
            .map_err(failed)?;
        Ok(Feed {
            consumer,
            seal: self.seal.clone(),
        })
    }
}

/// One bot's updates waiting in the stream.
pub struct Feed {
    consumer: consumer::Consumer<consumer::pull::Config>,
    seal: Arc<Seal>,
}

/// Updates taken from a [`Feed`], to be acknowledged once kept.
pub struct Taken {
    /// The updates, in the stream's order (a body that does not open or is not JSON is left
    /// out, and logged).
    pub updates: Vec<serde_json::Value>,
    messages: Vec<jetstream::Message>,
}

impl Feed {
    /// Wait (at most as long as the stream waits for an acknowledgement) until no update
    /// is out with a previous owner that took it and never acknowledged it: they come again
    /// once their wait is over, and taking newer ones first would handle a chat's updates
    /// out of order.
    pub async fn wait_for_earlier_takers(&self) {
        let deadline = tokio::time::Instant::now() + ACK_WAIT + FETCH_WAIT;
        while tokio::time::Instant::now() < deadline {
            match self.consumer.get_info().await {
                Ok(info) if info.num_ack_pending > 0 => {}
                _ => return,
            }
            tokio::time::sleep(FETCH_WAIT / 5).await;
        }
    }

    /// The next updates: as many as wait (up to a batch), or none after a short wait.
    pub async fn take(&self) -> Result<Taken, IngressError> {
        let mut batch = self
            .consumer
            .fetch()
            .max_messages(BATCH)
            .expires(FETCH_WAIT)
            .messages()
            .await
            .map_err(failed)?;
        let (mut updates, mut messages) = (Vec::new(), Vec::new());
        while let Some(message) = batch.next().await {
            let message = message.map_err(failed)?;
            let Some(opened) = self
                .seal
                .open_kept(&message.subject, &message.payload, KEPT_FOR)
            else {
                // Acknowledged with the others: the stream forgets it.
                messages.push(message);
                continue;
            };
            match serde_json::from_slice(&opened.payload) {
                Ok(update) => updates.push(update),
                Err(e) => tracing::error!(
                    "cluster: a webhook update in {} is not JSON ({e}); dropped",
                    message.subject
                ),
            }
            messages.push(message);
        }
        Ok(Taken { updates, messages })
    }
}

impl Taken {
    /// The updates could not be kept: the stream gives them again at once.
    pub async fn refuse(self) {
        for message in self.messages {
            let _ = message.ack_with(jetstream::AckKind::Nak(None)).await;
        }
    }

    /// The updates are kept: the stream may forget them.
    pub async fn acknowledge(self) {
        for message in self.messages {
            if let Err(e) = message.ack().await {
                tracing::debug!(
                    "cluster: an acknowledgement was not sent ({e}); the update comes again and is skipped"
                );
            }
        }
    }
}
