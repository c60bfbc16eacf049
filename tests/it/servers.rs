//! Servers no client can exhaust, through the real binary: the gateway and the webhook
//! listener keep answering under silent connections, WebSockets are counted, closed and
//! released, clients that never read cost the host little, and the webhook listener tells
//! nothing about which bots exist and logs refusals in one line per interval.

use crate::bots::{self, free_port, server, update};
use crate::gateway::{WAIT, connect, runtime, serve};
use crate::util::TestDir;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// The gateway's connection cap (`src/gateway`), and the webhook listener's.
const GATEWAY_CAP: usize = 512;
const WEBHOOK_CAP: usize = 1024;

/// Held by each flooding test here while it runs: one at a time, since together their
/// hundreds of connections starve a 2-core machine and the timing-bound tests of other
/// modules (the cluster's failovers) that run beside them.
static ONE_FLOOD_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Wait for this module's other floods to end, then raise this test process's soft limit of
/// open files to its hard limit (the tests here hold more sockets than a default 1,024).
fn enough_files(needed: u64) -> std::sync::MutexGuard<'static, ()> {
    let turn = ONE_FLOOD_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a live, writable rlimit for the kernel to fill in.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: the limits just read, the soft one raised to the hard one.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
    assert!(
        limit.rlim_cur >= needed,
        "these tests need {needed} open files; the hard limit is {}",
        limit.rlim_cur
    );
    turn
}

/// `count` connections to `addr` that never send a byte.
fn silent(addr: &str, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|i| TcpStream::connect(addr).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect()
}

/// A field of `/proc/PID/status`, in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

/// The process's open file descriptors.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd folder")
        .count()
}

/// Wait for `stream` to be closed by the server (end of file or reset); panics after `wait`.
fn closed_by_server(stream: &mut TcpStream, wait: Duration) {
    stream.set_read_timeout(Some(wait)).expect("read timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("the connection was not closed by the server: {other:?}"),
    }
}

#[test]
fn silent_connections_past_the_cap_do_not_keep_a_gateway_request_waiting() {
    let _turn = enough_files(4_096);
    let served = serve("", &[]);
    let mut quiet = silent(&served.addr, GATEWAY_CAP + 88);
    // The server holds them all (the last one accepted) before the request is made.
    let health = format!("http://{}/health", served.addr);
    assert_eq!(bots::get(&health).0, 200);
    let started = Instant::now();
    let answer = runtime().block_on(async {
        reqwest::Client::new()
            .post(format!("http://{}/command", served.addr))
            .header("content-type", "application/json")
            .body(json!({"action": "run_script", "script": "1 + 1"}).to_string())
            .send()
            .await
            .expect("POST")
            .text()
            .await
            .expect("answer")
    });
    let took = started.elapsed();
    eprintln!(
        "{} silent gateway connections: a request answered in {took:?}",
        quiet.len()
    );
    assert!(answer.contains(r#""value":2"#), "{answer}");
    assert!(
        took < Duration::from_secs(1),
        "answered in {took:?} with {} silent connections open",
        quiet.len()
    );
    // A connection that sends nothing is closed at the header timeout counted from its
    // accept (10 s), not kept.
    let last = quiet.last_mut().expect("a connection");
    closed_by_server(last, Duration::from_secs(30));
}

/// `tgscript run` with one webhook bot, `hook`, on its local Bot API server.
struct Hook {
    hook: tgscript::sandbox::BotApiServer,
    run: crate::util::Background,
    /// The webhook listener's port.
    port: u16,
    /// Where the bot's updates are posted, and with which secret.
    url: String,
    secret: String,
    _dir: TestDir,
}

fn hook() -> Hook {
    let hook = server("hook");
    let dir = TestDir::new();
    let port = free_port();
    bots::config_with(&dir, port, &[("hook", "webhook", &hook)], "");
    let run = bots::start(&dir, &["hook"]);
    let (url, secret) = bots::webhook(&hook, 1);
    Hook {
        hook,
        run,
        port,
        url,
        secret,
        _dir: dir,
    }
}

#[test]
fn silent_connections_past_the_cap_do_not_keep_a_webhook_delivery_waiting() {
    let _turn = enough_files(4_096);
    let Hook {
        hook,
        run,
        port,
        url,
        secret,
        _dir,
    } = hook();
    let _quiet = silent(&format!("127.0.0.1:{port}"), WEBHOOK_CAP + 76);
    let body = update(&hook, 1, "through").to_string();
    let started = Instant::now();
    let status = bots::post(&url, Some(&secret), &body);
    let took = started.elapsed();
    eprintln!("1,100 silent webhook connections: a delivery answered in {took:?}");
    assert_eq!(status, 200);
    assert!(
        took < Duration::from_secs(1),
        "delivered in {took:?} with 1,100 silent connections open"
    );
    drop(run);
}

#[test]
fn websockets_closed_by_their_clients_are_answered_and_leave_nothing_behind() {
    let _turn = enough_files(4_096);
    let served = serve("", &[]);
    let pid = served.bot.pid();
    let cycle = |rounds: usize| {
        runtime().block_on(async {
            for i in 0..rounds {
                let mut ws = connect(&served.addr, None).await.expect("connect");
                ws.send(Message::Close(None)).await.expect("send Close");
                // The server answers the Close, then ends the connection.
                let answer = tokio::time::timeout(WAIT, ws.next()).await;
                assert!(
                    matches!(answer, Ok(Some(Ok(Message::Close(_))))),
                    "cycle {i}: the Close was answered with {answer:?}"
                );
                let end = tokio::time::timeout(WAIT, ws.next()).await;
                assert!(
                    matches!(end, Ok(None) | Ok(Some(Err(_)))),
                    "cycle {i}: {end:?}"
                );
            }
        });
    };
    // Settled: what the process holds once the connections of a round are gone.
    let settled = |most_fds: usize| {
        let deadline = Instant::now() + WAIT;
        while fds(pid) > most_fds && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        (fds(pid), status_kb(pid, "VmRSS"))
    };
    cycle(500);
    let (fds_before, rss_before) = settled(usize::MAX);
    cycle(5_000);
    let (fds_after, rss_after) = settled(fds_before + 4);
    eprintln!(
        "5,000 WebSocket cycles: fds {fds_before} -> {fds_after}, VmRSS {rss_before} kB -> {rss_after} kB"
    );
    assert!(fds_after <= fds_before + 4, "{fds_before} -> {fds_after}");
    assert!(
        rss_after <= rss_before + 16 * 1024,
        "VmRSS {rss_before} kB -> {rss_after} kB"
    );
}

#[test]
fn websockets_hold_their_place_in_the_cap_for_their_whole_life() {
    let _turn = enough_files(4_096);
    let served = serve("", &[]);
    runtime().block_on(async {
        let mut open = Vec::new();
        for i in 0..GATEWAY_CAP {
            open.push(
                connect(&served.addr, None)
                    .await
                    .unwrap_or_else(|e| panic!("WebSocket {i}: {e}")),
            );
        }
        let mut next = Box::pin(connect(&served.addr, None));
        // Every place is a live WebSocket: one more waits, while the open ones are served.
        let answer = tokio::select! {
            answer = crate::gateway::ask(&mut open[0], json!({"action": "run_script", "script": "7"}).to_string()) => answer,
            connected = &mut next => panic!("a WebSocket past the cap was upgraded: {:?}", connected.map(|_| ())),
        };
        assert_eq!(answer["data"]["value"], 7, "{answer}");
        assert!(
            tokio::time::timeout(Duration::from_millis(500), &mut next)
                .await
                .is_err(),
            "a WebSocket past the cap was upgraded"
        );
        // One closes: its place goes to the one waiting.
        let mut first = open.swap_remove(0);
        first.close(None).await.expect("close");
        let mut last = tokio::time::timeout(WAIT, next)
            .await
            .expect("upgraded once a place freed")
            .expect("connected");
        let answer =
            crate::gateway::ask(&mut last, json!({"action": "run_script", "script": "8"}).to_string())
                .await;
        assert_eq!(answer["data"]["value"], 8, "{answer}");
    });
}

/// A request that makes a value of 40 keys of 1,000,000 bytes each: a 40 MB answer, were map
/// keys not counted toward `max_string_size`.
const FORTY_MB: &str =
    "let k = \"\"; k.pad(1000000, \"x\"); let m = #{}; for i in 0..40 { m[k + i] = i; } m";

#[test]
fn clients_that_never_read_big_answers_cost_the_host_little() {
    let _turn = enough_files(4_096);
    let served = serve("", &[]);
    let pid = served.bot.pid();
    let body = json!({"action": "run_script", "script": FORTY_MB}).to_string();
    let request = format!(
        "POST /command HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut clients: Vec<TcpStream> = (0..150)
        .map(|_| {
            let mut client = TcpStream::connect(&served.addr).expect("connect");
            client.write_all(request.as_bytes()).expect("send");
            client
        })
        .collect();
    // Every request answered (counted by the metrics), none read.
    let metrics = format!("http://{}/metrics", served.addr);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, text) = bots::get(&metrics);
        let errors = bots::sample(
            &text,
            "tgscript_gateway_requests_total",
            &[("action", "run_script"), ("outcome", "error")],
        );
        if errors.is_some_and(|n| n >= 150.0) {
            break;
        }
        assert!(Instant::now() < deadline, "not all answered: {errors:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let peak = status_kb(pid, "VmHWM");
    eprintln!("150 clients not reading 40 MB answers: host peak VmRSS {peak} kB");
    assert!(peak < 300 * 1024, "host peak VmRSS {peak} kB");
    // What they would have read: the limit that stopped the value.
    let mut answer = String::new();
    clients[0]
        .set_read_timeout(Some(WAIT))
        .expect("read timeout");
    let _ = clients[0].read_to_string(&mut answer);
    assert!(answer.contains("[limits] max_string_size"), "{answer}");
}

#[test]
fn an_answer_over_max_answer_size_is_refused_with_a_clear_error() {
    let served = serve("[gateway]\nmax_answer_size = 65536\n", &[]);
    runtime().block_on(async {
        let script = "let s = \"\"; s.pad(100000, \"y\"); s";
        let request = json!({"action": "run_script", "script": script, "request_id": "big"});
        let response = reqwest::Client::new()
            .post(format!("http://{}/command", served.addr))
            .header("content-type", "application/json")
            .body(request.to_string())
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status().as_u16(), 422);
        let event: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(event["event"], "run_script_error", "{event}");
        assert_eq!(event["request_id"], "big", "{event}");
        let error = event["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("[gateway] max_answer_size = 65536"),
            "{event}"
        );
        // The same over the WebSocket, which stays open.
        let mut ws = connect(&served.addr, None).await.expect("connect");
        let event = crate::gateway::ask(&mut ws, request.to_string()).await;
        assert_eq!(event["event"], "run_script_error", "{event}");
        let event = crate::gateway::ask(
            &mut ws,
            json!({"action": "run_script", "script": "3"}).to_string(),
        )
        .await;
        assert_eq!(event["data"]["value"], 3, "{event}");
    });
}

/// POST `body` to `url` with `secret`: the status and the body.
fn deliver(url: &str, secret: &str, body: &str) -> (u16, String) {
    runtime().block_on(async {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .body(body.to_string())
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    })
}

#[test]
fn the_webhook_listener_tells_no_bot_ids_refuses_negative_ids_and_sums_refusals_up() {
    let Hook {
        hook,
        run,
        url,
        secret,
        _dir,
        ..
    } = hook();
    let nobody = url.replace("/webhook/hook", "/webhook/nobody");
    let body = update(&hook, 1, "one").to_string();

    // An unknown bot id and a wrong secret get the same answer.
    let unknown = deliver(&nobody, &secret, &body);
    let wrong = deliver(&url, "wrong", &body);
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, wrong);
    // Past its allowance (60 a minute), a peer is told to slow down.
    let answers: Vec<u16> = (0..198)
        .map(|i| deliver(if i % 2 == 0 { &nobody } else { &url }, "wrong", &body).0)
        .collect();
    assert_eq!(
        answers.iter().filter(|s| **s == 401).count(),
        58,
        "{answers:?}"
    );
    assert!(answers[58..].iter().all(|s| *s == 429), "{answers:?}");

    // update_ids below 0 are the inbox's own (jobs, account events): refused.
    let negative = json!({"update_id": -5, "message": {"text": "x"}}).to_string();
    assert_eq!(deliver(&url, &secret, &negative).0, 400);
    // The right secret still gets through from the same address.
    assert_eq!(deliver(&url, &secret, &body).0, 200);

    // One line for the first refusal, one summary for the interval: 200 refused.
    run.wait_stderr(
        "200 unauthenticated webhook requests refused in the last 60 s",
        1,
        Duration::from_secs(90),
    );
    let log = run.stderr_so_far();
    let lines = log
        .lines()
        .filter(|l| l.contains("webhook request"))
        .count();
    assert_eq!(lines, 2, "{log}");
    assert!(!log.contains(&secret), "the secret is never logged");
}
