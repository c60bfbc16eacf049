//! Gateway benchmark: `tgscript serve` (release binary) against sandbox accounts; 10 clients,
//! each sending 1,000 requests one after another over its WebSocket. Reports requests per
//! second and the median / p99 round-trip latency.
//!
//!   cargo bench --bench gateway   (BENCH_TGSCRIPT=<another build> to measure that one)

#[path = "common/binary.rs"]
mod binary;

use futures::{SinkExt, StreamExt};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 10;
const REQUESTS: usize = 1000;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("tgscript.toml"),
        "default_account = 1\n[[account]]\nid = 1\nbackend = \"sandbox\"\n[[account]]\nid = 2\nbackend = \"sandbox\"\n",
    )
    .expect("config");
    let mut child = Command::new(binary::tgscript())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("TGSCRIPT_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tgscript serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("a log line").expect("readable");
        if let Some(rest) = line.split("gateway listening on http://").nth(1) {
            break rest.split_whitespace().next().expect("address").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (elapsed, mut latencies) = runtime.block_on(async {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let addr = addr.clone();
            tasks.push(tokio::spawn(async move {
                let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.expect("connect");
                let mut latencies = Vec::with_capacity(REQUESTS);
                for r in 0..REQUESTS {
                    let request = json!({"action": "get_blocked_users", "userbot_id": 1 + (c % 2), "request_id": r});
                    let sent = Instant::now();
                    ws.send(Message::Text(request.to_string().into())).await.expect("send");
                    loop {
                        if let Message::Text(_) = ws.next().await.expect("open").expect("frame") {
                            break;
                        }
                    }
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("client"));
        }
        (started.elapsed(), all)
    });
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| latencies[((p / 100.0) * (latencies.len() - 1) as f64).round() as usize];
    println!(
        "gateway: {} clients x {} requests = {} in {:.2} s: {:.0} requests/s; latency median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        CLIENTS,
        REQUESTS,
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(50.0),
        at(99.0),
        latencies[latencies.len() - 1]
    );
}
