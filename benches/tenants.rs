//! Tenants benchmark: what workers that belong to one tenant at a time cost against a pool
//! shared by every call. The same scenario (`on_message` reads and writes chat state: two
//! effect round trips) is called through one pool of four real `tgscript worker`s by the
//! bots of 1 tenant (what the shared pool did for every call), and of 100 and of 1,000
//! tenants taken in turn (each call meets workers of other tenants, so one is replaced),
//! in alternating rounds, side by side; the median per-call time of each is printed.
//!
//!   cargo bench --bench tenants

#[path = "common/handler_calls.rs"]
mod handler_calls;

use handler_calls::{SCENARIO, median, micros_per_call};
use std::sync::Arc;
use tgscript::accounts::Accounts;
use tgscript::effects::Effects;
use tgscript::engine::Limits;
use tgscript::host::Host;
use tgscript::scenario::Scenario;
use tgscript::scenario::runner::Runner;
use tgscript::scenario::runner::pool::{PoolSettings, WorkerPool};
use tgscript::telegram::BotClient;

const CALLS: usize = 400;
const ROUNDS: usize = 3;
const WORKERS: usize = 4;

/// One tenant's bot: its effects and its scenario in its namespace.
struct Tenant {
    effects: Arc<dyn Effects>,
    scenario: Scenario,
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("count.rhai");
    std::fs::write(&path, SCENARIO).expect("scenario");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Never called: the scenario makes no Bot API call.
    let bot = BotClient::new("1:unused", Some("http://127.0.0.1:9")).expect("client");
    let host = Host::new(
        None,
        Accounts::default(),
        Arc::default(),
        runtime.handle().clone(),
    );
    let pool = Arc::new(WorkerPool::new(PoolSettings {
        user: tgscript::scenario::runner::confine::worker_user(None)
            .expect("the default worker user"),
        exe: env!("CARGO_BIN_EXE_tgscript").into(),
        workers: WORKERS,
        tenant_workers: WORKERS,
        memory_mb: 256,
        max_calls: 0,
        limits: Limits::default(),
    }));
    let runner = Runner::Process {
        pool,
        root: dir.path().to_path_buf(),
    };
    let tenants = |count: usize| -> Vec<Tenant> {
        (0..count)
            .map(|n| {
                let id = format!("bot{n}");
                let effects: Arc<dyn Effects> =
                    Arc::new(host.for_bot(bot.clone(), &id, &format!("tenant{n}")));
                let scenario = runner
                    .load(&path, &format!("{id}/"), &effects)
                    .expect("loads in a worker");
                Tenant { effects, scenario }
            })
            .collect()
    };
    let sets = [(1, tenants(1)), (100, tenants(100)), (1000, tenants(1000))];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); sets.len()];
    for _ in 0..ROUNDS {
        for (n, (_, set)) in sets.iter().enumerate() {
            times[n].push(micros_per_call(&runner, CALLS, |call| {
                let tenant = &set[call % set.len()];
                (&tenant.scenario, &tenant.effects)
            }));
        }
    }
    println!(
        "tenants benchmark: {CALLS} handler calls (2 state effects each) through {WORKERS} workers, median of {ROUNDS} rounds, alternating"
    );
    let shared = median(times[0].clone());
    for (n, (count, _)) in sets.iter().enumerate() {
        let us = median(times[n].clone());
        println!(
            "{count:>5} tenant(s) in turn: {us:>8.1} µs/call ({:>6.0} calls/s, {:.2}x the shared pool)",
            1e6 / us,
            us / shared
        );
    }
}
