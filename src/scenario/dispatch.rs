//! Routing updates to scenario handlers: updates of one chat are handled in order, different
//! chats concurrently; handlers run on blocking threads; a failing handler is logged with its
//! location, handler name and update id, and everything else goes on.

use super::Scenario;
use super::registry::Registry;
use crate::engine::ScriptEngine;
use crate::telegram::UpdateContext;
use crate::telegram::update;
use rhai::Dynamic;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;

/// Counts of updates taken in and fully handled, to wait for the dispatcher to go idle.
#[derive(Debug, Default)]
pub struct Progress {
    received: AtomicU64,
    handled: AtomicU64,
    changed: Notify,
}

impl Progress {
    /// Updates fully handled so far.
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::SeqCst)
    }

    /// Wait until at least `count` updates have been handled.
    pub async fn wait_handled(&self, count: u64) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.handled() >= count {
                return;
            }
            changed.await;
        }
    }
}

/// Hands updates to per-chat workers that call the scenarios' handlers.
pub struct Dispatcher {
    registry: Arc<Registry>,
    chats: Mutex<HashMap<i64, mpsc::UnboundedSender<Value>>>,
    workers: Mutex<JoinSet<()>>,
    progress: Arc<Progress>,
}

impl Dispatcher {
    /// A dispatcher over the scenarios of `registry` (called in file-name order for each
    /// update; each update sees one version of the set, even across a reload).
    pub fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            chats: Mutex::new(HashMap::new()),
            workers: Mutex::new(JoinSet::new()),
            progress: Arc::new(Progress::default()),
        }
    }

    /// How far handling has got.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Queue `update` behind the earlier updates of its chat. Must be called within the
    /// runtime.
    pub fn dispatch(&self, update: Value) {
        let ctx = UpdateContext::from_update(&update);
        let key = ctx.chat_id.or(ctx.user_id).unwrap_or(0);
        self.progress.received.fetch_add(1, Ordering::SeqCst);
        let mut chats = self.chats.lock().unwrap_or_else(PoisonError::into_inner);
        let sender = chats.entry(key).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let registry = self.registry.clone();
            let progress = self.progress.clone();
            self.workers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .spawn(chat_worker(rx, registry, progress));
            tx
        });
        let _ = sender.send(update);
    }

    /// Stop taking updates and wait until every queued and running handler has finished.
    pub async fn finish(&self) {
        self.chats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let mut workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        while workers.join_next().await.is_some() {}
    }
}

async fn chat_worker(
    mut updates: mpsc::UnboundedReceiver<Value>,
    registry: Arc<Registry>,
    progress: Arc<Progress>,
) {
    while let Some(update) = updates.recv().await {
        let registry = registry.clone();
        let _ = tokio::task::spawn_blocking(move || {
            handle_update(registry.engine(), &registry.snapshot(), &update)
        })
        .await;
        progress.handled.fetch_add(1, Ordering::SeqCst);
        progress.changed.notify_waiters();
    }
}

/// Call every scenario's handler for `update`, in order; errors are logged, not returned.
pub fn handle_update(engine: &ScriptEngine, scenarios: &[Scenario], update: &Value) {
    let ctx = Arc::new(UpdateContext::from_update(update));
    let (kind, payload) = update::kind(update);
    for scenario in scenarios {
        let Some((handler, args)) = route(scenario, kind, payload, update) else {
            continue;
        };
        if let Err(err) = scenario.call(engine, handler, args, Some(ctx.clone())) {
            tracing::error!(
                "{err} [{} {handler}, update {}]",
                scenario.name,
                ctx.update_id
            );
        }
    }
}

/// Which handler of `scenario` gets an update of `kind`, and its arguments.
fn route(
    scenario: &Scenario,
    kind: &str,
    payload: &Value,
    update: &Value,
) -> Option<(&'static str, Vec<Dynamic>)> {
    let dynamic = |v: &Value| rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT);
    match kind {
        "message" => {
            if let Some((cmd, args)) = command(payload)
                && scenario.has("on_command")
            {
                let args: rhai::Array = args.into_iter().map(Dynamic::from).collect();
                return Some((
                    "on_command",
                    vec![cmd.into(), args.into(), dynamic(payload)],
                ));
            }
            scenario
                .has("on_message")
                .then(|| ("on_message", vec![dynamic(payload)]))
        }
        "callback_query" => scenario
            .has("on_callback_query")
            .then(|| ("on_callback_query", vec![dynamic(payload)])),
        "chat_member" | "my_chat_member" => scenario
            .has("on_chat_member")
            .then(|| ("on_chat_member", vec![dynamic(payload)])),
        _ => scenario
            .has("on_update")
            .then(|| ("on_update", vec![dynamic(update)])),
    }
}

/// `"/warn@my_bot 3 spam"` → `("warn", ["3", "spam"])`.
fn command(message: &Value) -> Option<(String, Vec<String>)> {
    let text = message["text"].as_str()?;
    let mut words = text.split_whitespace();
    let first = words.next()?.strip_prefix('/')?;
    let name = first.split('@').next().unwrap_or(first);
    if name.is_empty() {
        return None;
    }
    Some((name.to_string(), words.map(str::to_string).collect()))
}
