//! Ordered lanes: items with the same key are worked on one after another, in the order they
//! came; different keys concurrently. The dispatcher keys updates by chat, the gateway keys a
//! connection's requests by account.

use futures::future::BoxFuture;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// One lane (a task and its queue) per key, each running `work` on its items in order.
pub struct Lanes<K, T> {
    lanes: Mutex<HashMap<K, mpsc::UnboundedSender<T>>>,
    workers: Mutex<JoinSet<()>>,
    work: Arc<dyn Fn(T) -> BoxFuture<'static, ()> + Send + Sync>,
    closed: AtomicBool,
}

impl<K: Eq + Hash, T: Send + 'static> Lanes<K, T> {
    /// Lanes that run `work` on each item.
    pub fn new<F>(work: impl Fn(T) -> F + Send + Sync + 'static) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Self {
            lanes: Mutex::new(HashMap::new()),
            workers: Mutex::new(JoinSet::new()),
            work: Arc::new(move |item| Box::pin(work(item))),
            closed: AtomicBool::new(false),
        }
    }

    /// Queue `item` behind the earlier items of `key`; `false` (and the item dropped) once
    /// [`Self::finish`] began. Must be called within the runtime.
    pub fn push(&self, key: K, item: T) -> bool {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        if self.closed.load(Ordering::SeqCst) {
            return false;
        }
        let lane = lanes.entry(key).or_insert_with(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<T>();
            let work = self.work.clone();
            self.workers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .spawn(async move {
                    while let Some(item) = rx.recv().await {
                        work(item).await;
                    }
                });
            tx
        });
        lane.send(item).is_ok()
    }

    /// Work on `item` at once, in no lane (behind nothing, and nothing behind it); `false`
    /// (and the item dropped) once [`Self::finish`] began. Must be called within the runtime.
    pub fn run_now(&self, item: T) -> bool {
        let _lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        if self.closed.load(Ordering::SeqCst) {
            return false;
        }
        let work = self.work.clone();
        self.workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spawn(async move { work(item).await });
        true
    }

    /// Stop taking items and wait until every queued item has been worked on.
    pub async fn finish(&self) {
        {
            let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
            self.closed.store(true, Ordering::SeqCst);
            lanes.clear();
        }
        let mut workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        while workers.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn items_of_a_key_keep_their_order_and_keys_run_side_by_side() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let lanes = Lanes::new(move |(key, n): (u8, u32)| {
            let record = record.clone();
            async move {
                // Key 1's items are slow: key 2's must not wait behind them.
                if key == 1 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                record
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((key, n));
            }
        });
        for n in 0..3 {
            assert!(lanes.push(1, (1, n)));
            assert!(lanes.push(2, (2, n)));
        }
        lanes.finish().await;
        assert!(!lanes.push(1, (1, 9)), "nothing is taken after finish");
        let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let of = |key| {
            seen.iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
        };
        assert_eq!(of(1), [0, 1, 2], "in order within a key");
        assert_eq!(of(2), [0, 1, 2], "in order within a key");
        assert_eq!(
            seen[..3],
            [(2, 0), (2, 1), (2, 2)],
            "key 2 did not wait for key 1"
        );
    }
}
