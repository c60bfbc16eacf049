//! What accounts tell, published once and delivered to whoever listens: each subscriber
//! (a gateway client, a bot's inbox) has a filter and a bounded queue. One that does not keep
//! up loses the newest events past the bound and is then told how many ([`Delivery::Dropped`]);
//! memory never grows with a slow reader, and other subscribers are not held up.

use serde_json::Value;
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use tokio::sync::Notify;

/// One event of one account: a TDLib update (`{"@type": "update…", …}`).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountEvent {
    /// The account's `userbot_id`.
    pub userbot_id: i64,
    /// The update, TDLib-shaped (`@type` is its kind).
    pub update: Value,
}

impl AccountEvent {
    /// The update's TDLib type, e.g. `updateUnconfirmedSession`.
    pub fn kind(&self) -> &str {
        self.update["@type"].as_str().unwrap_or_default()
    }
}

/// Which events a subscriber takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// These accounts only (`None`: every account, those added later too).
    pub accounts: Option<BTreeSet<i64>>,
    /// These update types only (`None`: every type).
    pub kinds: Option<BTreeSet<String>>,
}

impl Filter {
    /// Whether `event` passes.
    pub fn takes(&self, event: &AccountEvent) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|ids| ids.contains(&event.userbot_id))
            && self
                .kinds
                .as_ref()
                .is_none_or(|kinds| kinds.contains(event.kind()))
    }
}

/// What a subscriber gets next.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// An event.
    Event(AccountEvent),
    /// This many events were dropped here because the queue was full.
    Dropped(u64),
}

#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Delivery>,
    /// Events queued (not counting the dropped-markers).
    events: usize,
}

/// Which events a subscription takes.
type Takes = Box<dyn Fn(&AccountEvent) -> bool + Send + Sync>;

/// One subscriber's filter and queue; dropping it unsubscribes.
pub struct Subscription {
    takes: Takes,
    capacity: usize,
    queue: Mutex<Queue>,
    ready: Notify,
}

impl Subscription {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn offer(&self, event: &AccountEvent) {
        if !(self.takes)(event) {
            return;
        }
        {
            let mut queue = self.lock();
            if queue.events >= self.capacity {
                match queue.items.back_mut() {
                    Some(Delivery::Dropped(n)) => *n += 1,
                    _ => queue.items.push_back(Delivery::Dropped(1)),
                }
                metrics::counter!(crate::telemetry::ACCOUNT_EVENTS_DROPPED).increment(1);
            } else {
                queue.items.push_back(Delivery::Event(event.clone()));
                queue.events += 1;
            }
        }
        self.ready.notify_one();
    }

    /// The next delivery, waiting for one.
    pub async fn next(&self) -> Delivery {
        loop {
            if let Some(delivery) = self.try_next() {
                return delivery;
            }
            self.ready.notified().await;
        }
    }

    /// The next delivery, if one is queued.
    pub fn try_next(&self) -> Option<Delivery> {
        let mut queue = self.lock();
        let delivery = queue.items.pop_front()?;
        if matches!(delivery, Delivery::Event(_)) {
            queue.events -= 1;
        }
        Some(delivery)
    }
}

/// Where accounts publish and subscribers subscribe.
#[derive(Default)]
pub struct EventHub {
    subscribers: Mutex<Vec<Weak<Subscription>>>,
}

impl EventHub {
    /// Deliver `event` to every subscriber whose filter takes it.
    pub fn publish(&self, event: AccountEvent) {
        let live: Vec<Arc<Subscription>> = {
            let mut subscribers = self
                .subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            subscribers.retain(|s| s.strong_count() > 0);
            subscribers.iter().filter_map(Weak::upgrade).collect()
        };
        for subscriber in live {
            subscriber.offer(&event);
        }
    }

    /// A new subscriber taking what `filter` passes, keeping at most `capacity` undelivered.
    pub fn subscribe(&self, filter: Filter, capacity: usize) -> Arc<Subscription> {
        self.subscribe_where(move |event| filter.takes(event), capacity)
    }

    /// A new subscriber taking the events `takes` says yes to (asked as each is published),
    /// keeping at most `capacity` undelivered.
    pub fn subscribe_where(
        &self,
        takes: impl Fn(&AccountEvent) -> bool + Send + Sync + 'static,
        capacity: usize,
    ) -> Arc<Subscription> {
        let subscription = Arc::new(Subscription {
            takes: Box::new(takes),
            capacity: capacity.max(1),
            queue: Mutex::default(),
            ready: Notify::new(),
        });
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&subscription));
        subscription
    }
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("EventHub")
            .field("subscribers", &subscribers)
            .finish()
    }
}

/// Where else an account's events go besides its hub: in a cluster, to the other instances.
pub type Forward = Arc<dyn Fn(&AccountEvent) + Send + Sync>;

/// Where one account publishes: the hub, its id, and what else its events go to.
#[derive(Clone, Default)]
pub struct EventSink {
    hub: Arc<EventHub>,
    userbot_id: i64,
    forward: Option<Forward>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("userbot_id", &self.userbot_id)
            .field("forwarded", &self.forward.is_some())
            .finish()
    }
}

impl EventSink {
    /// Publish as account `userbot_id` on `hub`.
    pub fn new(hub: Arc<EventHub>, userbot_id: i64) -> Self {
        Self {
            hub,
            userbot_id,
            forward: None,
        }
    }

    /// The same sink, each event also given to `forward` (before the hub's subscribers).
    pub fn forwarding(self, forward: Forward) -> Self {
        Self {
            forward: Some(forward),
            ..self
        }
    }

    /// Publish `update` (TDLib-shaped, with `@type`).
    pub fn publish(&self, update: Value) {
        let event = AccountEvent {
            userbot_id: self.userbot_id,
            update,
        };
        if let Some(forward) = &self.forward {
            forward(&event);
        }
        self.hub.publish(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: i64, kind: &str, n: i64) -> AccountEvent {
        AccountEvent {
            userbot_id: id,
            update: json!({"@type": kind, "n": n}),
        }
    }

    #[test]
    fn a_full_queue_drops_the_newest_and_says_how_many_without_holding_up_others() {
        let hub = EventHub::default();
        let slow = hub.subscribe(Filter::default(), 3);
        let other = hub.subscribe(
            Filter {
                accounts: Some([2].into()),
                kinds: None,
            },
            100,
        );
        for n in 0..10 {
            hub.publish(event(1, "updateX", n));
        }
        hub.publish(event(2, "updateX", 99));
        let mut got = Vec::new();
        while let Some(d) = slow.try_next() {
            got.push(d);
        }
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[3], Delivery::Dropped(8), "7 of account 1 and 1 of 2");
        assert_eq!(got[0], Delivery::Event(event(1, "updateX", 0)));
        assert_eq!(
            other.try_next(),
            Some(Delivery::Event(event(2, "updateX", 99)))
        );
        assert_eq!(other.try_next(), None);
        hub.publish(event(1, "updateX", 10));
        assert_eq!(
            slow.try_next(),
            Some(Delivery::Event(event(1, "updateX", 10))),
            "after draining, events flow again"
        );
    }

    #[test]
    fn kinds_filter_and_a_dropped_subscription_is_forgotten() {
        let hub = EventHub::default();
        let sub = hub.subscribe(
            Filter {
                accounts: None,
                kinds: Some(["updateA".to_string()].into()),
            },
            10,
        );
        hub.publish(event(1, "updateB", 0));
        hub.publish(event(1, "updateA", 1));
        assert_eq!(
            sub.try_next(),
            Some(Delivery::Event(event(1, "updateA", 1)))
        );
        drop(sub);
        hub.publish(event(1, "updateA", 2));
        assert!(hub.subscribers.lock().unwrap().is_empty());
    }
}
