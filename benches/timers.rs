//! Timers benchmark: what 10,000 pending jobs cost a bot, and how punctually a job fires.
//! `tgscript run` (release binary) against the local Bot API server, with a database holding
//! no jobs and one holding 10,000 jobs due in an hour, in alternation (3 rounds each, side by
//! side):
//! - start-up: from spawning the process until it asks `getWebhookInfo`, right before it polls;
//! - idle CPU: user + system CPU time of the process (and its workers) over 10 s doing nothing;
//! - lateness: 20 jobs scheduled 1 s ahead, one after another, each sending its due time in
//!   ms; lateness is when the server received that message minus the due time (so it includes
//!   the run and the HTTP request).
//!
//!   cargo bench --bench timers

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, World};

const TOKEN: &str = "123456789:AAHbenchTokenForTheTimersBenchmark_xy";
const CHAT: i64 = -1_004_000_000_001;
const USER: i64 = 1001;
const PENDING: usize = 10_000;
const ROUNDS: usize = 3;
const IDLE: Duration = Duration::from_secs(10);
const PROBES: usize = 20;

const SCENARIO: &str = r#"
fn on_message(msg) {
    schedule(1, "probe", ());
}
fn probe(data) {
    send_message(-1004000000001, `${current_job().due_at_ms}`);
}
fn pending(data) { }
"#;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A data dir whose database holds `jobs` jobs of `bench.rhai`, due in an hour.
fn data_dir(dir: &Path, jobs: usize) {
    let path = dir.join(".data").join("state.db");
    drop(tgscript::store::Store::open(&path).expect("create the database"));
    let mut db = rusqlite::Connection::open(&path).expect("open the database");
    let tx = db.transaction().expect("transaction");
    let due = now_ms() + 3_600_000;
    for n in 0..jobs {
        tx.execute(
            "INSERT INTO jobs (bot, scenario, kind, function, data, chat_id, user_id, due_at, created_at)
             VALUES ('default', 'bench', 'job', 'pending', ?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![n.to_string(), CHAT, USER, due + n as i64, now_ms()],
        )
        .expect("insert a job");
    }
    tx.commit().expect("commit");
}

fn spawn(dir: &Path, server: &BotApiServer) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tgscript"))
        .args(["run", "scripts"])
        .current_dir(dir)
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", server.url())
        .env("TGSCRIPT_DATA_DIR", dir.join(".data"))
        .env("TGSCRIPT_LOG", "warn")
        // The host's own speed, like the plain teloxide bot: no flood-control pacing.
        .env("TGSCRIPT_FLOOD_ENABLED", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tgscript run")
}

/// CPU time (user + system, ms) of `pid` and its children so far, from /proc.
fn cpu_ms(pid: u32) -> f64 {
    let ticks = |pid: &str| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        // utime, stime, cutime, cstime are fields 14–17 (11–14 after the name).
        fields
            .get(11..15)
            .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
    };
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    let total = ticks(&pid.to_string()) + children.split_whitespace().map(ticks).sum::<u64>();
    total as f64 * 10.0 // 100 ticks per second
}

struct Round {
    start_ms: f64,
    idle_cpu_ms: f64,
    lateness_ms: Vec<f64>,
}

fn round(jobs: usize) -> Round {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("scripts")).expect("scripts");
    std::fs::write(dir.path().join("scripts/bench.rhai"), SCENARIO).expect("scenario");
    data_dir(dir.path(), jobs);
    let mut world = World::empty();
    world.add_user(USER, "Alice");
    world.add_chat(CHAT, ChatKind::Supergroup, "bench");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("server");
    let started = Instant::now();
    let mut child = spawn(dir.path(), &server);
    server
        .wait_for(Duration::from_secs(60), |calls| {
            calls
                .iter()
                .any(|c| c.method.eq_ignore_ascii_case("getWebhookInfo"))
        })
        .expect("tgscript starts polling");
    let start_ms = started.elapsed().as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ms(child.id());
    std::thread::sleep(IDLE);
    let idle_cpu_ms = cpu_ms(child.id()) - before;
    let mut lateness_ms = Vec::new();
    for n in 0..PROBES {
        server.world(|w| w.user_message(CHAT, USER, "probe", None));
        let arrived = server
            .wait_for(Duration::from_secs(30), |calls| {
                calls
                    .iter()
                    .filter(|c| c.method.eq_ignore_ascii_case("sendMessage"))
                    .count()
                    > n
            })
            .expect("the probe fires");
        let at = now_ms();
        let sent = arrived
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case("sendMessage"))
            .nth(n)
            .and_then(|c| c.params["text"].as_str()?.parse::<i64>().ok())
            .expect("the probe's due time");
        lateness_ms.push((at - sent) as f64);
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    Round {
        start_ms,
        idle_cpu_ms,
        lateness_ms,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let mut results: Vec<(usize, Vec<Round>)> = vec![(0, Vec::new()), (PENDING, Vec::new())];
    for n in 0..ROUNDS {
        for (jobs, rounds) in &mut results {
            let r = round(*jobs);
            eprintln!(
                "round {}: {jobs} pending jobs: start {:.0} ms, idle CPU {:.0} ms / {} s, lateness median {:.0} ms",
                n + 1,
                r.start_ms,
                r.idle_cpu_ms,
                IDLE.as_secs(),
                median(r.lateness_ms.clone())
            );
            rounds.push(r);
        }
    }
    println!(
        "| pending jobs | start-up (until polling) | idle CPU over {} s | job lateness (median / max of {}) |",
        IDLE.as_secs(),
        PROBES * ROUNDS
    );
    println!("|---|---|---|---|");
    for (jobs, rounds) in &results {
        let late: Vec<f64> = rounds.iter().flat_map(|r| r.lateness_ms.clone()).collect();
        let max = late.iter().copied().fold(0.0, f64::max);
        println!(
            "| {jobs} | {:.0} ms | {:.0} ms | {:.0} ms / {:.0} ms |",
            median(rounds.iter().map(|r| r.start_ms).collect()),
            median(rounds.iter().map(|r| r.idle_cpu_ms).collect()),
            median(late),
            max
        );
    }
}
