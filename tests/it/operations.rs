//! Operations through the binary: `/livez` and `/readyz` beside `/health`, systemd's
//! notifications on a socket of the test's own, `/metrics` in base units with the build and
//! the per-bot gauges, and SIGHUP reloading the config as a save does.

use crate::bots::{config_with, free_port, get, server, start, token, wait_status};
use crate::util::TestDir;
use serde_json::Value;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn livez_holds_while_the_bot_api_is_down_and_readyz_says_why() {
    let a = server("a");
    let t = TestDir::new();
    let port = free_port();
    config_with(&t, port, &[("a", "polling", &a)], "");
    let run = start(&t, &["a"]);
    run.webhook_address();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let ready: Value = serde_json::from_str(&wait_status(&url("/readyz"), 200)).expect("JSON");
    assert_eq!(ready["ok"], true, "{ready}");
    assert_eq!(get(&url("/livez")).0, 200);

    a.set_down(true);
    let unready: Value = serde_json::from_str(&wait_status(&url("/readyz"), 503)).expect("JSON");
    let reasons = unready["reasons"].as_array().cloned().unwrap_or_default();
    assert!(
        reasons.iter().any(|r| r
            .as_str()
            .is_some_and(|r| r.contains("bot a") && r.contains("Bot API"))),
        "{unready}"
    );
    // /health goes 503 too; /livez does not: the process is fine, Telegram is not.
    assert_eq!(get(&url("/health")).0, 503);
    let (status, live) = get(&url("/livez"));
    assert_eq!(status, 200, "{live}");
    a.set_down(false);
    wait_status(&url("/readyz"), 200);

    let (status, metrics) = get(&url("/metrics"));
    assert_eq!(status, 200);
    let build = metrics
        .lines()
        .find(|l| l.starts_with("tgscript_build_info{"))
        .unwrap_or_else(|| panic!("no build_info in {metrics}"));
    assert!(
        build.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION")))
            && build.ends_with(" 1"),
        "{build}"
    );
    assert!(
        metrics.contains("# TYPE tgscript_flood_wait_seconds_total counter"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("milliseconds"),
        "base units only: {metrics}"
    );
    for gauge in [
        "tgscript_inbox_pending_updates",
        "tgscript_inbox_parked_updates",
        "tgscript_updates_queued",
        "tgscript_bot_api_reachable",
    ] {
        assert!(
            metrics.contains(&format!("# TYPE {gauge} gauge")),
            "{gauge}: {metrics}"
        );
        assert_eq!(
            crate::bots::sample(&metrics, gauge, &[("bot", "a")]).map(|v| v >= 0.0),
            Some(true),
            "{gauge} of bot a: {metrics}"
        );
    }
    for gauge in [
        "tgscript_script_workers_busy",
        "tgscript_script_calls_waiting",
    ] {
        assert!(
            metrics.contains(&format!("# TYPE {gauge} gauge")),
            "{metrics}"
        );
    }
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
}

/// Read datagrams from `socket` into `seen` until one after the first `from` holds `line`
/// (as a line of its own): its index. Panics after [`WAIT`].
fn until(socket: &UnixDatagram, line: &str, seen: &mut Vec<String>, from: usize) -> usize {
    let deadline = Instant::now() + WAIT;
    let mut buffer = [0u8; 4096];
    loop {
        let found = seen
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, m)| m.lines().any(|l| l == line));
        if let Some((at, _)) = found {
            return at;
        }
        assert!(Instant::now() < deadline, "no {line} in {seen:?}");
        if let Ok(n) = socket.recv(&mut buffer) {
            seen.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
        }
    }
}

#[test]
fn systemd_is_told_ready_fed_by_the_watchdog_and_sighup_reloads_the_config() {
    let (a, b) = (server("a"), server("b"));
    let t = TestDir::new();
    let socket_path = t.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("a notify socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    // The config file is a link into a folder nobody watches: only SIGHUP can reload it.
    let bot = |id: &str, server: &tgscript::sandbox::BotApiServer| {
        t.write(&format!("{id}/count.rhai"), crate::bots::COUNTER);
        format!(
            "\n[[bot]]\nid = \"{id}\"\ntoken_env = \"TOKEN_{}\"\nscripts = \"{}\"\napi_url = \"{}\"\n",
            id.to_uppercase(),
            t.path().join(id).display(),
            server.url()
        )
    };
    let real = t.write("elsewhere/tgscript.toml", &bot("a", &a));
    std::os::unix::fs::symlink(&real, t.path().join("tgscript.toml")).expect("link");
    let notify = socket_path.to_string_lossy().into_owned();
    let (token_a, token_b) = (token("a"), token("b"));
    let run = t.spawn(
        &["run"],
        &[
            ("TOKEN_A", &token_a),
            ("TOKEN_B", &token_b),
            ("NOTIFY_SOCKET", &notify),
            ("WATCHDOG_USEC", "4000000"),
        ],
    );
    let mut seen = Vec::new();
    let ready = until(&socket, "READY=1", &mut seen, 0);
    until(&socket, "WATCHDOG=1", &mut seen, ready);

    t.write(
        "elsewhere/tgscript.toml",
        &format!("{}{}", bot("a", &a), bot("b", &b)),
    );
    run.send_signal("-HUP");
    run.wait_stderr("SIGHUP: reloading the config file", 1, WAIT);
    run.wait_stderr("bot b: started", 1, WAIT);
    let reloading = until(&socket, "RELOADING=1", &mut seen, ready + 1);
    until(&socket, "READY=1", &mut seen, reloading + 1);
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    until(&socket, "STOPPING=1", &mut seen, reloading + 1);
}
