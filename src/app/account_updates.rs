//! Account events to a bot's scenarios: each event some scenario's `on_account_update` takes
//! becomes an update of its own (`{"update_id": <negative>, "account_update": {account_id,
//! update}}`), kept in the bot's inbox before it is handled, so it has the guarantees of a
//! Bot API update (handled once, its calls replayed after a crash, retried, then parked).

use crate::accounts::events::{Delivery, EventHub, Subscription};
use crate::inbox::{Inbox, Origin};
use crate::scenario::dispatch::Dispatcher;
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
pub(super) fn subscribe(hub: &EventHub, registry: Arc<Registry>) -> Arc<Subscription> {
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

/// Take `events` into `inbox` (when there is one) and hand them to `dispatcher`, until
/// `stopped`.
pub(super) async fn forward(
    events: Arc<Subscription>,
    registry: Arc<Registry>,
    inbox: Option<Arc<Inbox>>,
    dispatcher: Arc<Dispatcher>,
    mut stopped: Receiver<bool>,
) {
    // Without an inbox the ids only name the events in the log.
    let mut last_id = 0;
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
                    registry.bot()
                );
                continue;
            }
        };
        let update = move |update_id: i64| {
            json!({
                "update_id": update_id,
                ACCOUNT_UPDATE: {"account_id": event.userbot_id, "update": event.update},
            })
        };
        let kept = match &inbox {
            None => {
                last_id = crate::inbox::local_id_after(last_id);
                Ok(vec![update(last_id)])
            }
            Some(inbox) => {
                let inbox = inbox.clone();
                tokio::task::spawn_blocking(move || {
                    inbox.accept_made(|tx| Ok(vec![update(inbox.local_update_id(tx)?)]))
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|kept| kept.map_err(|e| e.to_string()))
            }
        };
        match kept {
            Ok(kept) => {
                for update in kept {
                    dispatcher.dispatch(update, Origin::Fetched);
                }
            }
            Err(e) => tracing::error!(
                "bot {}: an account event cannot be kept in the inbox ({e}); it is dropped",
                registry.bot()
            ),
        }
    }
}
