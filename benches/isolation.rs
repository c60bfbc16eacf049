//! Isolation benchmark: what running a handler in a worker process costs over running it in
//! this process. The same scenario (`on_message` reads and writes chat state, so each call
//! makes two effect round trips) is called through `Runner::Inline` and `Runner::Process`
//! (the real `tgscript worker` binary, one worker) in alternating rounds, side by side; the
//! median per-call time of each and their difference are printed.
//!
//!   cargo bench --bench isolation

#[path = "common/handler_calls.rs"]
mod handler_calls;

use handler_calls::{SCENARIO, median, micros_per_call};
use std::sync::Arc;
use tgscript::builtins::offline_engine;
use tgscript::effects::Effects;
use tgscript::engine::Limits;
use tgscript::host::Host;
use tgscript::scenario::runner::Runner;
use tgscript::scenario::runner::pool::{PoolSettings, WorkerPool};

const CALLS: usize = 2000;
const ROUNDS: usize = 7;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("count.rhai");
    std::fs::write(&path, SCENARIO).expect("scenario");
    let effects: Arc<dyn Effects> = Arc::new(Host::offline());
    let inline = Runner::Inline(Arc::new(offline_engine(Limits::default(), dir.path())));
    let pool = Arc::new(WorkerPool::new(PoolSettings {
        user: tgscript::scenario::runner::confine::worker_user(None)
            .expect("the default worker user"),
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
        inline_us.push(micros_per_call(&inline, CALLS, |_| (&here, &effects)));
        process_us.push(micros_per_call(&process, CALLS, |_| (&there, &effects)));
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
