//! Account events across a cluster: the instance running an account publishes each of its
//! events on `tgscript.ev.account.<id>`, and every other instance takes them from there into
//! its own hub, so gateway subscribers and bots on any instance see them. Plain NATS publish:
//! an instance cut off from NATS misses what is published meanwhile, as a process that is
//! down misses what its accounts publish. Each event is sealed ([`super::seal`]): one that
//! does not open is dropped.

use super::seal::Seal;
use futures::StreamExt;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The subjects of every account's events.
const ALL: &str = "tgscript.ev.account.*";
/// Events waiting to be published; past it they are dropped, and that is logged.
const WAITING: usize = 10_000;

/// One account event as it crosses: the instance it comes from (which does not take it
/// back), the account and the TDLib-shaped update.
#[derive(serde::Serialize, serde::Deserialize)]
struct Crossing {
    from: String,
    userbot_id: i64,
    update: Value,
}

/// Where the accounts running on this instance publish their events for the others; cheap to
/// clone, usable from any thread.
#[derive(Clone)]
pub struct Outbox {
    waiting: mpsc::Sender<(i64, Value)>,
}

impl Outbox {
    /// Publish account `userbot_id`'s `update` to the other instances (queued: never waits).
    pub fn publish(&self, userbot_id: i64, update: Value) {
        if self.waiting.try_send((userbot_id, update)).is_err() {
            metrics::counter!(crate::telemetry::ACCOUNT_EVENTS_DROPPED).increment(1);
            tracing::error!(
                "cluster: an event of account {userbot_id} is not published to the other instances: NATS does not keep up"
            );
        }
    }
}

/// Start publishing what is put in the returned outbox as instance `instance`, sealed with
/// `seal` (on the current runtime, until every clone of the outbox is dropped).
pub(super) fn outbox(client: async_nats::Client, seal: Arc<Seal>, instance: &str) -> Outbox {
    let (waiting, mut taken) = mpsc::channel::<(i64, Value)>(WAITING);
    let from = instance.to_string();
    tokio::spawn(async move {
        while let Some((userbot_id, update)) = taken.recv().await {
            let crossing = Crossing {
                from: from.clone(),
                userbot_id,
                update,
            };
            let body = match serde_json::to_vec(&crossing) {
                Ok(body) => body,
                Err(e) => {
                    tracing::error!("cluster: an account event cannot be written: {e}");
                    continue;
                }
            };
            let subject = format!("tgscript.ev.account.{userbot_id}");
            let sealed = seal.seal(&subject, &body);
            if let Err(e) = client.publish(subject, sealed).await {
                tracing::error!("cluster: an event of account {userbot_id} is not published: {e}");
            }
        }
    });
    Outbox { waiting }
}

/// Give every account event another instance publishes to `take` (account id and update),
/// until NATS ends the subscription; this instance's own are left out, and so is one that
/// does not open with `seal`, or names another account than its subject.
pub(super) async fn take_others(
    client: async_nats::Client,
    seal: Arc<Seal>,
    instance: String,
    take: impl Fn(i64, Value) + Send + 'static,
) -> Result<(), async_nats::SubscribeError> {
    let mut events = client.subscribe(ALL).await?;
    tokio::spawn(async move {
        while let Some(message) = events.next().await {
            let Some(body) = seal.open(&message.subject, &message.payload) else {
                continue;
            };
            match serde_json::from_slice::<Crossing>(&body) {
                Ok(event) if event.from == instance => {}
                Ok(event)
                    if message.subject.as_str()
                        == format!("tgscript.ev.account.{}", event.userbot_id) =>
                {
                    take(event.userbot_id, event.update)
                }
                Ok(_) => tracing::warn!(
                    "cluster: an account event on {} names another account; dropped",
                    message.subject
                ),
                Err(e) => tracing::warn!("cluster: an account event that is not one: {e}"),
            }
        }
    });
    Ok(())
}
