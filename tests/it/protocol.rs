//! The gateway's protocol as one set of rules: the reference (`docs --gateway`) lists exactly
//! the actions the dispatch accepts, unknown fields warn on every kind of action, an unknown
//! action names the known ones, `POST /command` answers errors with 4xx/5xx, and browsers
//! may present the token as a WebSocket subprotocol.

use crate::gateway::{ask, connect, runtime, serve};
use crate::util::{Background, TestDir};
use serde_json::{Value, json};
use tgscript::sandbox::world::{OWNER_ID, SANDBOX_CHAT_ID};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ADMIN: &str = "admin-token-of-the-protocol-tests";

/// Every action the dispatch accepts, by name.
fn accepted() -> Vec<&'static str> {
    tgscript::gateway::actions::all()
        .map(|a| a.name())
        .collect()
}

#[test]
fn the_reference_lists_exactly_the_actions_the_dispatch_accepts() {
    let t = TestDir::new();
    let run = t.run(&["docs", "--gateway", "--format", "json"]);
    run.expect_code(0);
    let json: Value = serde_json::from_str(&run.stdout).expect("docs --gateway is JSON");
    let listed: Vec<&str> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(listed, accepted());
    for name in [
        "get_active_sessions",
        "tg_chat_permission",
        "run_script",
        "add_bot",
    ] {
        assert!(listed.contains(&name), "{name} listed");
    }
    let terminate = json["actions"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["name"] == "terminate_session"))
        .expect("terminate_session");
    assert_eq!(terminate["kind"], "account");
    assert_eq!(terminate["access"], "anyone");
    assert_eq!(
        terminate["fields"],
        json!([{"name": "session_id", "type": "integer", "required": true, "default": null, "doc": "the session to end (an id from get_active_sessions)"}])
    );
    assert_eq!(terminate["example"]["request"]["session_id"], 1002);
    assert_eq!(terminate["example"]["event"]["event"], "terminate_session");
    let add_bot = json["actions"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["name"] == "add_bot"))
        .expect("add_bot");
    assert_eq!(
        (&add_bot["kind"], &add_bot["access"]),
        (&json!("gateway"), &json!("admin"))
    );
    let envelope: Vec<&str> = json["envelope"]
        .as_array()
        .expect("envelope")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(envelope, ["action", "request_id", "userbot_id", "bot_id"]);

    let markdown = t.run(&["docs", "--gateway"]);
    markdown.expect_code(0);
    for name in accepted() {
        markdown.expect_stdout_contains(&format!("\n## `{name}`\n"));
    }
    markdown.expect_stdout_contains("| `session_id` | integer | required | — |");
}

/// `tgscript run` on the sandbox bot and account, with the gateway on a free port and an
/// admin token: the process and the gateway's address.
fn sandbox_run(t: &TestDir) -> (Background, String) {
    t.write("scripts/hello.rhai", "fn on_message(msg) { }\n");
    t.write(
        "tgscript.toml",
        &format!("[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"{ADMIN}\"\n"),
    );
    let run = t.spawn_with_input(&["run", "scripts"], &[], std::process::Stdio::piped());
    let addr = run.gateway_address();
    (run, addr)
}

/// POST `request` to `addr`'s `/command` with `token` as the bearer: the status and event.
pub(crate) fn command(addr: &str, token: Option<&str>, request: &Value) -> (u16, Value) {
    runtime().block_on(async {
        let mut post = reqwest::Client::new()
            .post(format!("http://{addr}/command"))
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
fn unknown_fields_warn_on_every_kind_of_action_and_errors_get_their_status() {
    let t = TestDir::new();
    let (_run, addr) = sandbox_run(&t);
    let warned = [
        (
            json!({"action": "get_active_sessions", "userbot_id": 1, "options": {}}),
            "unknown field 'options' ignored (known: action, request_id, userbot_id, bot_id)",
        ),
        (
            json!({"action": "tg_get_chat_member", "chat_id": SANDBOX_CHAT_ID, "user_id": OWNER_ID, "options": {}}),
            "unknown field 'options' ignored (known: chat_id, user_id, action, request_id, userbot_id, bot_id)",
        ),
        (
            json!({"action": "run_script", "script": "40 + 2", "options": {}}),
            "unknown field 'options' ignored (known: script, vars, action, request_id, userbot_id)",
        ),
        (
            json!({"action": "list_bots", "options": {}}),
            "unknown field 'options' ignored (known: action, request_id, userbot_id)",
        ),
    ];
    for (request, warning) in warned {
        let (status, event) = command(&addr, Some(ADMIN), &request);
        assert_eq!(status, 200, "{request}: {event}");
        assert_eq!(event["event"], request["action"], "served: {event}");
        assert_eq!(event["warnings"], json!([warning]), "{event}");
    }
    // Fields passed on to the Bot API are not unknown; a request of known fields has none.
    let (status, sent) = command(
        &addr,
        None,
        &json!({"action": "send_message", "chat_id": SANDBOX_CHAT_ID, "text": "hi", "parse_mode": "HTML"}),
    );
    assert_eq!(
        (status, &sent["event"]),
        (200, &json!("send_message")),
        "{sent}"
    );
    assert!(sent.get("warnings").is_none(), "{sent}");
    // An error event carries them too.
    let (status, refused) = command(
        &addr,
        None,
        &json!({"action": "terminate_session", "userbot_id": 1, "sesion_id": 1002}),
    );
    assert_eq!(status, 400, "a validation error: {refused}");
    assert_eq!(refused["error"], "session_id is required", "{refused}");
    assert_eq!(
        refused["warnings"],
        json!([
            "unknown field 'sesion_id' ignored (known: session_id, action, request_id, userbot_id, bot_id)"
        ])
    );

    // An unknown action names every accepted one.
    let (status, unknown) = command(&addr, None, &json!({"action": "launch_rockets"}));
    assert_eq!(status, 400, "{unknown}");
    assert_eq!(unknown["event"], "error");
    assert_eq!(
        unknown["error"],
        format!(
            "unknown action 'launch_rockets' (known: {})",
            accepted().join(", ")
        )
    );
    // The other statuses: an admin action without the admin token, Telegram's own code.
    let (status, unauthorized) = command(&addr, None, &json!({"action": "list_bots"}));
    assert_eq!(
        (status, &unauthorized["code"]),
        (401, &json!(401)),
        "{unauthorized}"
    );
    let (status, telegram) = command(
        &addr,
        None,
        &json!({"action": "tg_ban_chat_member", "chat_id": SANDBOX_CHAT_ID, "user_id": OWNER_ID}),
    );
    assert_eq!(telegram["event"], "tg_ban_chat_member_error", "{telegram}");
    let code = telegram["code"].as_u64().expect("Telegram's code");
    assert_eq!(
        u64::from(status),
        code,
        "the status is Telegram's code: {telegram}"
    );
    assert!((400..500).contains(&status), "{telegram}");
    let (status, bad_json) = runtime().block_on(async {
        let response = reqwest::Client::new()
            .post(format!("http://{addr}/command"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("POST");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    });
    assert_eq!(status, 400, "{bad_json}");
    let big = json!({"action": "run_script", "script": "x".repeat(2 << 20)});
    let (status, too_large) = command(&addr, None, &big);
    assert_eq!(status, 413, "{too_large}");
}

#[test]
fn a_browser_may_present_the_token_as_a_websocket_subprotocol() {
    const TOKEN: &str = "subprotocol-gateway-token";
    let served = serve(
        "default_account = 1\n[[account]]\nid = 1\nbackend = \"sandbox\"\n",
        &[("TGSCRIPT_GATEWAY_TOKEN", TOKEN)],
    );
    let offer = |protocols: String| {
        let mut request = format!("ws://{}/ws", served.addr)
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocols.parse().expect("header"));
        tokio_tungstenite::connect_async(request)
    };
    runtime().block_on(async {
        let (mut ws, response) = offer(format!("tgscript, bearer.{TOKEN}"))
            .await
            .expect("the token as a subprotocol is accepted");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.as_bytes()),
            Some(&b"tgscript"[..]),
            "the tgscript subprotocol is selected, the token never echoed"
        );
        let event = ask(
            &mut ws,
            json!({"action": "get_active_sessions", "userbot_id": 1}).to_string(),
        )
        .await;
        assert_eq!(event["event"], "get_active_sessions", "{event}");
        let wrong = offer("tgscript, bearer.guess".to_string())
            .await
            .expect_err("a wrong token");
        assert!(wrong.to_string().contains("401"), "{wrong}");
        let none = offer("tgscript".to_string()).await.expect_err("no token");
        assert!(none.to_string().contains("401"), "{none}");
        // The header still works.
        let mut ws = connect(&served.addr, Some(TOKEN))
            .await
            .expect("header token");
        let event = ask(&mut ws, json!({"action": "list_bots"}).to_string()).await;
        assert_eq!(event["event"], "list_bots_error", "{event}");
    });
    assert!(!served.bot.stderr_so_far().contains(TOKEN), "token leaked");
}

#[test]
fn the_consoles_actions_refuse_bad_input_with_words_and_change_nothing() {
    let t = TestDir::new();
    let (_run, addr) = sandbox_run(&t);
    let ask = |request: Value| command(&addr, Some(ADMIN), &request);
    for (request, error) in [
        (json!({"action": "inbox_retry"}), "update_id is required"),
        (
            json!({"action": "inbox_retry", "update_id": "x"}),
            "update_id must be an integer",
        ),
        (
            json!({"action": "inbox_retry", "update_id": 424242}),
            "update 424242 is not in the inbox",
        ),
        (
            json!({"action": "activity", "after": -1}),
            "after must be a whole number ≥ 0",
        ),
        (
            json!({"action": "activity", "kind": "calls"}),
            "kind must be one of chat, call, print, warning, error, reload",
        ),
        (
            json!({"action": "sandbox_chat", "line": "  "}),
            "line is required",
        ),
        (
            json!({"action": "sandbox_chat", "line": "/press"}),
            "usage: /press [#N] DATA",
        ),
        (
            json!({"action": "check_script", "name": "../x", "source": "1"}),
            "a file name like anti_spam.rhai",
        ),
        (
            json!({"action": "list_scripts", "bot_id": "nope"}),
            "no bot \"nope\" runs here",
        ),
        (
            json!({"action": "inbox_list", "all": "yes"}),
            "all must be true or false",
        ),
        (
            json!({"action": "check_script", "name": "big.rhai", "source": "x".repeat(200_000)}),
            "[limits] max_script_size is",
        ),
        (
            json!({"action": "add_account", "userbot_id": 9, "backend": "sandbox", "owner": "a b"}),
            "owner \"a b\" is not a tenant name",
        ),
    ] {
        let (status, event) = ask(request.clone());
        assert_eq!(status, 400, "{request} → {event}");
        assert!(
            event["error"].as_str().is_some_and(|e| e.contains(error)),
            "{request} → {event}"
        );
    }
    // The admin actions need the admin token.
    let (status, _) = command(&addr, None, &json!({"action": "activity"}));
    assert_eq!(status, 401);

    // check_script finds the problem at its place and writes nothing.
    let (status, event) = ask(json!({
        "action": "check_script", "name": "hello.rhai",
        "source": "fn on_message(msg) {\n    let = 1;\n}\n"
    }));
    assert_eq!(status, 200, "{event}");
    let problems = event["data"]["problems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(problems.len(), 1, "{event}");
    assert_eq!(problems[0]["line"], json!(2), "{event}");
    assert_eq!(problems[0]["column"], json!(9), "{event}");
    let files: Vec<String> = std::fs::read_dir(t.path().join("scripts"))
        .expect("scripts")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["hello.rhai"], "no draft is left");
    assert_eq!(
        std::fs::read_to_string(t.path().join("scripts/hello.rhai")).expect("read"),
        "fn on_message(msg) { }\n"
    );
    let (_, listed) = ask(json!({"action": "list_scripts"}));
    assert_eq!(listed["data"]["names"], json!(["hello.rhai"]), "{listed}");

    // A line said is in the activity after what was there, numbered on.
    let (_, before) = ask(json!({"action": "activity"}));
    let next = before["data"]["next"].as_u64().expect("next");
    let (status, said) = ask(json!({"action": "sandbox_chat", "line": "/as bob hi"}));
    assert_eq!(
        (status, &said["data"]["echo"]),
        (200, &json!("#1 bob: hi")),
        "{said}"
    );
    let (_, after) = ask(json!({"action": "activity", "after": next}));
    let entries = after["data"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(entries.len(), 1, "{after}");
    assert_eq!(entries[0]["kind"], json!("chat"));
    assert_eq!(entries[0]["text"], json!("#1 bob: hi"));
    assert_eq!(entries[0]["seq"], json!(next + 1));
    assert_eq!(after["data"]["next"], json!(next + 1));
}

/// Where `answer` does not have the shape of `example`: the same JSON types, every key of an
/// example object present (more are fine: Telegram's objects carry more than an example
/// shows), an array's first item like the example's first; a `null` example takes anything.
fn unlike(answer: &Value, example: &Value, at: &str) -> Vec<String> {
    match (example, answer) {
        (Value::Null, _) => Vec::new(),
        (Value::Object(want), Value::Object(got)) => want
            .iter()
            .flat_map(|(key, want)| match got.get(key) {
                Some(got) => unlike(got, want, &format!("{at}.{key}")),
                None => vec![format!("{at}.{key} is missing")],
            })
            .collect(),
        (Value::Array(want), Value::Array(got)) => match (want.first(), got.first()) {
            (Some(want), Some(got)) => unlike(got, want, &format!("{at}[0]")),
            _ => Vec::new(),
        },
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => Vec::new(),
        _ => vec![format!("{at} is {answer}, the example shows {example}")],
    }
}

/// Every example request is taken by its action (never the generic `error` event of a
/// request that names no action or is malformed); each the sandbox can carry out is answered
/// with its example's event name and data shape, and each it cannot (an example's user,
/// message, bot or account is not in the sandbox) with its action's error event, of the
/// error event's shape.
#[test]
fn each_reference_example_request_gets_an_event_of_its_examples_name_and_shape() {
    let t = TestDir::new();
    let docs = t.run(&["docs", "--gateway", "--format", "json"]);
    docs.expect_code(0);
    let reference: Value = serde_json::from_str(&docs.stdout).expect("JSON");
    let (_run, addr) = sandbox_run(&t);
    let mut contradicted = Vec::new();
    let (mut answered, mut succeeded) = (0, 0);
    runtime().block_on(async {
        let mut ws = connect(&addr, Some(ADMIN)).await.expect("connect");
        for entry in reference["actions"].as_array().expect("actions") {
            let example = &entry["example"];
            let event = ask(&mut ws, example["request"].to_string()).await;
            answered += 1;
            let name = &example["event"]["event"];
            let failed = json!(format!("{}_error", name.as_str().unwrap_or_default()));
            let wrong = match &event["event"] {
                got if got == name => {
                    succeeded += 1;
                    unlike(&event, &example["event"], "")
                }
                got if *got == failed => {
                    let error_shape = json!({"v": 1, "type": "chat_update", "event": failed, "request_id": 1, "error": ""});
                    unlike(&event, &error_shape, "")
                }
                got => vec![format!("answered {got}")],
            };
            if !wrong.is_empty() {
                contradicted.push(format!(
                    "{}: {} (got {event})",
                    entry["name"],
                    wrong.join("; ")
                ));
            }
        }
    });
    assert_eq!(answered, accepted().len());
    // Most examples act on what the sandbox has (its group, account 1, the scripts folder).
    assert!(
        succeeded * 2 > answered,
        "{succeeded} of {answered} succeeded"
    );
    assert!(
        contradicted.is_empty(),
        "{} example(s) contradict the server:\n{}",
        contradicted.len(),
        contradicted.join("\n")
    );
}

#[test]
fn a_page_of_an_allowed_origin_gets_its_preflight_answered_and_another_is_refused() {
    const TOKEN: &str = "cors-gateway-token";
    let served = serve(
        "default_account = 1\n[[account]]\nid = 1\nbackend = \"sandbox\"\n[gateway]\nallowed_origins = [\"https://app.example\"]\n",
        &[("TGSCRIPT_GATEWAY_TOKEN", TOKEN)],
    );
    runtime().block_on(async {
        let client = reqwest::Client::new();
        for path in ["/v1/command", "/command"] {
            let url = format!("http://{}{path}", served.addr);
            let preflight = |origin: &str| {
                client
                    .request(reqwest::Method::OPTIONS, &url)
                    .header("origin", origin)
                    .header("access-control-request-method", "POST")
                    .header(
                        "access-control-request-headers",
                        "authorization, content-type",
                    )
                    .send()
            };
            let allowed = preflight("https://app.example").await.expect("OPTIONS");
            assert_eq!(allowed.status().as_u16(), 204, "{path}");
            let header = |name: &str| {
                allowed
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_lowercase)
            };
            assert_eq!(
                header("access-control-allow-origin").as_deref(),
                Some("https://app.example")
            );
            let headers = header("access-control-allow-headers").unwrap_or_default();
            assert!(
                headers.contains("authorization") && headers.contains("content-type"),
                "{headers}"
            );
            assert!(header("access-control-allow-methods").is_some_and(|m| m.contains("post")));

            let refused = preflight("https://evil.example").await.expect("OPTIONS");
            assert_eq!(refused.status().as_u16(), 403, "{path}");
            for name in [
                "access-control-allow-origin",
                "access-control-allow-headers",
                "access-control-allow-methods",
            ] {
                assert!(refused.headers().get(name).is_none(), "{name} on a refusal");
            }

            // The page's request itself: answered, and readable by the page.
            let answer = client
                .post(&url)
                .header("origin", "https://app.example")
                .header("content-type", "application/json")
                .bearer_auth(TOKEN)
                .body(json!({"action": "get_active_sessions", "userbot_id": 1}).to_string())
                .send()
                .await
                .expect("POST");
            assert_eq!(answer.status().as_u16(), 200);
            assert_eq!(
                answer
                    .headers()
                    .get("access-control-allow-origin")
                    .map(|v| v.as_bytes()),
                Some(&b"https://app.example"[..])
            );
            let event: Value = answer.json().await.expect("an event");
            assert_eq!(event["event"], "get_active_sessions", "{event}");
        }
    });
}

#[test]
fn the_bearer_scheme_in_any_case_v1_paths_and_subprotocol_and_v_in_every_event() {
    const TOKEN: &str = "versioned-gateway-token";
    let served = serve(
        "default_account = 1\n[[account]]\nid = 1\nbackend = \"sandbox\"\n",
        &[("TGSCRIPT_GATEWAY_TOKEN", TOKEN)],
    );
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let post = |path: &str, authorization: String| {
            client
                .post(format!("http://{}{path}", served.addr))
                .header("content-type", "application/json")
                .header("authorization", authorization)
                .body(
                    json!({"action": "get_active_sessions", "userbot_id": 1, "request_id": 3})
                        .to_string(),
                )
                .send()
        };
        for scheme in ["Bearer", "bearer", "BEARER"] {
            for path in ["/v1/command", "/command"] {
                let answer = post(path, format!("{scheme} {TOKEN}")).await.expect("POST");
                assert_eq!(answer.status().as_u16(), 200, "{scheme} on {path}");
                let event: Value = answer.json().await.expect("an event");
                assert_eq!(
                    (&event["v"], &event["event"], &event["request_id"]),
                    (&json!(1), &json!("get_active_sessions"), &json!(3)),
                    "{event}"
                );
            }
        }
        let wrong = post("/v1/command", "bearer guess".into())
            .await
            .expect("POST");
        assert_eq!(wrong.status().as_u16(), 401);
        let refusal: Value = wrong.json().await.expect("JSON");
        assert_eq!(refusal["v"], 1, "{refusal}");

        let mut request = format!("ws://{}/v1/ws", served.addr)
            .into_client_request()
            .expect("request");
        let headers = request.headers_mut();
        headers.insert(
            "sec-websocket-protocol",
            "tgscript.v1".parse().expect("header"),
        );
        headers.insert(
            "authorization",
            format!("bearer {TOKEN}").parse().expect("header"),
        );
        let (mut ws, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("/v1/ws");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.as_bytes()),
            Some(&b"tgscript.v1"[..])
        );
        for request in [
            json!({"action": "get_active_sessions", "userbot_id": 1}),
            json!({"action": "no_such_action"}),
            json!({"action": "terminate_session", "userbot_id": 1}),
        ] {
            let event = ask(&mut ws, request.to_string()).await;
            assert_eq!(event["v"], 1, "{event}");
        }
    });
}
