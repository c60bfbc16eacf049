//! Isolation benchmark: what running a handler in a worker process costs over running it in
//! this process. The same scenario (`on_message` reads and writes chat state, so each call
//! makes two effect round trips) is called through `Runner::Inline` and `Runner::Process`
//! (the real `tgscript worker` binary, one worker) in alternating rounds, side by side; the
//! median per-call time of each and their difference are printed.
//!
//!   cargo bench --bench isolation

use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tgscript::builtins::offline_engine;
use tgscript::effects::Effects;
use tgscript::engine::Limits;
use tgscript::host::Host;
use tgscript::scenario::Handler;
use tgscript::scenario::runner::Runner;
use tgscript::scenario::runner::pool::{PoolSettings, WorkerPool};
use tgscript::telegram::UpdateContext;

const CALLS: usize = 2000;
const ROUNDS: usize = 7;
const SCENARIO: &str =
    "fn on_message(msg) {\n    let n = (chat_get(\"n\") ?? 0) + 1;\n    chat_set(\"n\", n);\n}\n";

/// Microseconds per call of `CALLS` handler calls through `runner`.
fn round(
    runner: &Runner,
    scenario: &tgscript::scenario::Scenario,
    effects: &Arc<dyn Effects>,
) -> f64 {
    let update = Arc::new(UpdateContext {
        update_id: 1,
        chat_id: Some(-100),
        user_id: Some(1001),
        message_id: Some(1),
        callback_query_id: None,
        job: None,
    });
    let message =
        json!({"message_id": 1, "chat": {"id": -100}, "from": {"id": 1001}, "text": "hi"});
    let started = Instant::now();
    for _ in 0..CALLS {
        runner
            .call(
                scenario,
                Handler::OnMessage.name(),
                vec![message.clone()],
                effects.clone(),
                Some(update.clone()),
            )
            .expect("the handler runs");
    }
    started.elapsed().as_secs_f64() * 1e6 / CALLS as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("count.rhai");
    std::fs::write(&path, SCENARIO).expect("scenario");
    let effects: Arc<dyn Effects> = Arc::new(Host::offline());
    let inline = Runner::Inline(Arc::new(offline_engine(Limits::default(), dir.path())));
    let pool = Arc::new(WorkerPool::new(PoolSettings {
        exe: env!("CARGO_BIN_EXE_tgscript").into(),
        workers: 1,
        tenant_workers: 1,
        memory_mb: 256,
        max_calls: 0,
        limits: Limits::default(),
    }));
    let process = Runner::Process {
        pool,
        root: dir.path().to_path_buf(),
    };
    let here = inline.load(&path, "", &effects).expect("loads inline");
    let there = process
        .load(&path, "", &effects)
        .expect("loads in a worker");
    let (mut inline_us, mut process_us) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        inline_us.push(round(&inline, &here, &effects));
        process_us.push(round(&process, &there, &effects));
    }
    let (a, b) = (median(inline_us), median(process_us));
    println!(
        "isolation benchmark: {CALLS} handler calls (2 state effects each), median of {ROUNDS} rounds, alternating"
    );
    println!(
        "inline {a:.1} µs/call ({:.0} calls/s) | process {b:.1} µs/call ({:.0} calls/s) | isolation costs {:.1} µs/call ({:.2}x)",
        1e6 / a,
        1e6 / b,
        b - a,
        b / a
    );
}
