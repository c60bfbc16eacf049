//! Account events to a bot's scenarios: each event some scenario's `on_account_update` takes
//! becomes an update of its own (`{"update_id": <negative>, "account_update": {account_id,
//! update}}`), kept in the bot's inbox before it is handled, so it has the guarantees of a
//! Bot API update (handled once, its calls replayed after a crash, retried, then parked).

use crate::accounts::events::{Delivery, EventHub, Subscription};
use crate::inbox::{Inbox, Origin};
use crate::scenario::dispatch::{ACCOUNT_UPDATE, Dispatcher};
use crate::scenario::registry::Registry;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::watch::Receiver;

/// Account events a bot keeps for its scenarios while the inbox takes them in.
const BUFFER: usize = 10_000;

/// A bot's subscription to the account events some scenario of `registry` takes (asked as
/// each is published, so a reload's new `ACCOUNT_UPDATES` count at once). Events published
/// before it, or while the process is down, are not seen.
pub(super) fn subscribe(hub: &EventHub, registry: Arc<Registry>) -> Arc<Subscription> {
    hub.subscribe_where(
        move |event| {
            registry
                .snapshot()
                .iter()
                .any(|scenario| scenario.takes_account_update(event.kind()))
        },
        BUFFER,
    )
}

/// Update ids for account events: negative (Telegram's are positive), each lower than any
/// kept in the bot's inbox and any before it in this process (following the clock in µs).
struct Ids {
    last: i64,
}

impl Ids {
    fn next(&mut self) -> i64 {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        self.last = (-micros).min(self.last - 1);
        self.last
    }
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
    let lowest = match &inbox {
        Some(inbox) => {
            let inbox = inbox.clone();
            tokio::task::spawn_blocking(move || inbox.lowest_update_id())
                .await
                .ok()
                .and_then(Result::ok)
                .flatten()
        }
        None => None,
    };
    let mut ids = Ids {
        last: lowest.unwrap_or(0).min(0),
    };
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
        let update = json!({
            "update_id": ids.next(),
            ACCOUNT_UPDATE: {"account_id": event.userbot_id, "update": event.update},
        });
        let kept = match &inbox {
            None => Ok(vec![update]),
            Some(inbox) => {
                let inbox = inbox.clone();
                tokio::task::spawn_blocking(move || inbox.accept(&[update]))
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
