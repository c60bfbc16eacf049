//! A caller for the layers' tests: answers from a list, records what reached it and when (on
//! tokio's clock, paused in the tests), and a harness that runs a call with the metrics it
//! records captured.

use crate::telegram::FloodConfig;
use crate::telegram::call::{BotError, Caller};
use crate::telegram::throttle::Throttle;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// One request that reached the fake: method, parameters, when.
pub type Seen = (String, Value, Instant);

/// Answers each call with the next of its answers (`true` once they run out).
pub struct Fake {
    answers: Mutex<VecDeque<Result<Value, BotError>>>,
    seen: Mutex<Vec<Seen>>,
}

impl Fake {
    /// A fake answering `answers` in turn.
    pub fn new(answers: impl IntoIterator<Item = Result<Value, BotError>>) -> Self {
        Self {
            answers: Mutex::new(answers.into_iter().collect()),
            seen: Mutex::default(),
        }
    }

    /// The requests that reached it, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("fake's lock").clone()
    }
}

impl Caller for &Fake {
    async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        self.seen.lock().expect("fake's lock").push((
            method.to_string(),
            params.clone(),
            Instant::now(),
        ));
        let next = self.answers.lock().expect("fake's lock").pop_front();
        next.unwrap_or(Ok(json!(true)))
    }
}

/// Telegram's refusal with `code`, and `retry_after` / `migrate_to_chat_id` when given.
pub fn refusal(code: i64, retry_after: Option<u64>, migrate_to_chat_id: Option<i64>) -> BotError {
    BotError::Api {
        code,
        description: format!("refused with {code}"),
        retry_after,
        migrate_to_chat_id,
    }
}

/// Flood control with only these rates: posts a second into a chat, a minute into a group.
pub fn throttle(per_chat_per_second: u32, per_group_per_minute: u32) -> Option<Arc<Throttle>> {
    let config = FloodConfig {
        per_second: 0,
        per_chat_per_second,
        per_group_per_minute,
        ..FloodConfig::default()
    };
    Throttle::new(&config, 1).map(Arc::new)
}

/// Run `call` to its end on a runtime whose clock is paused (a sleep advances it at once);
/// returns its output and the metrics it recorded, as Prometheus text.
pub fn run<F: Future>(call: F) -> (F::Output, String) {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let output = metrics::with_local_recorder(&recorder, || runtime.block_on(call));
    (output, handle.render())
}
