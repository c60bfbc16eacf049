//! Many bots in one process (`[[bot]]`), polling and webhook, each against a local Bot API
//! server of its own that accepts only its token; the webhook bot's updates are posted to
//! tgscript's listener the way Telegram posts them.

use crate::util::{Background, TestDir};
use serde_json::{Value, json};
use std::time::Duration;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, World};

const WAIT: Duration = Duration::from_secs(20);
pub(crate) const ALICE: i64 = 1001;

/// Counts per chat and across the bot's scenarios (`shared_…`), and fails on "boom": two bots
/// whose state met would count past each other.
pub(crate) const COUNTER: &str = r#"fn on_message(msg) {
    if msg.text == "boom" { throw "boom"; }
    let n = (chat_get("n") ?? 0) + 1;
    chat_set("n", n);
    let all = (shared_get("all") ?? 0) + 1;
    shared_set("all", all);
    send_message(msg.chat.id, `${msg.text}: ${n} ${all}`);
}
"#;

pub(crate) fn token(bot: &str) -> String {
    format!(
        "4242{}:AAH{bot}TokenForTheMultiBotTests_abcdefgh",
        bot.len()
    )
}

pub(crate) fn server(bot: &str) -> BotApiServer {
    let mut world = World::new();
    world.add_user(ALICE, "Alice");
    BotApiServer::start(world, Some(&token(bot))).expect("start a local Bot API server")
}

pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// The texts of the messages `server`'s bot sent, once at least `n` were.
pub(crate) fn sent(server: &BotApiServer, n: usize) -> Vec<String> {
    let texts = |calls: &[tgscript::sandbox::Recorded]| -> Vec<String> {
        calls
            .iter()
            .filter(|c| c.method == "sendMessage")
            .filter_map(|c| c.params["text"].as_str().map(str::to_string))
            .collect()
    };
    match server.wait_for(WAIT, |calls| texts(calls).len() >= n) {
        Ok(calls) => texts(&calls),
        Err(calls) => panic!("expected {n} sendMessage call(s), got: {calls:#?}"),
    }
}

/// The webhook `server`'s bot was given the `nth` time tgscript set it: `(url, secret)`.
pub(crate) fn webhook(server: &BotApiServer, nth: usize) -> (String, String) {
    let sets = |calls: &[tgscript::sandbox::Recorded]| {
        calls.iter().filter(|c| c.method == "setWebhook").count()
    };
    let calls = server
        .wait_for(WAIT, |calls| sets(calls) >= nth)
        .unwrap_or_else(|calls| panic!("no setWebhook call #{nth}: {calls:#?}"));
    let set = calls
        .iter()
        .filter(|c| c.method == "setWebhook")
        .nth(nth - 1)
        .map(|c| c.params.clone())
        .unwrap_or_default();
    let allowed = set["allowed_updates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(allowed.contains(&json!("chat_member")), "{set}");
    (
        set["url"].as_str().unwrap_or_default().to_string(),
        set["secret_token"].as_str().unwrap_or_default().to_string(),
    )
}

/// A message update from alice in the sandbox group of `server`'s world.
pub(crate) fn update(server: &BotApiServer, update_id: i64, text: &str) -> Value {
    let message = server.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, text, None));
    json!({"update_id": update_id, "message": message})
}

/// Run `future` to completion on a runtime of its own.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// POST `body` to `url` as Telegram does (with `secret`, if any); the status.
pub(crate) fn post(url: &str, secret: Option<&str>, body: &str) -> u16 {
    block_on(async {
        let mut request = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send().await.expect("POST").status().as_u16()
    })
}

/// A config with `bots` (`(id, mode, server)`) and a webhook listener on `port`; an update
/// gets one try (a failing one is parked at once).
fn config(t: &TestDir, port: u16, bots: &[(&str, &str, &BotApiServer)]) {
    config_with(t, port, bots, "[inbox]\nmax_attempts = 1\n");
}

pub(crate) fn config_with(
    t: &TestDir,
    port: u16,
    bots: &[(&str, &str, &BotApiServer)],
    head: &str,
) {
    let mut text = format!(
        "{head}\n[webhook]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}/\"\n"
    );
    for (id, mode, server) in bots {
        t.write(&format!("{id}/count.rhai"), COUNTER);
        text += &format!(
            "\n[[bot]]\nid = \"{id}\"\ntoken_env = \"TOKEN_{}\"\nscripts = \"{id}\"\nmode = \"{mode}\"\napi_url = \"{}\"\n",
            id.to_uppercase(),
            server.url()
        );
    }
    t.write("tgscript.toml", &text);
}

pub(crate) fn start(t: &TestDir, bots: &[&str]) -> Background {
    let env: Vec<(String, String)> = bots
        .iter()
        .map(|id| (format!("TOKEN_{}", id.to_uppercase()), token(id)))
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    t.spawn(&["run"], &env)
}

#[test]
fn three_bots_in_one_process_keep_their_tokens_state_and_inboxes_apart() {
    let (a, b, hook) = (server("a"), server("b"), server("hook"));
    let t = TestDir::new();
    let port = free_port();
    config(
        &t,
        port,
        &[
            ("a", "polling", &a),
            ("b", "polling", &b),
            ("hook", "webhook", &hook),
        ],
    );
    let run = start(&t, &["a", "b", "hook"]);
    let (url, secret) = webhook(&hook, 1);
    assert_eq!(url, format!("http://127.0.0.1:{port}/webhook/hook"));

    // Bot b's first update fails (and is parked); nothing of it reaches the other bots.
    b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "boom", None));
    for text in ["one", "two"] {
        a.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, text, None));
        b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, text, None));
    }
    for (id, text) in [(1, "one"), (2, "two")] {
        let body = update(&hook, id, text).to_string();
        assert_eq!(post(&url, Some(&secret), &body), 200);
    }
    // Each bot counted its own two messages, in its own namespaces, with its own token
    // (each server answers only its own).
    for server in [&a, &b, &hook] {
        assert_eq!(sent(server, 2), ["one: 1 1", "two: 2 2"]);
    }
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    assert!(done.stderr.contains("boom"), "{}", done.stderr);

    let parked = t.run(&["inbox", "list", "--bot", "b", "--json"]);
    parked.expect_code(0);
    let parked: Value = serde_json::from_str(&parked.stdout).expect("JSON");
    assert_eq!(parked.as_array().map(Vec::len), Some(1), "{parked}");
    assert_eq!(parked[0]["status"], "parked", "{parked}");
    for bot in ["a", "hook"] {
        let all = t.run(&["inbox", "list", "--all", "--bot", bot, "--json"]);
        let all: Value = serde_json::from_str(&all.stdout).expect("JSON");
        let statuses: Vec<_> = all
            .as_array()
            .map(|a| a.iter().map(|e| e["status"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(statuses, [json!("done"), json!("done")], "bot {bot}: {all}");
    }
    // Without --bot, every bot's inbox: the parked update of b among them.
    let every = t.run(&["inbox", "list"]);
    every.expect_code(0);
    assert!(
        every
            .stdout
            .lines()
            .any(|l| l.starts_with("b ") && l.contains("parked")),
        "{}",
        every.stdout
    );
    t.run(&["inbox", "retry", "1"])
        .expect_code(2)
        .expect_stderr_contains("pass --bot ID (a, b, hook)");
}

#[test]
fn a_webhook_update_is_kept_before_its_200_and_handled_once() {
    let hook = server("hook");
    let t = TestDir::new();
    let port = free_port();
    // The default tries: a try cut short by the kill is tried again.
    config_with(&t, port, &[("hook", "webhook", &hook)], "");
    let run = start(&t, &["hook"]);
    let (url, secret) = webhook(&hook, 1);

    let first = update(&hook, 500, "first").to_string();
    assert_eq!(post(&url, None, &first), 401, "no secret");
    assert_eq!(post(&url, Some("wrong"), &first), 401, "a wrong secret");
    let other_bot = url.replace("/webhook/hook", "/webhook/nobody");
    // A bot id that is no webhook bot's gets what a wrong secret gets.
    assert_eq!(post(&other_bot, Some(&secret), &first), 401);
    assert_eq!(post(&url, Some(&secret), "not json"), 400);
    assert_eq!(post(&url, Some(&secret), r#"{"message": {}}"#), 400);
    assert_eq!(post(&url, Some(&secret), r#"{"update_id": "7"}"#), 400);
    // Kept before the 200: killed right after it, the next start handles it.
    assert_eq!(post(&url, Some(&secret), &first), 200);
    let killed = run.kill9();

    let run = start(&t, &["hook"]);
    let (url, secret) = webhook(&hook, 2);
    assert_eq!(sent(&hook, 1)[0], "first: 1 1");
    // Telegram delivering it again gets a 200, and it is not handled again.
    assert_eq!(post(&url, Some(&secret), &first), 200);
    let second = update(&hook, 501, "second").to_string();
    assert_eq!(post(&url, Some(&secret), &second), 200);
    let texts = sent(&hook, 2);
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    let firsts = texts.iter().filter(|t| t.starts_with("first")).count();
    // Only a call made without an answer when the process was killed may go twice, and
    // then it is logged.
    assert!(
        firsts == 1 || done.stderr.contains("got no answer in an earlier try"),
        "{texts:?}\n{}\n{}",
        killed.stderr,
        done.stderr
    );
    assert_eq!(texts.last().map(String::as_str), Some("second: 2 2"));

    let kept = t.run(&["inbox", "list", "--all", "--json"]);
    let kept: Value = serde_json::from_str(&kept.stdout).expect("JSON");
    let ids: Vec<_> = kept
        .as_array()
        .map(|a| a.iter().map(|e| e["update_id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        ids,
        [json!(500), json!(501)],
        "nothing refused was stored: {kept}"
    );
}

#[test]
fn a_bot_whose_token_variable_is_unset_stops_the_start() {
    let a = server("a");
    let t = TestDir::new();
    config(&t, free_port(), &[("a", "polling", &a)]);
    for value in [None, Some("  ")] {
        let env: Vec<(&str, &str)> = value.map(|v| ("TOKEN_A", v)).into_iter().collect();
        t.run_with_env(&["run"], &env)
            .expect_code(2)
            .expect_stderr_contains("bot \"a\": its token variable TOKEN_A is unset or empty");
    }
    assert!(a.calls().is_empty(), "nothing started: {:?}", a.calls());
    // With [[bot]]s, a folder argument is refused rather than silently ignored.
    t.run_with_env(&["run", "a"], &[("TOKEN_A", &token("a"))])
        .expect_code(2)
        .expect_stderr_contains("run without a folder");
}

#[test]
fn bots_added_to_and_removed_from_the_config_start_and_stop_while_the_others_go_on() {
    let (a, b) = (server("a"), server("b"));
    let t = TestDir::new();
    let port = free_port();
    config(&t, port, &[("a", "polling", &a)]);
    let run = start(&t, &["a", "b"]);
    a.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "one", None));
    assert_eq!(sent(&a, 1), ["one: 1 1"]);

    // b added: it starts; a is not restarted (its count goes on).
    config(&t, port, &[("a", "polling", &a), ("b", "polling", &b)]);
    b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "one", None));
    assert_eq!(sent(&b, 1), ["one: 1 1"]);
    a.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "two", None));
    assert_eq!(sent(&a, 2), ["one: 1 1", "two: 2 2"]);

    // a removed: it stops; b goes on.
    config(&t, port, &[("b", "polling", &b)]);
    run.wait_stderr("bot a: stopped", 1, WAIT);
    a.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "three", None));
    b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "two", None));
    assert_eq!(sent(&b, 2), ["one: 1 1", "two: 2 2"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sent(&a, 2).len(), 2, "a removed bot answers nothing more");

    // A broken edit changes nothing.
    t.write("tgscript.toml", "[[bot]]\nid = \"b\"\n");
    run.wait_stderr("the bots stay as they are", 1, WAIT);
    b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "three", None));
    assert_eq!(sent(&b, 3)[2], "three: 3 3");
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
}

/// GET `url`: the status and the body.
pub(crate) fn get(url: &str) -> (u16, String) {
    block_on(async {
        let response = reqwest::Client::new().get(url).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    })
}

/// Poll `url` until it answers `status`; the body then.
pub(crate) fn wait_status(url: &str, status: u16) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (got, body) = get(url);
        if got == status {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} still answers {got}, not {status}: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of the Prometheus sample `name{labels}` in `text` (labels in any order).
pub(crate) fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.starts_with(&format!("{name}{{"))
                && labels
                    .iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn health_follows_the_bot_api_and_metrics_count_the_updates() {
    let (a, hook) = (server("a"), server("hook"));
    let t = TestDir::new();
    let port = free_port();
    config_with(
        &t,
        port,
        &[("a", "polling", &a), ("hook", "webhook", &hook)],
        "",
    );
    let run = start(&t, &["a", "hook"]);
    let (url, secret) = webhook(&hook, 1);
    let health = format!("http://127.0.0.1:{port}/health");
    for text in ["one", "two", "three"] {
        a.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, text, None));
    }
    let body = update(&hook, 9, "one").to_string();
    assert_eq!(post(&url, Some(&secret), &body), 200);
    sent(&a, 3);
    sent(&hook, 1);
    // The last completion marks are committed a moment after the replies.
    let mut ok: Value = serde_json::from_str(&wait_status(&health, 200)).expect("JSON");
    let deadline = std::time::Instant::now() + WAIT;
    while ok["bots"][0]["inbox"]["pending"] != 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        ok = serde_json::from_str(&wait_status(&health, 200)).expect("JSON");
    }
    assert_eq!(ok["ok"], true, "{ok}");
    let bots = ok["bots"].as_array().cloned().unwrap_or_default();
    assert_eq!(bots.len(), 2, "{ok}");
    assert_eq!(bots[0]["id"], "a");
    assert_eq!(bots[0]["mode"], "polling");
    assert_eq!(bots[0]["inbox"], json!({"pending": 0, "parked": 0}), "{ok}");
    assert_eq!(bots[1]["mode"], "webhook");

    // Bot a's Bot API stops answering: 503 naming it; back when it returns.
    a.set_down(true);
    let down: Value = serde_json::from_str(&wait_status(&health, 503)).expect("JSON");
    assert_eq!(down["bots"][0]["reachable"], false, "{down}");
    assert!(
        down["bots"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("Bad Gateway")),
        "{down}"
    );
    assert_eq!(
        down["bots"][1]["reachable"], true,
        "the other bot is fine: {down}"
    );
    a.set_down(false);
    wait_status(&health, 200);

    let (status, metrics) = get(&format!("http://127.0.0.1:{port}/metrics"));
    assert_eq!(status, 200);
    for line in metrics.lines().filter(|l| !l.is_empty()) {
        let parses = line.starts_with('#')
            || line
                .rsplit_once(' ')
                .is_some_and(|(series, value)| !series.is_empty() && value.parse::<f64>().is_ok());
        assert!(parses, "not Prometheus text: {line:?}");
    }
    let count = |name, bot| sample(&metrics, name, &[("bot", bot)]);
    assert_eq!(
        count("tgscript_updates_received_total", "a"),
        Some(3.0),
        "{metrics}"
    );
    assert_eq!(
        count("tgscript_updates_handled_total", "a"),
        Some(3.0),
        "{metrics}"
    );
    assert_eq!(count("tgscript_updates_received_total", "hook"), Some(1.0));
    assert_eq!(count("tgscript_updates_handled_total", "hook"), Some(1.0));
    assert_eq!(
        sample(
            &metrics,
            "tgscript_handler_duration_seconds_count",
            &[("bot", "a")]
        ),
        Some(3.0),
        "{metrics}"
    );
    let sends = sample(
        &metrics,
        "tgscript_bot_api_calls_total",
        &[("method", "sendMessage"), ("outcome", "ok")],
    );
    assert_eq!(sends, Some(4.0), "{metrics}");
    assert!(
        sample(
            &metrics,
            "tgscript_bot_api_calls_total",
            &[("method", "getUpdates"), ("outcome", "failed")]
        )
        .is_some_and(|n| n >= 1.0),
        "{metrics}"
    );
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
}

/// POST `request` to the gateway's `/command` at `port` (with `token` as the bearer, if any):
/// the status and the event.
fn command(port: u16, token: Option<&str>, request: Value) -> (u16, Value) {
    block_on(async {
        let mut post = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/command"))
            .header("content-type", "application/json")
            .body(request.to_string());
        if let Some(token) = token {
            post = post.bearer_auth(token);
        }
        let response = post.send().await.expect("POST /command");
        let status = response.status().as_u16();
        (status, response.json().await.expect("an event"))
    })
}

#[test]
fn bots_and_their_scripts_are_added_and_removed_over_the_gateway_and_kept_across_restarts() {
    const ADMIN: &str = "admin-secret-for-the-tests";
    let (a, g) = (server("a"), server("g"));
    let t = TestDir::new();
    let (port, gateway) = (free_port(), free_port());
    config_with(
        &t,
        port,
        &[("a", "polling", &a)],
        &format!("[gateway]\nlisten = \"127.0.0.1:{gateway}\"\nadmin_token = \"{ADMIN}\"\n"),
    );
    let run = start(&t, &["a"]);
    run.wait_stderr("gateway listening", 1, WAIT);
    let add = json!({"action": "add_bot", "id": "g", "token": token("g"), "api_url": g.url(), "scripts": t.path().join("g").display().to_string()});
    let (status, refused) = command(gateway, None, add.clone());
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["event"], "add_bot_error");
    let (status, added) = command(gateway, Some(ADMIN), add.clone());
    assert_eq!(
        (status, &added["event"]),
        (200, &json!("add_bot")),
        "{added}"
    );
    let (_, again) = command(gateway, Some(ADMIN), add.clone());
    assert_eq!(again["event"], "add_bot_error", "{again}");

    // A script that does not check is refused and not written; a good one is loaded.
    let put = |source: &str| {
        command(
            gateway,
            Some(ADMIN),
            json!({"action": "put_script", "bot_id": "g", "name": "count.rhai", "source": source}),
        )
        .1
    };
    let bad = put("fn on_message(msg) { send_mesage(msg.chat.id, \"x\"); }");
    assert_eq!(bad["event"], "put_script_error", "{bad}");
    assert!(
        bad["error"]
            .as_str()
            .is_some_and(|e| e.contains("send_mesage") && e.contains("count.rhai")),
        "{bad}"
    );
    assert!(!t.path().join("g/count.rhai").exists());
    // Broken or hostile fields are refused and write nothing: a name that leaves the
    // folder, a source that is not a string, a script past max_script_size, a bad add_bot.
    let hostile = [
        json!({"action": "put_script", "bot_id": "g", "name": "../evil.rhai", "source": COUNTER}),
        json!({"action": "put_script", "bot_id": "g", "name": "/tmp/evil", "source": COUNTER}),
        json!({"action": "put_script", "bot_id": "g", "name": "x.rhai", "source": 42}),
        json!({"action": "put_script", "bot_id": "g", "name": "x.rhai", "source": "x".repeat(200_000)}),
        json!({"action": "get_script", "bot_id": 7, "name": "x.rhai"}),
        json!({"action": "add_bot", "id": "../x", "token": "1:A"}),
        json!({"action": "add_bot", "id": "h", "token": "1:A", "mode": "smoke"}),
    ];
    for request in hostile {
        let (status, event) = command(gateway, Some(ADMIN), request.clone());
        assert_eq!(status, 400, "{request}: {event}");
        assert!(
            event["event"]
                .as_str()
                .is_some_and(|e| e.ends_with("_error")),
            "{request}: {event}"
        );
    }
    assert!(!t.path().join("evil.rhai").exists() && !t.path().join("g/x.rhai").exists());
    assert_eq!(put(COUNTER)["event"], "put_script", "written");
    run.wait_stderr("g/count.rhai: ok", 1, WAIT);
    g.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "one", None));
    a.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "one", None));
    assert_eq!(sent(&g, 1), ["one: 1 1"]);
    assert_eq!(sent(&a, 1), ["one: 1 1"]);
    let got = command(
        gateway,
        Some(ADMIN),
        json!({"action": "get_script", "bot_id": "g", "name": "count"}),
    )
    .1;
    assert_eq!(got["data"]["source"], COUNTER, "{got}");

    // Chat actions pick their bot by bot_id; an unknown one is named with the known ones.
    let (_, said) = command(
        gateway,
        None,
        json!({"action": "send_message", "bot_id": "g", "chat_id": SANDBOX_CHAT_ID, "text": "from the backend"}),
    );
    assert_eq!(said["event"], "send_message", "{said}");
    assert_eq!(sent(&g, 2)[1], "from the backend");
    let (_, which) = command(
        gateway,
        None,
        json!({"action": "send_message", "chat_id": 1, "text": "x"}),
    );
    assert!(
        which["error"]
            .as_str()
            .is_some_and(|e| e.contains("pass bot_id (a, g)")),
        "{which}"
    );
    let (_, unknown) = command(
        gateway,
        None,
        json!({"action": "send_message", "bot_id": "zz", "chat_id": 1, "text": "x"}),
    );
    assert!(
        unknown["error"]
            .as_str()
            .is_some_and(|e| e.contains("running: a, g")),
        "{unknown}"
    );
    let listed = command(gateway, Some(ADMIN), json!({"action": "list_bots"})).1;
    let sources: Vec<_> = listed["data"]["bots"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|b| (b["id"].clone(), b["source"].clone()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        sources,
        [
            (json!("a"), json!("config")),
            (json!("g"), json!("gateway"))
        ],
        "{listed}"
    );
    let (_, kept) = command(
        gateway,
        Some(ADMIN),
        json!({"action": "remove_bot", "id": "a"}),
    );
    assert!(
        kept["error"]
            .as_str()
            .is_some_and(|e| e.contains("config file")),
        "{kept}"
    );
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    assert!(
        !done.all_output().contains(&token("g")),
        "the token is never printed"
    );

    // Kept across a restart; removed, it stays away.
    let run = start(&t, &["a"]);
    run.wait_stderr("gateway listening", 1, WAIT);
    g.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "two", None));
    assert_eq!(sent(&g, 3)[2], "two: 2 2");
    let (_, removed) = command(
        gateway,
        Some(ADMIN),
        json!({"action": "remove_bot", "id": "g"}),
    );
    assert_eq!(removed["event"], "remove_bot", "{removed}");
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    let run = start(&t, &["a"]);
    run.wait_stderr("gateway listening", 1, WAIT);
    let listed = command(gateway, Some(ADMIN), json!({"action": "list_bots"})).1;
    assert_eq!(
        listed["data"]["bots"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
}

#[test]
fn a_polling_bot_says_which_webhook_it_removes_and_json_logs_are_one_object_per_line() {
    let a = server("a");
    a.world(|w| {
        let params = json!({"url": "https://old.example/hook"});
        w.call("setWebhook", params.as_object().expect("params"))
    })
    .expect("a webhook set before");
    let t = TestDir::new();
    config(&t, free_port(), &[("a", "polling", &a)]);
    let env = [
        ("TOKEN_A", token("a")),
        ("TGSCRIPT_LOG_FORMAT", "json".to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = t.spawn(&["run"], &env);
    a.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "one", None));
    assert_eq!(
        sent(&a, 1),
        ["one: 1 1"],
        "it polls once the webhook is gone"
    );
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    assert!(
        done.stderr
            .contains("bot a: removing its webhook https://old.example/hook"),
        "{}",
        done.stderr
    );
    for line in done.stderr.lines().filter(|l| !l.trim().is_empty()) {
        let object: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            object["level"].is_string() && object["fields"]["message"].is_string(),
            "{line}"
        );
    }
}

/// Prints what it heard with a forged log line after a newline, and answers; throws such a
/// line at "boom".
const PRINTER: &str = "fn on_message(msg) {\n    if msg.text == \"boom\" { throw \"boom\\nERROR forged error\"; }\n    print(\"heard \" + msg.text + \"\\nERROR forged line\");\n    send_message(msg.chat.id, \"said\");\n}\n";

#[test]
fn a_print_is_one_log_line_naming_its_bot_and_scenario_in_either_isolation() {
    const ADMIN: &str = "admin-secret-for-the-print-test";
    for isolation in ["process", "inline"] {
        let p = server("p");
        let t = TestDir::new();
        let gateway = free_port();
        t.write("p/say.rhai", PRINTER);
        t.write(
            "tgscript.toml",
            &format!(
                "[inbox]\nmax_attempts = 1\n\n[gateway]\nlisten = \"127.0.0.1:{gateway}\"\nadmin_token = \"{ADMIN}\"\n\n[[bot]]\nid = \"p\"\ntoken_env = \"TOKEN_P\"\nscripts = \"p\"\nmode = \"polling\"\napi_url = \"{}\"\n",
                p.url()
            ),
        );
        let env = [
            ("TOKEN_P", token("p")),
            ("TGSCRIPT_SCRIPTS_ISOLATION", isolation.to_string()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = t.spawn(&["run"], &env);
        run.wait_stderr("gateway listening", 1, WAIT);
        p.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "hi", None));
        assert_eq!(sent(&p, 1), ["said"], "{isolation}");

        // The console's activity has the line as printed, with its bot and scenario.
        let request = json!({"action": "activity", "kind": "print"});
        let (status, activity) = command(gateway, Some(ADMIN), request);
        assert_eq!(status, 200, "{activity}");
        let entries = activity["data"]["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let printed = entries
            .iter()
            .find(|e| e["text"] == "heard hi\nERROR forged line")
            .unwrap_or_else(|| panic!("{isolation}: no print in {activity}"));
        assert_eq!(
            (&printed["bot"], &printed["scenario"]),
            (&json!("p"), &json!("say")),
            "{isolation}: {printed}"
        );

        p.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "boom", None));
        run.wait_stderr("forged error", 1, WAIT);

        // The log has each on one line, the newline escaped, naming the bot and scenario.
        let done = run.terminate();
        assert_eq!(done.code, Some(0), "{}", done.all_output());
        let log = &done.stderr;
        assert!(
            !log.lines().any(|l| l.starts_with("ERROR forged")),
            "{isolation}: a forged line in {log}"
        );
        let forged = log.lines().filter(|l| l.contains("forged line")).count();
        assert_eq!(forged, 1, "{isolation}: one line per print in {log}");
        for said in [
            r"INFO heard hi\nERROR forged line",
            r"boom\nERROR forged error [say.rhai on_message, update",
        ] {
            let line = log.lines().find(|l| l.contains(said)).unwrap_or_default();
            for part in [r#"bot="p""#, r#"scenario="say""#] {
                assert!(
                    line.contains(part),
                    "{isolation}: {said} with {part} in {log}"
                );
            }
        }
    }
}
