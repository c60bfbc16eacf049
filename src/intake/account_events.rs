//! Account events to a bot's scenarios: each event some scenario's `on_account_update` takes
//! becomes an update of its own (`{"update_id": <negative>, "account_update": {account_id,
//! update}}`), kept in the bot's inbox before it is handled, so it has the guarantees of a
//! Bot API update (handled once, its calls replayed after a crash, retried, then parked).

use super::Intake;
use crate::accounts::events::{Delivery, EventHub, Subscription};
use crate::scenario::registry::Registry;
use crate::scenario::route::ACCOUNT_UPDATE;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::watch::Receiver;

/// Account events a bot keeps for its scenarios while the inbox takes them in.
const BUFFER: usize = 10_000;

/// A bot's subscription to the account events some scenario of `registry` takes, of the
/// accounts its tenant owns (asked as each is published, so a reload's new
/// `ACCOUNT_UPDATES` count at once). Events published before it, or while the process is
/// down, are not seen.
pub fn subscribe(hub: &EventHub, registry: Arc<Registry>) -> Arc<Subscription> {
    let caller = registry.effects().caller().cloned();
    hub.subscribe_where(
        move |event| {
            caller.as_ref().is_none_or(|c| c.reaches(event.userbot_id))
                && registry
                    .snapshot()
                    .iter()
                    .any(|scenario| scenario.takes_account_update(event.kind()))
        },
        BUFFER,
    )
}

/// Take `events` in through `intake` (kept in the inbox, when there is one, then
/// dispatched), until `stopped`.
pub async fn forward(events: Arc<Subscription>, intake: Arc<Intake>, mut stopped: Receiver<bool>) {
    loop {
        let delivery = tokio::select! {
            delivery = events.next() => delivery,
            _ = stopped.wait_for(|s| *s) => return,
        };
        let event = match delivery {
            Delivery::Event(event) => event,
            Delivery::Dropped(n) => {
                tracing::error!(
                    "bot {}: {n} account events were dropped: the inbox did not keep up",
                    intake.bot()
                );
                continue;
            }
        };
        let made = intake
            .take_made(move |tx, next_id| {
                Ok(vec![json!({
                    "update_id": next_id(tx)?,
                    ACCOUNT_UPDATE: {"account_id": event.userbot_id, "update": event.update},
                })])
            })
            .await;
        if let Err(e) = made {
            tracing::error!(
                "bot {}: an account event cannot be kept in the inbox ({e}); it is dropped",
                intake.bot()
            );
        }
    }
}
