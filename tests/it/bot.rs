//! Bot API scenarios: the real binary (`run` and `exec`) against the local Bot API server,
//! asserting the exact requests Telegram would receive.

use crate::util::{TOKEN, TestDir};
use serde_json::{Value, json};
use std::time::Duration;
use tgscript::sandbox::world::{BOT_ID, ChatKind, OWNER_ID, SANDBOX_CHAT_ID, Status};
use tgscript::sandbox::{BotApiServer, Recorded, Refusal, World};

const WAIT: Duration = Duration::from_secs(20);
const ALICE: i64 = 1001;
const BOB: i64 = 1002;

fn server() -> BotApiServer {
    let mut world = World::new();
    world.add_user(ALICE, "Alice");
    world.add_user(BOB, "Bob");
    BotApiServer::start(world, Some(TOKEN)).expect("start the local Bot API server")
}

fn env(server: &BotApiServer) -> Vec<(&'static str, String)> {
    vec![
        ("TELOXIDE_TOKEN", TOKEN.to_string()),
        ("TELOXIDE_API_URL", server.url()),
    ]
}

fn env_refs<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Wait until `n` calls of `method` were recorded; panics with everything recorded if not.
fn wait_calls(server: &BotApiServer, method: &str, n: usize) -> Vec<Recorded> {
    match server.wait_for(WAIT, |calls| {
        calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .count()
            >= n
    }) {
        Ok(_) => server.calls_of(method),
        Err(calls) => panic!("expected {n} {method} call(s), got: {calls:#?}"),
    }
}

fn all_true_but_topics() -> Value {
    json!({
        "can_send_messages": true, "can_send_audios": true, "can_send_documents": true,
        "can_send_photos": true, "can_send_videos": true, "can_send_video_notes": true,
        "can_send_voice_notes": true, "can_send_polls": true, "can_send_other_messages": true,
        "can_add_web_page_previews": true, "can_change_info": true, "can_invite_users": true,
        "can_pin_messages": true, "can_manage_topics": false,
    })
}

#[test]
fn seed_example_sends_one_restriction_to_the_current_chat() {
    let server = server();
    let t = TestDir::new();
    t.write(
        "scripts/perm.rhai",
        "fn on_message(msg) {\n    tg_chat_permission(msg.from.id, [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]);\n}\n",
    );
    let vars = env(&server);
    let bot = t.spawn(&["run", "scripts"], &env_refs(&vars));
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "hi", None));
    let calls = wait_calls(&server, "restrictChatMember", 1);
    let done = bot.interrupt();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(
        calls[0].params,
        json!({
            "chat_id": SANDBOX_CHAT_ID,
            "user_id": ALICE,
            "permissions": all_true_but_topics(),
            "use_independent_chat_permissions": true,
        })
    );
    assert_eq!(done.code, Some(0), "clean stop on Ctrl-C\n{}", done.stderr);
    assert!(
        !done.all_output().contains(TOKEN),
        "token leaked:\n{}",
        done.all_output()
    );
}

/// Run `script` with `exec` connected to `server`; returns stdout after asserting exit 0.
fn exec(server: &BotApiServer, script: &str) -> String {
    let t = TestDir::new();
    t.write("s.rhai", script);
    let vars = env(server);
    let run = t.run_with_env(&["exec", "s.rhai", "--json"], &env_refs(&vars));
    run.expect_code(0);
    assert!(
        !run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN),
        "token leaked"
    );
    run.stdout
}

#[test]
fn overloads_chat_id_until_date_and_numeric_string_ids() {
    let server = server();
    server.world(|w| w.add_chat(-1002, ChatKind::Supergroup, "Second"));
    let out = exec(
        &server,
        &format!(
            "[tg_chat_permission({SANDBOX_CHAT_ID}, \"{ALICE}\", [1,0,0,0,0,0,0,0,0], [1,1,1,1,1,1]),\n\
             tg_chat_permission(\"{SANDBOX_CHAT_ID}\", {BOB}, [true,true,false,false,false,false,false,false,false], [0,1,0,1,0,1], #{{until_date: 1900000000}})]"
        ),
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("json"),
        json!([true, true])
    );
    let calls = server.calls_of("restrictChatMember");
    assert_eq!(calls.len(), 2);
    let first = &calls[0].params;
    assert_eq!(first["chat_id"], json!(SANDBOX_CHAT_ID));
    assert_eq!(
        first["user_id"],
        json!(ALICE),
        "numeric string user id sent as an integer"
    );
    assert_eq!(first["permissions"]["can_send_messages"], json!(true));
    assert_eq!(
        first["permissions"]["can_send_photos"],
        json!(false),
        "media needs p1"
    );
    assert!(first.get("until_date").is_none());
    let second = &calls[1].params;
    assert_eq!(second["until_date"], json!(1_900_000_000));
    assert_eq!(second["user_id"], json!(BOB));
    let media: Vec<bool> = [
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
    ]
    .iter()
    .map(|f| second["permissions"][f] == json!(true))
    .collect();
    assert_eq!(media, [false, true, false, true, false, true]);
    assert_eq!(
        second["permissions"]["can_send_other_messages"],
        json!(false)
    );
    assert_eq!(second["permissions"].as_object().map(|m| m.len()), Some(14));
}

#[test]
fn bad_input_throws_before_any_request() {
    let server = server();
    let out = exec(
        &server,
        r#"
        let errors = [];
        let ok9 = [1,1,1,1,1,1,1,1,1];
        let ok6 = [1,1,1,1,1,1];
        try { tg_chat_permission(-100, 1, [1,1,1,1,1], ok6) } catch (e) { errors.push(e.error) }
        try { tg_chat_permission(-100, 1, ok9, [1,1,1,1,1,1,1]) } catch (e) { errors.push(e.error) }
        try { tg_chat_permission(-100, 1, [1,1,1,2,1,1,1,1,1], ok6) } catch (e) { errors.push(e.error) }
        try { tg_chat_permission(-100, "bob", ok9, ok6) } catch (e) { errors.push(e.error) }
        try { tg_chat_permission(-100, 1.5, ok9, ok6) } catch (e) { errors.push(e.error) }
        try { tg_chat_permission(1, ok9, ok6) } catch (e) { errors.push(e.error) }
        try { tg_chat_permission(1, ok9, ok6, #{expires: 5}) } catch (e) { errors.push(e.command) }
        errors
        "#,
    );
    let errors: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        errors,
        json!([
            "permission must have 9 items, got 5",
            "media_permissions must have 6 items, got 7",
            "permission[3] must be 0, 1, true or false",
            "user_id must be an integer",
            "user_id must be an integer",
            "no current chat: pass chat_id as the first argument",
            "tg_chat_permission",
        ])
    );
    assert_eq!(
        server.calls(),
        Vec::new(),
        "no request may reach the server"
    );
}

#[test]
fn bot_api_refuses_the_methods_that_take_the_bot_over() {
    let server = server();
    let out = exec(
        &server,
        r#"
        let errors = [];
        for method in ["getUpdates", "setWebhook", "deleteWebhook", "logOut", "close", "GETUPDATES"] {
            try { bot_api(method, #{url: "https://evil.example/hook"}) } catch (e) { errors.push(e.error) }
        }
        errors
        "#,
    );
    let errors: Vec<String> = serde_json::from_str(&out).expect("json");
    assert_eq!(errors.len(), 6, "{errors:?}");
    assert!(
        errors[0].starts_with("getUpdates is refused: tgscript receives"),
        "{errors:?}"
    );
    assert!(
        errors.iter().all(|e| e.contains(" is refused: ")),
        "{errors:?}"
    );
    assert_eq!(
        server.calls(),
        Vec::new(),
        "none reached the Bot API server"
    );
}

/// Each refusal comes back as `#{command, code, error, hint}`.
#[test]
fn telegram_refusals_are_catchable_maps() {
    let server = server();
    server.world(|w| {
        w.add_chat(-5, ChatKind::Group, "Basic group");
        w.add_chat(-1003, ChatKind::Supergroup, "Bot not admin");
        w.set_status(-1003, BOT_ID, Status::Member);
        w.set_status(
            SANDBOX_CHAT_ID,
            BOB,
            Status::Administrator(Default::default()),
        );
    });
    let out = exec(
        &server,
        &format!(
            r#"
            let r = [];
            let p = [0,0,0,0,0,0,0,0,0];
            let m = [0,0,0,0,0,0];
            for target in [[-1003, {ALICE}], [{SANDBOX_CHAT_ID}, {BOT_ID}], [{SANDBOX_CHAT_ID}, {BOB}],
                           [{SANDBOX_CHAT_ID}, {OWNER_ID}], [-5, {ALICE}], [-999, {ALICE}]] {{
                try {{ tg_chat_permission(target[0], target[1], p, m); r.push("sent"); }}
                catch (e) {{ r.push(e); }}
            }}
            r
            "#
        ),
    );
    let results: Vec<Value> = serde_json::from_str(&out).expect("json");
    let expected = [
        (
            "Bad Request: not enough rights to restrict/unrestrict chat member",
            "administrator",
        ),
        ("Bad Request: can't restrict self", "cannot restrict itself"),
        (
            "Bad Request: user is an administrator of the chat",
            "demote them first",
        ),
        ("Bad Request: can't remove chat owner", "chat owner"),
        (
            "Bad Request: method is available only for supergroups",
            "supergroups",
        ),
        ("Bad Request: chat not found", "chat id"),
    ];
    assert_eq!(results.len(), expected.len());
    for (got, (error, hint)) in results.iter().zip(expected) {
        assert_eq!(got["command"], json!("tg_chat_permission"), "{got}");
        assert_eq!(got["code"], json!(400), "{got}");
        assert_eq!(got["error"], json!(error), "{got}");
        assert!(
            got["hint"].as_str().is_some_and(|h| h.contains(hint)),
            "{got}"
        );
    }
    assert_eq!(server.calls_of("restrictChatMember").len(), 6);
}

#[test]
fn rate_limit_is_waited_out_and_migration_followed_once() {
    let server = server();
    server.world(|w| {
        w.fail_next(
            "restrictChatMember",
            Refusal {
                code: 429,
                description: "Too Many Requests: retry after 1".into(),
                parameters: Some(json!({"retry_after": 1})),
            },
        );
        w.add_chat(-4, ChatKind::Group, "Old group");
        w.fail_next(
            "sendMessage",
            Refusal {
                code: 400,
                description: "Bad Request: group chat was upgraded to a supergroup chat".into(),
                parameters: Some(json!({"migrate_to_chat_id": SANDBOX_CHAT_ID})),
            },
        );
    });
    let out = exec(
        &server,
        &format!(
            "let a = tg_chat_permission({SANDBOX_CHAT_ID}, {ALICE}, [1,1,1,1,1,1,1,1,0], [1,1,1,1,1,1]);\n\
             let b = send_message(-4, \"hello\");\n[a, b.chat.id]"
        ),
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("json"),
        json!([true, SANDBOX_CHAT_ID])
    );
    let restricts = server.calls_of("restrictChatMember");
    assert_eq!(restricts.len(), 2, "one 429, one retry");
    assert_eq!(restricts[0].params, restricts[1].params);
    let sends = server.calls_of("sendMessage");
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0].params["chat_id"], json!(-4));
    assert_eq!(
        sends[1].params["chat_id"],
        json!(SANDBOX_CHAT_ID),
        "followed the migration"
    );
}

#[test]
fn a_failing_handler_is_logged_and_the_bot_goes_on() {
    let server = server();
    let t = TestDir::new();
    t.write(
        "scripts/a_boom.rhai",
        "fn on_message(msg) {\n    if msg.text == \"boom\" {\n        tg_ban_chat_member(msg.chat.id, 7000000001);\n    }\n}\n",
    );
    t.write(
        "scripts/b_echo.rhai",
        "fn on_message(msg) {\n    send_message(msg.chat.id, `echo: ${msg.text}`);\n}\n",
    );
    let vars = env(&server);
    let bot = t.spawn(&["run", "scripts"], &env_refs(&vars));
    let update_id = server.world(|w| {
        w.user_message(SANDBOX_CHAT_ID, ALICE, "boom", None);
        w.pending()
    });
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "still alive", None));
    let sends = wait_calls(&server, "sendMessage", 2);
    let done = bot.interrupt();
    let texts: Vec<&str> = sends
        .iter()
        .filter_map(|c| c.params["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["echo: boom", "echo: still alive"],
        "later handlers and updates go on"
    );
    let expected =
        "a_boom.rhai:3:9: tg_ban_chat_member: Bad Request: can't restrict self (code 400)";
    assert!(done.stderr.contains(expected), "{}", done.stderr);
    assert!(
        done.stderr
            .contains(&format!("[a_boom.rhai on_message, update {update_id}]")),
        "{}",
        done.stderr
    );
}

#[test]
fn one_chat_in_order_other_chats_concurrently() {
    let server = server();
    server.world(|w| w.add_chat(-1002, ChatKind::Supergroup, "Other"));
    let t = TestDir::new();
    t.write(
        "scripts/slow.rhai",
        "fn on_message(msg) {\n    if msg.text == \"slow\" { sleep(1.5); }\n    send_message(msg.chat.id, msg.text);\n}\n",
    );
    let mut vars = env(&server);
    vars.push(("TGSCRIPT_LIMITS_TIMEOUT_MS", "5000".to_string()));
    let bot = t.spawn(&["run", "scripts"], &env_refs(&vars));
    server.world(|w| {
        w.user_message(SANDBOX_CHAT_ID, ALICE, "slow", None);
        w.user_message(SANDBOX_CHAT_ID, ALICE, "after slow", None);
        w.user_message(-1002, BOB, "other chat", None);
    });
    let sends = wait_calls(&server, "sendMessage", 3);
    bot.interrupt();
    let texts: Vec<&str> = sends
        .iter()
        .filter_map(|c| c.params["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["other chat", "slow", "after slow"],
        "the other chat is not held up by the slow handler; the slow chat keeps its order"
    );
}

#[test]
fn token_never_printed_even_when_telegram_refuses_it() {
    // A server that knows another token: every call is 401 Unauthorized.
    let server = BotApiServer::start(World::new(), Some("999:other")).expect("server");
    let t = TestDir::new();
    t.write("scripts/x.rhai", "fn on_message(msg) { reply(\"hi\"); }\n");
    let vars = env(&server);
    let mut refs = env_refs(&vars);
    refs.push(("TGSCRIPT_LOG", "trace"));
    let run = t.run_with_env(&["run", "scripts"], &refs);
    run.expect_code(2)
        .expect_stderr_contains("Unauthorized")
        .expect_stderr_contains("check TELOXIDE_TOKEN");
    assert!(
        !run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN),
        "token leaked"
    );
    assert!(
        !run.stderr.contains("AAHsecretTokenForTests"),
        "token part leaked"
    );

    let t = TestDir::new();
    t.write(
        "s.rhai",
        &format!("tg_ban_chat_member({SANDBOX_CHAT_ID}, 5)"),
    );
    let run = t.run_with_env(&["exec", "s.rhai"], &refs);
    run.expect_code(1).expect_stderr_contains("Unauthorized");
    assert!(
        !run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN),
        "token leaked"
    );
}

#[test]
fn token_never_printed_on_success() {
    let server = server();
    let t = TestDir::new();
    t.write("scripts/x.rhai", "fn on_message(msg) { reply(\"hi\"); }\n");
    let vars = env(&server);
    let mut refs = env_refs(&vars);
    refs.push(("TGSCRIPT_LOG", "trace"));
    let bot = t.spawn(&["run", "scripts"], &refs);
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "hello", None));
    wait_calls(&server, "sendMessage", 1);
    let done = bot.interrupt();
    assert!(
        done.stderr.contains("connected as @sandbox_bot"),
        "{}",
        done.stderr
    );
    assert!(!done.all_output().contains(TOKEN), "token leaked");
    assert!(
        !done.all_output().contains("AAHsecretTokenForTests"),
        "token part leaked"
    );
}

#[test]
fn one_script_call_makes_at_most_max_api_calls() {
    let server = server();
    let t = TestDir::new();
    t.write(
        "flood.rhai",
        &format!("for i in 0..150 {{ send_message({SANDBOX_CHAT_ID}, `spam ${{i}}`); }}"),
    );
    let vars = env(&server);
    t.run_with_env(&["exec", "flood.rhai"], &env_refs(&vars))
        .expect_code(1)
        .expect_stderr_contains("call limit exceeded: the script made more than 100 calls to Telegram or TDLib (raise [limits] max_api_calls");
    assert_eq!(
        server.calls_of("sendMessage").len(),
        100,
        "the 101st was not sent"
    );
}
