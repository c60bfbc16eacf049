//! Many bots in one process, measured side by side in one run against the local Bot API
//! server (real HTTP both ways; the server accepts any token):
//! - `BOTS` (default 1,000) webhook bots: host and worker RSS once all are started and idle,
//!   and updates/s when `UPDATES` (default 10,000) updates are posted to their webhooks spread
//!   over all of them, against one webhook bot's rate for the same updates (64 deliveries in
//!   flight, like Telegram's `max_connections` 40–100);
//! - `POLLING` (default 200) polling bots idle: CPU used over 10 s.
//!
//! `cargo bench --bench bots` (BOTS=… UPDATES=… POLLING=… to change the sizes).

#[path = "common/binary.rs"]
mod binary;

use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, World};

const CHATS: i64 = 50;
const IN_FLIGHT: usize = 64;
const SCRIPT: &str = "fn on_message(msg) { send_message(msg.chat.id, \"ok\"); }\n";

fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn server() -> BotApiServer {
    let mut world = World::new();
    for n in 0..CHATS {
        world.add_chat(-1_002_000_000_000 - n, ChatKind::Supergroup, "bench");
    }
    BotApiServer::start(world, None).expect("start the local Bot API server")
}

/// `tgscript run` with `bots` bots of `mode` in `dir`, against `server`.
fn start(dir: &Path, server: &BotApiServer, bots: usize, mode: &str, port: u16) -> Child {
    let mut config = format!(
        "[webhook]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\nmax_connections = 100\n"
    );
    for n in 0..bots {
        let folder = dir.join(format!("b{n}"));
        std::fs::create_dir_all(&folder).expect("bot folder");
        std::fs::write(folder.join("echo.rhai"), SCRIPT).expect("script");
        config += &format!(
            "\n[[bot]]\nid = \"b{n}\"\ntoken_env = \"TOKEN_{n}\"\nscripts = \"b{n}\"\nmode = \"{mode}\"\napi_url = \"{}\"\n",
            server.url()
        );
    }
    std::fs::write(dir.join("tgscript.toml"), config).expect("config");
    let mut command = Command::new(binary::tgscript());
    command
        .arg("run")
        .current_dir(dir)
        .env("TGSCRIPT_DATA_DIR", dir.join(".data"))
        .env("TGSCRIPT_LOG", "warn")
        // The host's own speed, like the plain teloxide bot: no flood-control pacing.
        .env("TGSCRIPT_FLOOD_ENABLED", "false")
        .env_remove("TELOXIDE_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for n in 0..bots {
        command.env(
            format!("TOKEN_{n}"),
            format!("{}:AAbenchTokenForManyBots{n}", 100 + n),
        );
    }
    command.spawn().expect("start tgscript run")
}

fn wait_calls(server: &BotApiServer, method: &str, n: usize, within: Duration) {
    server
        .wait_for(within, |calls| {
            calls.iter().filter(|c| c.method == method).count() >= n
        })
        .unwrap_or_else(|calls| {
            let got = calls.iter().filter(|c| c.method == method).count();
            panic!("{got} of {n} {method} calls")
        });
}

/// `(pid, ppid, resident KiB, CPU ticks)` of every process.
fn processes() -> Vec<(u32, u32, u64, u64)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split(' ').collect();
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let ppid = num(1) as u32;
        let ticks = num(11) + num(12);
        let rss_pages = num(21);
        all.push((pid, ppid, rss_pages * 4, ticks));
    }
    all
}

/// Resident MiB of the host `pid` and of its workers together, and their CPU ticks.
fn usage(pid: u32) -> (f64, f64, u64) {
    let all = processes();
    let host = all.iter().find(|p| p.0 == pid).copied().unwrap_or_default();
    let workers: Vec<_> = all.iter().filter(|p| p.1 == pid).collect();
    (
        host.2 as f64 / 1024.0,
        workers.iter().map(|p| p.2).sum::<u64>() as f64 / 1024.0,
        host.3 + workers.iter().map(|p| p.3).sum::<u64>(),
    )
}

/// Every webhook set so far: `(url, secret)` in the order the bots were set.
fn webhooks(server: &BotApiServer) -> Vec<(String, String)> {
    server
        .calls_of("setWebhook")
        .iter()
        .map(|c| {
            (
                c.params["url"].as_str().unwrap_or_default().to_string(),
                c.params["secret_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// Post `updates` updates spread over `hooks` and wait for every answer; updates/s.
fn deliver(server: &BotApiServer, hooks: &[(String, String)], updates: usize) -> f64 {
    let before = server.calls_of("sendMessage").len();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let mut posts = Vec::with_capacity(updates);
        for n in 0..updates {
            let (url, secret) = hooks[n % hooks.len()].clone();
            let update = json!({"update_id": n + 1, "message": {
                "message_id": n + 1, "date": 0, "text": "hi",
                "chat": {"id": -1_002_000_000_000 - (n as i64 % CHATS), "type": "supergroup", "title": "bench"},
                "from": {"id": 10 + n % 97, "is_bot": false, "first_name": "u"}}});
            let (client, slot) = (client.clone(), slots.clone().acquire_owned().await);
            posts.push(tokio::spawn(async move {
                let _slot = slot;
                let sent = client
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", secret)
                    .json(&update)
                    .send()
                    .await;
                assert!(sent.is_ok_and(|r| r.status().is_success()), "a delivery failed");
            }));
        }
        for post in posts {
            post.await.expect("delivery task");
        }
    });
    wait_calls(
        server,
        "sendMessage",
        before + updates,
        Duration::from_secs(600),
    );
    updates as f64 / started.elapsed().as_secs_f64()
}

fn stop(mut child: Child) {
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

fn webhook_bots(bots: usize, updates: usize) -> (f64, f64, f64, Duration) {
    let server = server();
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let child = start(dir.path(), &server, bots, "webhook", free_port());
    wait_calls(&server, "setWebhook", bots, Duration::from_secs(600));
    let start_time = started.elapsed();
    std::thread::sleep(Duration::from_secs(3));
    let (host, workers, _) = usage(child.id());
    let rate = deliver(&server, &webhooks(&server), updates);
    stop(child);
    (host, workers, rate, start_time)
}

fn main() {
    let (bots, updates, polling) = (
        size("BOTS", 1000),
        size("UPDATES", 10_000),
        size("POLLING", 200),
    );
    let (one_host, one_workers, one_rate, _) = webhook_bots(1, updates);
    let (host, workers, rate, took) = webhook_bots(bots, updates);
    println!(
        "{bots} webhook bots: started in {:.1} s; idle RSS host {host:.1} MiB, workers {workers:.1} MiB (1 bot: host {one_host:.1} MiB, workers {one_workers:.1} MiB)",
        took.as_secs_f64()
    );
    println!(
        "{updates} updates: {rate:.0}/s over {bots} bots vs {one_rate:.0}/s to 1 bot ({:.2}×)",
        rate / one_rate
    );

    let server = server();
    let dir = tempfile::tempdir().expect("temp dir");
    let child = start(dir.path(), &server, polling, "polling", free_port());
    wait_calls(&server, "getWebhookInfo", polling, Duration::from_secs(600));
    std::thread::sleep(Duration::from_secs(3));
    let (host, workers, before) = usage(child.id());
    std::thread::sleep(Duration::from_secs(10));
    let (_, _, after) = usage(child.id());
    stop(child);
    let cpu = (after - before) as f64 / 10.0;
    println!(
        "{polling} polling bots idle: CPU {cpu:.1}% of one core over 10 s; RSS host {host:.1} MiB, workers {workers:.1} MiB"
    );
}
