//! Host overhead per update, as a Criterion micro-benchmark: the benchmark harness's update
//! (JSON, a message containing "spam") through the dispatcher's `handle_update` to the
//! scenario's `on_message` (Rhai values from JSON, the handler, the `tg_chat_permission`
//! builtin, its parameters back to JSON) and a Bot API stub that answers at once. No
//! network, no inbox, scripts in this process: what tgscript itself adds to each update.
//!
//!   cargo bench --bench overhead

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tgscript::builtins::offline_engine;
use tgscript::effects::{Effect, Effects, Refusal};
use tgscript::engine::Limits;
use tgscript::scenario::dispatch::handle_update;
use tgscript::scenario::runner::Runner;

/// The benchmark harness's scenario (`../shared/bench/tgscript/spam.rhai`).
const SPAM: &str = r#"fn on_message(msg) {
    if msg.text.contains("spam") {
        tg_chat_permission(msg.from.id, [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]);
    }
}
"#;

/// Effects whose Bot API answers `true` at once and counts the calls.
#[derive(Default)]
struct Answering {
    calls: AtomicU64,
}

impl Effects for Answering {
    fn apply(&self, effect: &Effect<'_>) -> Result<Value, Refusal> {
        match effect {
            Effect::Bot { params, .. } => {
                black_box(params);
                self.calls.fetch_add(1, Ordering::Relaxed);
                Ok(json!(true))
            }
            Effect::AccountId { userbot_id, .. } => Ok(json!(userbot_id.unwrap_or(1))),
            Effect::Now => Ok(json!(1_700_000_000)),
            _ => Ok(Value::Null),
        }
    }
}

fn overhead(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spam.rhai");
    std::fs::write(&path, SPAM).expect("scenario");
    let answering = Arc::new(Answering::default());
    let effects: Arc<dyn Effects> = answering.clone();
    let runner = Runner::Inline(Arc::new(offline_engine(Limits::default(), dir.path())));
    let scenarios = vec![runner.load(&path, "", &effects).expect("loads")];
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 1_700_000_000u64,
        "chat": {"id": -1_001_000_000_000i64, "type": "supergroup", "title": "bench"},
        "from": {"id": 10_000, "is_bot": false, "first_name": "U"},
        "text": "buy cheap spam now"}});
    c.bench_function(
        "update through the host (JSON → Rhai → handler → builtin → JSON)",
        |b| {
            b.iter(|| {
                handle_update(
                    &runner,
                    &effects,
                    &scenarios,
                    black_box(&update),
                    None,
                    &Default::default(),
                )
            })
        },
    );
    assert!(
        answering.calls.load(Ordering::Relaxed) > 0,
        "the handler reached the Bot API"
    );
}

criterion_group!(benches, overhead);
criterion_main!(benches);
