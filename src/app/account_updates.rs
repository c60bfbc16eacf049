//! Account events to a bot's scenarios: each event some scenario's `on_account_update` takes
//! becomes an update of its own (`{"update_id": <negative>, "account_update": {account_id,
//! update}}`), kept in the bot's inbox before it is handled, so it has the guarantees of a
//! Bot API update (handled once, its calls replayed after a crash, retried, then parked).

use crate::accounts::events::{Delivery, EventHub, Filter, Subscription};
use crate::inbox::{Inbox, Origin};
use crate::scenario::dispatch::{ACCOUNT_UPDATE, Dispatcher};
use crate::scenario::registry::Registry;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::watch::Receiver;

/// Account events a bot keeps for its scenarios while the inbox takes them in.
const BUFFER: usize = 10_000;

/// A fresh update id for an account event: negative (Telegram's are positive), and lower
/// than any before it, in this process and in earlier ones (it follows the clock in µs).
fn next_id() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let mut last = LAST.load(Ordering::SeqCst);
    loop {
        let id = (-micros).min(last - 1);
        match LAST.compare_exchange(last, id, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return id,
            Err(now) => last = now,
        }
    }
}

/// A bot's subscription to every account event of `hub` (taken before anything is
/// published that it should see).
pub(super) fn subscribe(hub: &EventHub) -> Arc<Subscription> {
    hub.subscribe(Filter::default(), BUFFER)
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
        let wanted = registry
            .snapshot()
            .iter()
            .any(|scenario| scenario.takes_account_update(event.kind()));
        if !wanted {
            continue;
        }
        let update = json!({
            "update_id": next_id(),
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
