//! A cluster against one process, side by side in one run, on real servers (Debian's
//! `nats-server` and a throwaway PostgreSQL, both started here):
//! - updates/s of `BOTS` (default 12) polling bots, each with a local Bot API server of its
//!   own holding `UPDATES` (default 3,000) messages spread over them, served by one instance
//!   and by three instances of one cluster (the same store, inbox on), two rounds each;
//! - failover time in the three-instance rounds: `kill -9` of the instance owning the first
//!   bot, then the time until every bot it owned has answered a new message from its new
//!   owner (`KILLS`, default 3, per round; the instance is started again after each).
//!
//! `cargo bench --bench cluster` (BOTS=… UPDATES=… KILLS=… LEASE_MS=… to change the sizes).

// Shared with the tests, which use all of it.
#[allow(dead_code)]
#[path = "../tests/support/nats.rs"]
mod nats;
#[path = "../tests/support/postgres.rs"]
mod pg;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tgscript::cluster::assign;
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, Recorded, World};

const CHATS: i64 = 10;
const USER: i64 = 1001;
const WAIT: Duration = Duration::from_secs(300);
const SCRIPT: &str = "fn on_message(msg) { send_message(msg.chat.id, msg.text); }\n";

fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn token(n: usize) -> String {
    format!("{}:AAbenchTokenForTheCluster{n}", 200 + n)
}

fn chat(n: i64) -> i64 {
    -1_002_000_000_000 - n
}

/// Bot `n`'s local Bot API server.
fn server(n: usize) -> BotApiServer {
    let mut world = World::empty();
    world.add_user(USER, "Alice");
    for c in 0..CHATS {
        world.add_chat(chat(c), ChatKind::Supergroup, "bench");
    }
    BotApiServer::start(world, Some(&token(n))).expect("a local Bot API server")
}

fn sends(calls: &[Recorded]) -> usize {
    calls.iter().filter(|c| c.method == "sendMessage").count()
}

/// One `tgscript run`, its stderr gathered as it comes.
struct Instance {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Instance {
    fn start(dir: &Path, name: &str, env: &[(String, String)]) -> Instance {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tgscript"))
            .arg("run")
            .current_dir(dir)
            .env("TGSCRIPT_DATA_DIR", dir.join(format!(".data-{name}")))
            .env("TGSCRIPT_LOG", "info")
            .env("TGSCRIPT_FLOOD_ENABLED", "false")
            .env("TGSCRIPT_CLUSTER_INSTANCE", name)
            .env_remove("TELOXIDE_TOKEN")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tgscript run");
        let log = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        Instance { child, log }
    }

    /// Wait until stderr holds `needle` `count` times.
    fn wait_log(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + WAIT;
        loop {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if log.matches(needle).count() >= count {
                return;
            }
            assert!(Instant::now() < deadline, "never {needle:?}:\n{log}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop(mut self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The config of `bots` polling bots, written into `dir`; the variables every instance gets.
fn setup(
    dir: &Path,
    servers: &[BotApiServer],
    store: &str,
    lease_ms: usize,
) -> Vec<(String, String)> {
    let mut config = format!("[cluster]\nlease_ms = {lease_ms}\nkey_env = \"CLUSTER_KEY\"\n");
    let mut env = vec![
        ("TGSCRIPT_STORE_URL".to_string(), store.to_string()),
        // The key every instance seals its messages with.
        (
            "CLUSTER_KEY".to_string(),
            "a-cluster-key-of-the-bench-0123456789abcdef".to_string(),
        ),
    ];
    for (n, server) in servers.iter().enumerate() {
        let folder = dir.join(format!("b{n}"));
        std::fs::create_dir_all(&folder).expect("bot folder");
        std::fs::write(folder.join("echo.rhai"), SCRIPT).expect("script");
        config += &format!(
            "\n[[bot]]\nid = \"b{n}\"\ntoken_env = \"TOKEN_{n}\"\nscripts = \"b{n}\"\napi_url = \"{}\"\n",
            server.url()
        );
        env.push((format!("TOKEN_{n}"), token(n)));
    }
    std::fs::write(dir.join("tgscript.toml"), config).expect("config");
    env
}

/// Queue `per_bot` messages for every bot, spread over its chats.
fn queue(servers: &[BotApiServer], per_bot: usize) {
    for server in servers {
        server.world(|w| {
            for i in 0..per_bot {
                w.user_message(chat(i as i64 % CHATS), USER, &format!("m{i}"), None);
            }
        });
    }
}

/// Wait until every server has seen `each` more sends than in `before`.
fn wait_sends(servers: &[BotApiServer], before: &[usize], each: usize) {
    for (server, before) in servers.iter().zip(before) {
        server
            .wait_for(WAIT, |calls| sends(calls) >= before + each)
            .unwrap_or_else(|calls| panic!("{} of {each} sends", sends(&calls) - before));
    }
}

fn counts(servers: &[BotApiServer]) -> Vec<usize> {
    servers.iter().map(|s| sends(&s.calls())).collect()
}

/// One round with `names` instances: updates/s, and the failover times when there are many.
fn round(names: &[&str], bots: usize, updates: usize, kills: usize) -> (f64, Vec<Duration>) {
    let nats = nats::Nats::start();
    let store = pg::database_url();
    let dir = tempfile::tempdir().expect("a folder");
    let servers: Vec<BotApiServer> = (0..bots).map(server).collect();
    let mut env = setup(dir.path(), &servers, &store, size("LEASE_MS", 2000));
    env.push(("TGSCRIPT_CLUSTER_NATS_URL".into(), nats.url()));
    let all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let owner_of = |bot: usize| assign::owner(&format!("b{bot}"), &all).unwrap_or_default();
    let mut running: BTreeMap<&str, Instance> = names
        .iter()
        .map(|n| (*n, Instance::start(dir.path(), n, &env)))
        .collect();
    for bot in 0..bots {
        let owner = owner_of(bot);
        running[owner].wait_log(&format!("bot b{bot}: running on instance {owner}"), 1);
    }
    let per_bot = updates / bots;
    let before = counts(&servers);
    let started = Instant::now();
    queue(&servers, per_bot);
    wait_sends(&servers, &before, per_bot);
    let rate = (per_bot * bots) as f64 / started.elapsed().as_secs_f64();

    let mut failovers = Vec::new();
    let kills = if names.len() > 1 { kills } else { 0 };
    for kill in 0..kills {
        let victim = owner_of(0);
        let moved: Vec<usize> = (0..bots).filter(|b| owner_of(*b) == victim).collect();
        running.remove(victim).expect("the victim").stop("-KILL");
        let killed_at = Instant::now();
        let moved_servers: Vec<&BotApiServer> = moved.iter().map(|b| &servers[*b]).collect();
        let before: Vec<usize> = moved_servers.iter().map(|s| sends(&s.calls())).collect();
        for server in &moved_servers {
            server.world(|w| w.user_message(chat(0), USER, "after the kill", None));
        }
        for (server, before) in moved_servers.iter().zip(&before) {
            server
                .wait_for(WAIT, |calls| sends(calls) > *before)
                .unwrap_or_else(|_| panic!("kill {kill}: never taken over"));
        }
        failovers.push(killed_at.elapsed());
        // The victim comes back and takes its bots again.
        let name = names.iter().find(|n| **n == victim).expect("a name");
        let back = Instance::start(dir.path(), name, &env);
        for bot in &moved {
            back.wait_log(&format!("bot b{bot}: running on instance {victim}"), 1);
        }
        running.insert(name, back);
    }
    for (_, instance) in running {
        instance.stop("-INT");
    }
    (rate, failovers)
}

/// The median (of an even count: the mean of the two middle values).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n % 2 {
        0 => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        _ => values[n / 2],
    }
}

fn main() {
    let (bots, updates, kills) = (size("BOTS", 12), size("UPDATES", 3000), size("KILLS", 3));
    println!("cluster: {bots} polling bots, {updates} updates, PostgreSQL store, inbox on");
    let (mut one, mut three, mut failovers) = (Vec::new(), Vec::new(), Vec::new());
    for r in 1..=2 {
        let (rate, _) = round(&["solo"], bots, updates, 0);
        println!("round {r}: 1 instance   {rate:>8.0} updates/s");
        one.push(rate);
        let (rate, mut times) = round(&["a", "b", "c"], bots, updates, kills);
        println!("round {r}: 3 instances  {rate:>8.0} updates/s; failovers {times:?}");
        three.push(rate);
        failovers.append(&mut times);
    }
    let (one, three) = (median(&mut one), median(&mut three));
    println!(
        "median: 1 instance {one:.0}/s, 3 instances {three:.0}/s: {:.2}x",
        three / one
    );
    if !failovers.is_empty() {
        let mut seconds: Vec<f64> = failovers.iter().map(Duration::as_secs_f64).collect();
        let max = seconds.iter().copied().fold(0.0, f64::max);
        println!(
            "failover (kill -9 → every moved bot answered by its new owner), {} kills: median {:.2} s, max {max:.2} s",
            seconds.len(),
            median(&mut seconds)
        );
    }
}
