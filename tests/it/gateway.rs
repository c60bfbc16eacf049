//! The JSON gateway with a real WebSocket client (and HTTP) against the real binary.

use crate::accounts::{API_HASH, TDLIB_CONFIG, tdlib_data_dir};
use crate::util::{Background, TestDir};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub(crate) const WAIT: Duration = Duration::from_secs(20);
const TWO_SANDBOXES: &str = "default_account = 1\n[[account]]\nid = 1\nbackend = \"sandbox\"\n[[account]]\nid = 2\nbackend = \"sandbox\"\n";

pub(crate) struct Served {
    _dir: TestDir,
    pub(crate) bot: Background,
    pub(crate) addr: String,
}

/// `tgscript serve` on a free loopback port with `config`.
pub(crate) fn serve(config: &str, env: &[(&str, &str)]) -> Served {
    let dir = TestDir::new();
    dir.write("tgscript.toml", config);
    let bot = dir.spawn(&["serve", "--listen", "127.0.0.1:0"], env);
    let addr = bot.gateway_address();
    Served {
        _dir: dir,
        bot,
        addr,
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(
    addr: &str,
    token: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{addr}/ws").into_client_request()?;
    if let Some(token) = token {
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

pub(crate) async fn ask(ws: &mut Socket, frame: String) -> Value {
    ws.send(Message::Text(frame.into())).await.expect("send");
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("an answer in time");
        match message.expect("open").expect("frame") {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON event"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

async fn post(addr: &str, body: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/command"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    response.json().await.expect("JSON event")
}

#[test]
fn seed_commands_over_websocket_and_http() {
    let served = serve(TWO_SANDBOXES, &[]);
    runtime().block_on(async {
        let mut ws = connect(&served.addr, None).await.expect("connect");
        let ok = [
            (json!({"action": "get_active_sessions", "userbot_id": 1}), "sessions"),
            (json!({"action": "terminate_session", "userbot_id": 1, "session_id": 1002}), "terminated"),
            (json!({"action": "set_session_settings", "userbot_id": 1, "session_id": 1003, "can_accept_calls": false}), "can_accept_calls"),
            (json!({"action": "block_user", "userbot_id": 2, "user_id": 5, "block_list": "blockListMain"}), "is_blocked"),
            (json!({"action": "unblock_user", "userbot_id": 2, "user_id": 5}), "is_blocked"),
            (json!({"action": "get_blocked_users", "userbot_id": 2, "offset": 0, "limit": 10}), "total_count"),
            (json!({"action": "get_privacy_setting", "userbot_id": 1, "setting": "userPrivacySettingShowStatus"}), "mode"),
            (json!({"action": "get_privacy_settings", "userbot_id": 1, "settings": ["userPrivacySettingShowStatus", "newChatPrivacySettings"]}), "settings"),
            (json!({"action": "set_privacy_setting", "userbot_id": 1, "setting": "userPrivacySettingShowStatus", "mode": "contacts", "allow_user_ids": [123456789]}), "rules"),
            (json!({"action": "terminate_all_other_sessions", "userbot_id": 1}), "terminated"),
        ];
        for (i, (mut request, key)) in ok.into_iter().enumerate() {
            request["request_id"] = json!(format!("r{i}"));
            let action = request["action"].clone();
            let event = ask(&mut ws, request.to_string()).await;
            assert_eq!(event["type"], json!("chat_update"), "{event}");
            assert_eq!(event["event"], action, "{event}");
            assert_eq!(event["request_id"], json!(format!("r{i}")), "{event}");
            assert_eq!(event["userbot_id"], request["userbot_id"], "{event}");
            assert!(event["data"].get(key).is_some(), "{event}");
        }
        let unsupported = format!(
            "unsupported privacy setting (valid: {}, {})",
            tgscript::commands::account::PRIVACY_SETTINGS.join(", "),
            tgscript::commands::account::NEW_CHAT_SETTING
        );
        let errors = [
            (json!({"action": "terminate_session", "userbot_id": 1}), "session_id is required"),
            (json!({"action": "terminate_session", "userbot_id": 1, "session_id": 1001}), "current session can't be terminated via terminate_session"),
            (json!({"action": "set_session_settings", "userbot_id": 1, "session_id": 1001}), "at least one of can_accept_calls or can_accept_secret_chats is required"),
            (json!({"action": "block_user", "userbot_id": 1}), "user_id is required"),
            (json!({"action": "block_user", "userbot_id": 1, "user_id": 5, "block_list": "nope"}), "block_list must be a TDLib block list type"),
            (json!({"action": "get_privacy_setting", "userbot_id": 1, "setting": "nope"}), unsupported.as_str()),
            (json!({"action": "get_privacy_settings", "userbot_id": 1, "settings": 5}), "settings must be a list or string"),
            (json!({"action": "set_privacy_setting", "userbot_id": 1, "setting": "userPrivacySettingShowStatus", "mode": "friends"}), "mode must be one of: all, contacts, nobody"),
            (json!({"action": "get_active_sessions"}), "userbot_id is required"),
        ];
        for (i, (mut request, error)) in errors.into_iter().enumerate() {
            request["request_id"] = json!(100 + i);
            let event = ask(&mut ws, request.to_string()).await;
            assert_eq!(event["event"], json!(format!("{}_error", request["action"].as_str().unwrap_or_default())), "{event}");
            assert_eq!(event["error"], json!(error), "{event}");
            assert_eq!(event["request_id"], json!(100 + i), "{event}");
        }

        // A request_id too big for a 64-bit integer comes back digit for digit.
        for id in ["123456789012345678901234567890", "-98765432109876543210", "18446744073709551615"] {
            let request = format!(r#"{{"action": "get_active_sessions", "userbot_id": 1, "request_id": {id}}}"#);
            ws.send(Message::Text(request.clone().into())).await.expect("send");
            let answer = loop {
                match tokio::time::timeout(WAIT, ws.next()).await.expect("in time") {
                    Some(Ok(Message::Text(text))) => break text.to_string(),
                    Some(Ok(_)) => continue,
                    other => panic!("{other:?}"),
                }
            };
            assert!(answer.contains(&format!(r#""request_id":{id}"#)), "{answer}");
            let over_http = reqwest::Client::new()
                .post(format!("http://{}/command", served.addr))
                .header("content-type", "application/json")
                .body(request)
                .send()
                .await
                .expect("POST")
                .text()
                .await
                .expect("body");
            assert!(over_http.contains(&format!(r#""request_id":{id}"#)), "{over_http}");
        }

        // The same request over POST /command gives the same event.
        let request = json!({"action": "get_blocked_users", "userbot_id": 2, "request_id": "same"}).to_string();
        let over_ws = ask(&mut ws, request.clone()).await;
        let over_http = post(&served.addr, &request).await;
        assert_eq!(over_ws, over_http);
        let request = json!({"action": "terminate_session", "userbot_id": 2, "request_id": "e"}).to_string();
        assert_eq!(ask(&mut ws, request.clone()).await, post(&served.addr, &request).await);

        // run_script returns the value and the printed lines.
        let event = ask(&mut ws, json!({"action": "run_script", "script": "print(`n is ${n}`); n * 2", "vars": {"n": 21}, "request_id": 9}).to_string()).await;
        assert_eq!(event["data"], json!({"value": 42, "printed": ["n is 21"]}), "{event}");
        let event = ask(&mut ws, json!({"action": "run_script", "script": "loop {}"}).to_string()).await;
        assert_eq!(event["event"], json!("run_script_error"));
        assert!(event["error"].as_str().is_some_and(|e| e.contains("max_operations")), "{event}");
    });
}

#[test]
fn bad_input_gets_an_error_event_and_the_connection_keeps_working() {
    let served = serve(TWO_SANDBOXES, &[]);
    runtime().block_on(async {
        let mut ws = connect(&served.addr, None).await.expect("connect");
        let cases = [
            (
                json!({"action": "get_active_sessions", "userbot_id": 7, "request_id": 1})
                    .to_string(),
                "get_active_sessions_error",
                "unknown userbot_id 7",
            ),
            (
                json!({"action": "launch_rockets", "userbot_id": 1, "request_id": 2}).to_string(),
                "error",
                "unknown action 'launch_rockets'",
            ),
            ("{not json".to_string(), "error", "invalid JSON"),
            (
                "[1, 2]".to_string(),
                "error",
                "a request must be a JSON object, got an array",
            ),
            (
                json!({"userbot_id": 1}).to_string(),
                "error",
                "action is required",
            ),
            (
                json!({"action": "terminate_session", "userbot_id": 1, "session_id": "five"})
                    .to_string(),
                "terminate_session_error",
                "session_id must be an integer",
            ),
            (
                format!(
                    "{{\"action\": \"run_script\", \"script\": \"{}\"}}",
                    "x".repeat(2 * 1024 * 1024)
                ),
                "error",
                "request too large",
            ),
        ];
        for (frame, event_name, error) in cases {
            let event = ask(&mut ws, frame).await;
            assert_eq!(event["event"], json!(event_name), "{event}");
            assert!(
                event["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with(error)),
                "{event}"
            );
        }
        let event = ask(
            &mut ws,
            json!({"action": "get_active_sessions", "userbot_id": 1}).to_string(),
        )
        .await;
        assert_eq!(
            event["event"],
            json!("get_active_sessions"),
            "still served: {event}"
        );
    });
}

#[test]
fn token_required_and_non_loopback_refused_without_one() {
    let served = serve(
        TWO_SANDBOXES,
        &[("TGSCRIPT_GATEWAY_TOKEN", "s3cret-gateway-token")],
    );
    runtime().block_on(async {
        let refused = connect(&served.addr, None).await.expect_err("no token");
        assert!(refused.to_string().contains("401"), "{refused}");
        let wrong = connect(&served.addr, Some("guess"))
            .await
            .expect_err("wrong token");
        assert!(wrong.to_string().contains("401"), "{wrong}");
        let status = reqwest::Client::new()
            .post(format!("http://{}/command", served.addr))
            .body("{}")
            .send()
            .await
            .expect("POST")
            .status();
        assert_eq!(status.as_u16(), 401);
        let mut ws = connect(&served.addr, Some("s3cret-gateway-token"))
            .await
            .expect("served with the token");
        let event = ask(
            &mut ws,
            json!({"action": "get_active_sessions", "userbot_id": 1}).to_string(),
        )
        .await;
        assert_eq!(event["event"], json!("get_active_sessions"));
    });
    assert!(
        !served.bot.stderr_so_far().contains("s3cret-gateway-token"),
        "token leaked"
    );

    let t = TestDir::new();
    t.run(&["serve", "--listen", "0.0.0.0:0"])
        .expect_code(2)
        .expect_stderr_contains("refusing to listen on 0.0.0.0:0 without a token");
}

#[test]
fn offline_tdlib_account_answers_with_tdlibs_unauthorized() {
    let data = tdlib_data_dir();
    let served = serve(
        TDLIB_CONFIG,
        &[("TGSCRIPT_DATA_DIR", data), ("TEST_API_HASH", API_HASH)],
    );
    runtime().block_on(async {
        let mut ws = connect(&served.addr, None).await.expect("connect");
        let event = ask(&mut ws, json!({"action": "get_active_sessions", "userbot_id": 1, "request_id": "td"}).to_string()).await;
        assert_eq!(
            event,
            json!({"v": 1, "type": "chat_update", "event": "get_active_sessions_error", "userbot_id": 1, "request_id": "td", "error": "Unauthorized", "code": 401})
        );
        // POST /command answers with TDLib's code as the status.
        let status = reqwest::Client::new()
            .post(format!("http://{}/command", served.addr))
            .header("content-type", "application/json")
            .body(json!({"action": "get_active_sessions", "userbot_id": 1}).to_string())
            .send()
            .await
            .expect("POST")
            .status();
        assert_eq!(status.as_u16(), 401);
    });
}

#[test]
fn ten_clients_a_thousand_requests_each_answered_exactly_once() {
    const CLIENTS: usize = 10;
    const REQUESTS: usize = 1000;
    let served = serve(TWO_SANDBOXES, &[]);
    runtime().block_on(async {
        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            let addr = served.addr.clone();
            clients.push(tokio::spawn(async move {
                let ws = connect(&addr, None).await.expect("connect");
                let (mut sink, mut stream) = ws.split();
                let sender = tokio::spawn(async move {
                    for r in 0..REQUESTS {
                        let request = json!({"action": "get_blocked_users", "userbot_id": 1 + (r % 2), "request_id": format!("{c}-{r}")});
                        sink.send(Message::Text(request.to_string().into())).await.expect("send");
                    }
                    sink
                });
                let mut seen = std::collections::HashMap::new();
                while seen.len() < REQUESTS {
                    let frame = tokio::time::timeout(WAIT, stream.next()).await.expect("in time").expect("open").expect("frame");
                    if let Message::Text(text) = frame {
                        let event: Value = serde_json::from_str(&text).expect("JSON");
                        assert_eq!(event["event"], json!("get_blocked_users"), "{event}");
                        *seen.entry(event["request_id"].as_str().unwrap_or_default().to_string()).or_insert(0) += 1;
                    }
                }
                let _ = sender.await;
                seen
            }));
        }
        for (c, client) in clients.into_iter().enumerate() {
            let seen = client.await.expect("client");
            assert_eq!(seen.len(), REQUESTS);
            for r in 0..REQUESTS {
                assert_eq!(seen.get(&format!("{c}-{r}")), Some(&1), "request {c}-{r}");
            }
        }
    });
}

#[test]
fn web_pages_of_other_origins_are_refused_and_plain_clients_served() {
    let served = serve(
        "default_account = 1\n[[account]]\nid = 1\nbackend = \"sandbox\"\n[gateway]\nallowed_origins = [\"https://console.example\"]\n",
        &[],
    );
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let url = format!("http://{}/command", served.addr);
        let terminate = json!({"action": "terminate_all_other_sessions", "userbot_id": 1});
        let send = |origin: Option<&str>, content_type: &str, body: String| {
            let mut request = client
                .post(&url)
                .header("content-type", content_type)
                .body(body);
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            request.send()
        };
        // What any web page may send without asking: a text/plain POST from its origin.
        let page = send(
            Some("http://evil.example"),
            "text/plain",
            terminate.to_string(),
        );
        assert_eq!(page.await.expect("POST").status().as_u16(), 403);
        let page_json = send(
            Some("http://evil.example"),
            "application/json",
            terminate.to_string(),
        );
        assert_eq!(page_json.await.expect("POST").status().as_u16(), 403);
        let not_json = send(None, "text/plain", terminate.to_string())
            .await
            .expect("POST");
        assert_eq!(not_json.status().as_u16(), 415);

        let sessions = json!({"action": "get_active_sessions", "userbot_id": 1}).to_string();
        let event = post(&served.addr, &sessions).await;
        assert_eq!(
            event["data"]["sessions"].as_array().map(Vec::len),
            Some(3),
            "nothing was terminated: {event}"
        );
        let allowed = send(
            Some("https://console.example"),
            "application/json",
            sessions,
        )
        .await
        .expect("POST");
        assert_eq!(allowed.status().as_u16(), 200);

        let mut request = format!("ws://{}/ws", served.addr)
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("origin", "http://evil.example".parse().expect("header"));
        let refused = tokio_tungstenite::connect_async(request)
            .await
            .expect_err("a WebSocket from another origin");
        assert!(refused.to_string().contains("403"), "{refused}");
        let mut ws = connect(&served.addr, None).await.expect("a plain client");
        let event = ask(
            &mut ws,
            json!({"action": "get_active_sessions", "userbot_id": 1}).to_string(),
        )
        .await;
        assert_eq!(event["event"], json!("get_active_sessions"), "{event}");
    });
}

#[test]
fn a_client_that_never_reads_is_cut_off_and_others_are_served() {
    let served = serve(TWO_SANDBOXES, &[]);
    runtime().block_on(async {
        // 200 answers of 50 KB each: far more than the socket buffers hold unread.
        let script = "let s = \"\"; for i in 0..50000 { s += \"y\"; } s";
        let mut greedy = connect(&served.addr, None).await.expect("connect");
        let frames: Vec<String> = (0..200)
            .map(|i| json!({"action": "run_script", "script": script, "request_id": i}).to_string())
            .collect();
        let flood = tokio::spawn(async move {
            for frame in frames {
                if greedy.send(Message::Text(frame.into())).await.is_err() {
                    break;
                }
            }
            greedy // kept open, never read
        });
        let mut polite = connect(&served.addr, None).await.expect("connect");
        let event = ask(
            &mut polite,
            json!({"action": "get_active_sessions", "userbot_id": 1, "request_id": "p"})
                .to_string(),
        )
        .await;
        assert_eq!(event["request_id"], json!("p"), "{event}");
        // Cut off: its queue of answers full ("too slow"), or one left unread for 10 s.
        served.bot.wait_stderr("unread", 1, WAIT);
        let event = ask(
            &mut polite,
            json!({"action": "get_blocked_users", "userbot_id": 2, "request_id": "q"}).to_string(),
        )
        .await;
        assert_eq!(
            event["request_id"],
            json!("q"),
            "still served after: {event}"
        );
        drop(flood);
    });
}

#[test]
fn past_max_connections_the_connection_idle_the_longest_makes_room() {
    use tokio::io::AsyncReadExt;
    let served = serve(TWO_SANDBOXES, &[]);
    runtime().block_on(async {
        let mut idle = Vec::new();
        for _ in 0..tgscript::gateway::MAX_CONNECTIONS {
            idle.push(
                tokio::net::TcpStream::connect(&served.addr)
                    .await
                    .expect("connect"),
            );
        }
        let request = json!({"action": "get_active_sessions", "userbot_id": 1}).to_string();
        let event = tokio::time::timeout(WAIT, post(&served.addr, &request))
            .await
            .expect("served while every place is held by a connection that sent nothing");
        assert_eq!(event["event"], json!("get_active_sessions"), "{event}");
        // The first connection (idle the longest) was closed for it.
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(WAIT, idle[0].read(&mut byte))
            .await
            .expect("the oldest idle connection was closed");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    });
}

#[test]
fn a_client_that_sends_its_headers_too_slowly_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let served = serve(TWO_SANDBOXES, &[]);
    runtime().block_on(async {
        let mut slow = tokio::net::TcpStream::connect(&served.addr)
            .await
            .expect("connect");
        slow.write_all(b"POST /command HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("the first header line");
        // Meanwhile, other clients are served.
        let request = json!({"action": "get_active_sessions", "userbot_id": 1}).to_string();
        let event = post(&served.addr, &request).await;
        assert_eq!(event["event"], json!("get_active_sessions"), "{event}");
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(
            tgscript::gateway::HEADER_TIMEOUT + WAIT,
            slow.read_to_end(&mut rest),
        )
        .await;
        assert!(
            matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
            "the server closed the slow connection"
        );
        // Headers in time, then a body that never comes: 408 with an error event.
        let mut stalled = tokio::net::TcpStream::connect(&served.addr)
            .await
            .expect("connect");
        stalled
            .write_all(b"POST /command HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"act")
            .await
            .expect("headers and a little of the body");
        let mut answer = vec![0; 4096];
        let read = tokio::time::timeout(WAIT, stalled.read(&mut answer))
            .await
            .expect("an answer before the test's own limit")
            .expect("read");
        let answer = String::from_utf8_lossy(&answer[..read]);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("did not arrive within"), "{answer}");
        // A body over the frame limit is refused with the documented event, unread.
        let big = format!(r#"{{"action": "run_script", "script": "{}"}}"#, "x".repeat(2 << 20));
        let event = post(&served.addr, &big).await;
        assert!(
            event["error"].as_str().unwrap_or_default().contains("request too large"),
            "{event}"
        );
    });
}

#[test]
fn a_closed_websocket_leaves_no_socket_open_in_the_gateway() {
    let served = serve(TWO_SANDBOXES, &[]);
    let open_files = || {
        std::fs::read_dir(format!("/proc/{}/fd", served.bot.pid()))
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    let rt = runtime();
    // One connection answered and closed first: what a connection may leave for good (a
    // pool, a cache) is there before the baseline.
    let talk = || {
        rt.block_on(async {
            let mut ws = connect(&served.addr, None).await.expect("connected");
            let answer = ask(
                &mut ws,
                json!({"action": "get_active_sessions", "userbot_id": 1}).to_string(),
            )
            .await;
            assert_eq!(answer["event"], "get_active_sessions", "{answer}");
            ws.close(None).await.expect("closed");
        })
    };
    talk();
    let baseline = open_files();
    for _ in 0..50 {
        talk();
    }
    let deadline = std::time::Instant::now() + WAIT;
    let mut now = open_files();
    while now > baseline + 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        now = open_files();
    }
    assert!(
        now <= baseline + 5,
        "{now} files open after 50 closed connections (baseline {baseline})"
    );
}
