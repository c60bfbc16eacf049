//! Outbound HTTP from scripts: refused unless allowed (host list, https, no internal
//! addresses after DNS resolution), a real request to an allowed loopback server, the size
//! limit, and a handler run again from the inbox that does not call twice.

use crate::util::{TOKEN, TestDir};
use axum::Router;
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, Refusal, World};

/// A backend on a loopback port, counting the requests it gets.
struct Backend {
    port: u16,
    hits: Arc<AtomicUsize>,
}

fn backend() -> Backend {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let count = move || {
        counted.fetch_add(1, Ordering::SeqCst);
    };
    let (ok, echo, big, moved) = (count.clone(), count.clone(), count.clone(), count);
    let app = Router::new()
        .route(
            "/ok",
            get(move |headers: axum::http::HeaderMap| async move {
                ok();
                let key = headers
                    .get("x-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                (
                    [("x-test", "yes")],
                    axum::Json(json!({"hello": "world", "key": key})),
                )
            }),
        )
        .route(
            "/echo",
            post(move |body: String| async move {
                echo();
                body
            }),
        )
        .route(
            "/moved",
            get(move || async move {
                moved();
                (axum::http::StatusCode::FOUND, [("location", "/ok")], "")
            }),
        )
        .route(
            "/big",
            get(move || async move {
                big();
                "x".repeat(5000)
            }),
        );
    let port = crate::util::serve_on_loopback(app);
    Backend { port, hits }
}

/// Run `script` with `exec --json` and `env`; its value.
fn exec(t: &TestDir, script: &str, env: &[(&str, &str)]) -> Value {
    t.write("s.rhai", script);
    let run = t.run_with_env(&["exec", "s.rhai", "--json"], env);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).expect("exec --json prints JSON")
}

/// The error each call of `calls` (Rhai expressions) throws, in order.
fn errors_of(t: &TestDir, calls: &[String], env: &[(&str, &str)]) -> Vec<String> {
    let tries: String = calls
        .iter()
        .map(|call| {
            format!(
                "try {{ {call}; out.push(\"no error\"); }} catch (e) {{ out.push(e.error); }}\n"
            )
        })
        .collect();
    let value = exec(t, &format!("let out = [];\n{tries}out"), env);
    serde_json::from_value(value).expect("a list of errors")
}

#[test]
fn what_is_not_allowed_is_refused_with_a_clear_error_and_sends_nothing() {
    let b = backend();
    let t = TestDir::new();
    let port = b.port;
    let off = errors_of(&t, &["http_get(\"https://example.com/\")".into()], &[]);
    assert_eq!(
        off,
        ["outbound HTTP is off: list the hosts scripts may call in [http] allow"]
    );

    let env = [
        ("TGSCRIPT_HTTP_ALLOW", "127.0.0.1,localhost,example.org"),
        ("TGSCRIPT_HTTP_PLAIN_HTTP", "127.0.0.1,localhost"),
    ];
    let calls = [
        "http_get(\"https://example.com/\")".to_string(),
        format!("http_get(\"http://127.0.0.1:{port}/ok\")"),
        format!("http_get(\"http://localhost:{port}/ok\")"),
        "http_get(\"http://example.org/\")".to_string(),
        "http_get(\"ftp://example.org/\")".to_string(),
    ];
    let errors = errors_of(&t, &calls, &env);
    let expected = [
        "example.com is not in [http] allow",
        "127.0.0.1 is a loopback address (127.0.0.1), refused",
        // Resolved by the system (/etc/hosts): the name is refused for where it points.
        "localhost is a loopback address",
        "plain http to example.org is refused",
        "ftp: is not http or https",
    ];
    for (error, expected) in errors.iter().zip(expected) {
        assert!(
            error.contains(expected),
            "{error:?} should say {expected:?}"
        );
    }
    assert_eq!(errors.len(), expected.len());
    assert_eq!(
        b.hits.load(Ordering::SeqCst),
        0,
        "nothing reached the backend"
    );
}

#[test]
fn an_allowed_loopback_host_answers_and_a_response_over_the_limit_is_cut() {
    let b = backend();
    let t = TestDir::new();
    let env = [
        ("TGSCRIPT_HTTP_ALLOW", "127.0.0.1"),
        ("TGSCRIPT_HTTP_PLAIN_HTTP", "127.0.0.1"),
        ("TGSCRIPT_HTTP_PRIVATE", "127.0.0.1"),
        ("TGSCRIPT_HTTP_MAX_RESPONSE_BYTES", "1000"),
    ];
    let base = format!("http://127.0.0.1:{}", b.port);
    let out = exec(
        &t,
        &format!(
            r#"
            let got = http_get("{base}/ok", #{{headers: #{{"X-Key": "k"}}}});
            let echoed = http_post("{base}/echo", #{{user: 42, tags: ["a"]}});
            let text = http_post("{base}/echo", "plain words", #{{timeout_ms: 2000}});
            let moved = http_get("{base}/moved");
            let big = "no error";
            try {{ http_get("{base}/big"); }} catch (e) {{ big = e.error; }}
            #{{status: got.status, hello: got.json.hello, header: got.headers["x-test"],
               sent_key: got.json.key, moved: moved.status, location: moved.headers.location,
               echoed: echoed.json, text: text.body, no_json: text.json == (), big: big}}
            "#
        ),
        &env,
    );
    assert_eq!(
        out,
        json!({
            "status": 200, "hello": "world", "header": "yes", "sent_key": "k",
            // Answered, not followed: /ok is not asked again.
            "moved": 302, "location": "/ok",
            "echoed": {"user": 42, "tags": ["a"]}, "text": "plain words", "no_json": true,
            "big": "the response is over [http] max_response_bytes (1000 bytes); it was refused",
        })
    );
    assert_eq!(b.hits.load(Ordering::SeqCst), 5);
}

#[test]
fn a_handler_run_again_from_the_inbox_does_not_call_twice() {
    let b = backend();
    let server = BotApiServer::start(World::new(), Some(TOKEN)).expect("server");
    let t = TestDir::new();
    t.write(
        "scripts/s.rhai",
        &format!(
            r#"
            fn on_message(msg) {{
                let r = http_get("http://127.0.0.1:{}/ok");
                send_message(msg.chat.id, r.json.hello);
            }}
            "#,
            b.port
        ),
    );
    let url = server.url();
    let bot = t.spawn(
        &["run", "scripts"],
        &[
            ("TELOXIDE_TOKEN", TOKEN),
            ("TELOXIDE_API_URL", &url),
            ("TGSCRIPT_HTTP_ALLOW", "127.0.0.1"),
            ("TGSCRIPT_HTTP_PLAIN_HTTP", "127.0.0.1"),
            ("TGSCRIPT_HTTP_PRIVATE", "127.0.0.1"),
        ],
    );
    let wait = Duration::from_secs(30);
    bot.wait_stderr("loaded scripts/s.rhai: ok", 1, wait);
    server.world(|w| {
        w.fail_next("sendMessage", Refusal::bad_gateway());
        w.user_message(SANDBOX_CHAT_ID, 1001, "hi", None);
    });
    let sent = server.wait_for(wait, |calls| {
        calls.iter().filter(|c| c.params["text"] == "world").count() >= 2
    });
    assert!(sent.is_ok(), "{}", bot.stderr_so_far());
    let done = bot.interrupt();
    assert!(done.stderr.contains("trying again"), "{}", done.stderr);
    assert_eq!(
        b.hits.load(Ordering::SeqCst),
        1,
        "the second try got the first answer from the journal"
    );
}

#[test]
fn a_broken_http_or_flood_setting_is_a_configuration_error_that_names_it() {
    let t = TestDir::new();
    t.write("one.rhai", "1");
    for (key, value, says) in [
        (
            "TGSCRIPT_HTTP_ALLOW",
            "https://api.example.com",
            "without scheme, port or path",
        ),
        (
            "TGSCRIPT_HTTP_ALLOW",
            "api.example.com:443",
            "without scheme, port or path",
        ),
        ("TGSCRIPT_FLOOD_PER_SECOND", "-1", "flood.per_second"),
    ] {
        t.run_with_env(&["exec", "one.rhai"], &[(key, value)])
            .expect_code(2)
            .expect_stderr_contains(says);
    }
    t.run_with_env(
        &["exec", "one.rhai"],
        &[
            ("TGSCRIPT_HTTP_ALLOW", "api.example.com"),
            ("TGSCRIPT_HTTP_TIMEOUT_MS", "0"),
        ],
    )
    .expect_code(2)
    .expect_stderr_contains("timeout_ms must be at least 1");
}

#[test]
fn a_tenant_reaches_only_the_hosts_its_tenant_entry_allows() {
    use crate::bots::{server, token};
    let backend = backend();
    let (a, b) = (server("a"), server("b"));
    let t = TestDir::new();
    let probe = |name: &str| {
        r#"
        fn on_message(msg) {
            for host in ["127.0.0.1", "localhost"] {
                let url = "http://" + host + ":PORT/ok";
                let said = "";
                try {
                    said = `NAME ${host}: ${http_get(url).json.hello}`;
                } catch (e) {
                    said = `NAME ${host}: ${e.error}`;
                }
                send_message(msg.chat.id, said);
            }
        }
        "#
        .replace("PORT", &backend.port.to_string())
        .replace("NAME", name)
    };
    t.write("a/probe.rhai", &probe("a"));
    t.write("b/probe.rhai", &probe("b"));
    t.write(
        "tgscript.toml",
        &format!(
            "[http]\nallow = [\"127.0.0.1\", \"localhost\"]\nplain_http = [\"127.0.0.1\", \"localhost\"]\nprivate = [\"127.0.0.1\", \"localhost\"]\n\
             [[tenant]]\nname = \"b\"\nhttp_allow = [\"localhost\"]\n\
             [[bot]]\nid = \"a\"\ntoken_env = \"TOKEN_A\"\nscripts = \"a\"\napi_url = \"{}\"\n\
             [[bot]]\nid = \"b\"\ntoken_env = \"TOKEN_B\"\nscripts = \"b\"\napi_url = \"{}\"\n",
            a.url(),
            b.url(),
        ),
    );
    let (token_a, token_b) = (token("a"), token("b"));
    let run = t.spawn(
        &["run"],
        &[("TOKEN_A", token_a.as_str()), ("TOKEN_B", token_b.as_str())],
    );
    let wait = Duration::from_secs(30);
    let said = |server: &BotApiServer, text: &str| {
        server.world(|w| w.user_message(SANDBOX_CHAT_ID, crate::bots::ALICE, text, None));
        let calls = server
            .wait_for(wait, |calls| {
                calls.iter().filter(|c| c.method == "sendMessage").count() >= 2
            })
            .unwrap_or_else(|_| panic!("no answers: {}", run.stderr_so_far()));
        calls
            .iter()
            .filter(|c| c.method == "sendMessage")
            .filter_map(|c| c.params["text"].as_str().map(str::to_string))
            .collect::<Vec<_>>()
    };
    // Tenant a has no [[tenant]] entry: [http] allow as it is.
    assert_eq!(said(&a, "go"), ["a 127.0.0.1: world", "a localhost: world"]);
    assert_eq!(backend.hits.load(Ordering::SeqCst), 2);
    // Tenant b's entry narrows it to localhost: the other host is refused before anything
    // is sent.
    assert_eq!(
        said(&b, "go"),
        [
            "b 127.0.0.1: host \"127.0.0.1\" is not one tenant \"b\" may reach: add it to the tenant's [[tenant]] http_allow",
            "b localhost: world"
        ]
    );
    assert_eq!(
        backend.hits.load(Ordering::SeqCst),
        3,
        "b's refused call sent nothing"
    );
    let done = run.interrupt();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
}
