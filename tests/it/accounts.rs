//! Account commands: seed validation (through builtins and `command(...)`, with the sandbox
//! showing no call was made), sandbox success paths, two accounts, and the real libtdjson.

use crate::util::TestDir;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tgscript::accounts::sandbox::SandboxAccount;
use tgscript::accounts::{Account, AccountOp, Accounts, AuthState, LoginStep, TdError};
use tgscript::builtins::CallContext;
use tgscript::engine::{Limits, RunOptions, ScriptEngine};
use tgscript::host::Host;
use tgscript::store::Store;

struct Sandbox {
    engine: ScriptEngine,
    accounts: Vec<Arc<SandboxAccount>>,
    _runtime: tokio::runtime::Runtime,
}

/// An engine whose host has `n` sandbox accounts with ids 1..=n (1 the default).
fn sandbox(n: i64) -> Sandbox {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let accounts: Vec<Arc<SandboxAccount>> =
        (1..=n).map(|_| Arc::new(SandboxAccount::new())).collect();
    let list = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (i as i64 + 1, a.clone() as Arc<dyn Account>))
        .collect();
    let host = accounts_host(Accounts::new(list, Some(1)), &runtime);
    Sandbox {
        engine: tgscript::builtins::engine(Limits::default(), ".", CallContext::direct(host)),
        accounts,
        _runtime: runtime,
    }
}

/// A host with `accounts` and no bot, bridging into `runtime`.
fn accounts_host(accounts: Accounts, runtime: &tokio::runtime::Runtime) -> Arc<Host> {
    Arc::new(Host::new(
        None,
        accounts,
        Arc::new(Store::in_memory()),
        runtime.handle().clone(),
    ))
}

impl Sandbox {
    /// Evaluate `script` and return its value as JSON.
    fn eval(&self, script: &str) -> Value {
        let ast = self
            .engine
            .compile_source(script, "test.rhai", &rhai::Scope::new())
            .expect("compiles");
        let (result, _) = self
            .engine
            .eval(&mut rhai::Scope::new(), &ast, &RunOptions::default());
        let value = result.unwrap_or_else(|e| panic!("script failed: {e}"));
        serde_json::to_value(&value).expect("JSON result")
    }

    /// The error `expr` throws, as JSON.
    fn error(&self, expr: &str) -> Value {
        self.eval(&format!(
            "let caught = \"no error\";\ntry {{ {expr}; }} catch (e) {{ caught = e; }}\ncaught"
        ))
    }
}

#[test]
fn seed_validation_errors_through_builtins_and_command_make_no_call() {
    let s = sandbox(1);
    let cases: &[(&str, &str, &str)] = &[
        (
            "terminate_session(())",
            r#"command(#{action: "terminate_session", userbot_id: 1})"#,
            "session_id is required",
        ),
        (
            "terminate_session(\"five\")",
            r#"command(#{action: "terminate_session", userbot_id: 1, session_id: "five"})"#,
            "session_id must be an integer",
        ),
        (
            "set_session_settings(1002, #{})",
            r#"command(#{action: "set_session_settings", userbot_id: 1, session_id: 1002})"#,
            "at least one of can_accept_calls or can_accept_secret_chats is required",
        ),
        (
            "set_session_settings((), #{can_accept_calls: true})",
            r#"command(#{action: "set_session_settings", userbot_id: 1, can_accept_calls: true})"#,
            "session_id is required",
        ),
        (
            "block_user(())",
            r#"command(#{action: "block_user", userbot_id: 1})"#,
            "user_id is required",
        ),
        (
            "unblock_user(())",
            r#"command(#{action: "unblock_user", userbot_id: 1})"#,
            "user_id is required",
        ),
        (
            "block_user(5, #{block_list: \"blockListFriends\"})",
            r#"command(#{action: "block_user", userbot_id: 1, user_id: 5, block_list: #{"@type": "nope"}})"#,
            "block_list must be a TDLib block list type",
        ),
        (
            "get_blocked_users(#{block_list: 3})",
            r#"command(#{action: "get_blocked_users", userbot_id: 1, block_list: "main"})"#,
            "block_list must be a TDLib block list type",
        ),
        (
            "get_blocked_users(#{limit: 500})",
            r#"command(#{action: "get_blocked_users", userbot_id: 1, limit: 0})"#,
            "limit must be between 1 and 100 (TDLib's range), got ",
        ),
        (
            "get_privacy_setting(\"userPrivacySettingShowShoeSize\")",
            r#"command(#{action: "get_privacy_setting", userbot_id: 1, setting: #{"@type": "nope"}})"#,
            "unsupported privacy setting",
        ),
        (
            "get_privacy_settings(42)",
            r#"command(#{action: "get_privacy_settings", userbot_id: 1, settings: #{}})"#,
            "settings must be a list or string",
        ),
        (
            "get_privacy_settings(#{\"@type\": \"userPrivacySettingShowStatus\"})",
            r#"command(#{action: "get_privacy_settings", userbot_id: 1, settings: true})"#,
            "settings must be a list or string",
        ),
        (
            "get_privacy_settings([\"userPrivacySettingShowStatus\", \"nope\"])",
            r#"command(#{action: "get_privacy_settings", userbot_id: 1, settings: "nope"})"#,
            "unsupported privacy setting",
        ),
        (
            "set_privacy_setting(\"nope\", #{mode: \"all\"})",
            r#"command(#{action: "set_privacy_setting", userbot_id: 1, setting: "nope", mode: "all"})"#,
            "unsupported privacy setting",
        ),
        (
            "set_privacy_setting(\"userPrivacySettingShowStatus\", #{mode: \"friends\"})",
            r#"command(#{action: "set_privacy_setting", userbot_id: 1, setting: "userPrivacySettingShowStatus"})"#,
            "mode must be one of: all, contacts, nobody",
        ),
        (
            "get_active_sessions()",
            r#"command(#{action: "get_active_sessions"})"#,
            "",
        ),
    ];
    for (builtin, request, error) in cases {
        if !error.is_empty() {
            let got = s.error(builtin);
            assert!(
                got["error"].as_str().is_some_and(|e| e.starts_with(error)),
                "{builtin}: {got}"
            );
        }
        let got = s.error(request);
        let expected = if error.is_empty() {
            "userbot_id is required"
        } else {
            error
        };
        assert!(
            got["error"]
                .as_str()
                .is_some_and(|e| e.starts_with(expected)),
            "{request}: {got}"
        );
    }
    assert_eq!(
        s.accounts[0].calls(),
        Vec::new(),
        "validation must stop every request before the account"
    );

    // Unknown accounts, both ways.
    assert_eq!(
        s.error("account(7).get_active_sessions()")["error"],
        json!("unknown userbot_id 7")
    );
    assert_eq!(
        s.error(r#"command(#{action: "block_user", userbot_id: 7, user_id: 1})"#)["error"],
        json!("unknown userbot_id 7")
    );
    assert_eq!(s.accounts[0].calls(), Vec::new());

    // The current-session guard reads the session list, and terminates nothing.
    let got = s.error("terminate_session(1001)");
    assert_eq!(
        got,
        json!({"command": "terminate_session", "error": "current session can't be terminated via terminate_session"})
    );
    assert_eq!(s.accounts[0].calls(), vec![AccountOp::GetActiveSessions]);
}

/// An account whose every call fails as an unauthorized TDLib client does.
struct Unauthorized;

impl Account for Unauthorized {
    fn call(&self, _op: AccountOp) -> BoxFuture<'_, Result<Value, TdError>> {
        Box::pin(async { Err(TdError::new(401, "Unauthorized")) })
    }
    fn status(&self) -> String {
        "unauthorized".into()
    }
    fn backend(&self) -> &'static str {
        "test"
    }
    fn authorization(&self) -> AuthState {
        AuthState::WaitPhoneNumber
    }
    fn login(&self, _: LoginStep, _: Duration) -> BoxFuture<'_, Result<AuthState, TdError>> {
        Box::pin(async { Err(TdError::new(400, "not here")) })
    }
}

#[test]
fn failed_to_get_privacy_settings_carries_tdlibs_error() {
    let accounts = Accounts::new(vec![(1, Arc::new(Unauthorized) as Arc<dyn Account>)], None);
    let request = json!({"settings": ["userPrivacySettingShowStatus"]});
    let runtime = tokio::runtime::Runtime::new().expect("async runtime");
    let host = accounts_host(accounts, &runtime);
    let command = tgscript::commands::find(
        tgscript::commands::account::COMMANDS,
        "get_privacy_settings",
    )
    .expect("a command");
    let err = command
        .run(&*host, Some(1), request.as_object().expect("object"))
        .expect_err("fails");
    assert_eq!(err.error, "failed to get privacy settings: Unauthorized");
    assert_eq!(err.code, Some(401));
}

#[test]
fn sandbox_success_paths_for_all_ten_commands() {
    let s = sandbox(1);
    let sessions = s.eval("get_active_sessions()");
    assert_eq!(sessions["inactive_session_ttl_days"], json!(180));
    let list = sessions["sessions"].as_array().expect("sessions");
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["id"], json!(1001), "ids are integers");
    assert_eq!(list[0]["is_current"], json!(true));
    assert_eq!(list[1]["type"], json!("android"));
    for key in [
        "application_name",
        "device_model",
        "platform",
        "ip_address",
        "location",
        "log_in_date",
        "last_active_date",
        "can_accept_calls",
        "can_accept_secret_chats",
    ] {
        assert!(list[1].get(key).is_some(), "session lacks {key}");
    }

    assert_eq!(
        s.eval("terminate_session(1002)"),
        json!({"session_id": 1002, "terminated": true})
    );
    assert_eq!(s.eval("get_active_sessions().sessions.len()"), json!(2));
    assert_eq!(
        s.error("terminate_session(4242)"),
        json!({"command": "terminate_session", "error": "Session not found", "code": 400})
    );

    assert_eq!(
        s.eval(
            "set_session_settings(1003, #{can_accept_calls: false, can_accept_secret_chats: false})"
        ),
        json!({"session_id": 1003, "can_accept_calls": false, "can_accept_secret_chats": false})
    );
    assert_eq!(
        s.eval("get_active_sessions().sessions[1].can_accept_calls"),
        json!(false)
    );
    assert_eq!(
        s.eval("terminate_all_other_sessions()"),
        json!({"terminated": true})
    );
    assert_eq!(s.eval("get_active_sessions().sessions.len()"), json!(1));

    // Block lists with paging.
    s.eval("for u in 1..=7 { block_user(100 + u); } block_user(200, #{block_list: #{\"@type\": \"blockListStories\"}});");
    let first = s.eval("get_blocked_users(#{limit: 3})");
    assert_eq!(first["total_count"], json!(7));
    assert_eq!(
        first["senders"],
        json!([{"kind": "user", "id": 107}, {"kind": "user", "id": 106}, {"kind": "user", "id": 105}])
    );
    let last = s.eval("get_blocked_users(#{offset: 6, limit: 3})");
    assert_eq!(last["senders"], json!([{"kind": "user", "id": 101}]));
    assert_eq!(
        s.eval("get_blocked_users(#{block_list: \"blockListStories\"}).senders"),
        json!([{"kind": "user", "id": 200}])
    );
    assert_eq!(
        s.eval("unblock_user(105)"),
        json!({"user_id": 105, "is_blocked": false, "block_list": null})
    );
    assert_eq!(
        s.eval("block_user(106, #{is_blocked: false}).is_blocked"),
        json!(false)
    );
    assert_eq!(s.eval("get_blocked_users().total_count"), json!(5));

    // Privacy: a get → set round trip for each mode, with ids and premium users.
    for options in [
        r#"#{mode: "all", restrict_user_ids: [5, 6], restrict_chat_ids: [-100]}"#,
        r#"#{mode: "contacts", allow_user_ids: [7], allow_chat_ids: [-200], allow_premium_users: true, restrict_user_ids: [8], restrict_chat_ids: [-300]}"#,
        r#"#{mode: "nobody", allow_user_ids: [9], allow_chat_ids: [-400], allow_premium_users: true}"#,
    ] {
        let set = s.eval(&format!(
            "set_privacy_setting(\"userPrivacySettingAllowCalls\", {options})"
        ));
        let got = s.eval("get_privacy_setting(\"userPrivacySettingAllowCalls\")");
        assert_eq!(set, got, "set returns what get reads");
        let again = s.eval("let g = get_privacy_setting(\"userPrivacySettingAllowCalls\"); set_privacy_setting(g.setting, g)");
        assert_eq!(
            again, got,
            "what get returns sets back unchanged ({options})"
        );
        let mode = options.split('"').nth(1).expect("mode");
        assert_eq!(got["mode"], json!(mode));
    }
    let contacts = s.eval(r#"set_privacy_setting("userPrivacySettingShowBio", #{mode: "contacts", allow_user_ids: [1], allow_premium_users: true})"#);
    assert_eq!(contacts["allow_user_ids"], json!([1]));
    assert_eq!(contacts["allow_premium_users"], json!(true));

    // Raw rules pass through after their @type is checked.
    let raw = s.eval(r#"set_privacy_setting("userPrivacySettingShowStatus", #{rules: [#{"@type": "userPrivacySettingRuleAllowBots"}, #{"@type": "userPrivacySettingRuleRestrictAll"}]})"#);
    assert_eq!(raw["mode"], json!(null));
    assert_eq!(
        raw["rules"],
        json!([{"@type": "userPrivacySettingRuleAllowBots"}, {"@type": "userPrivacySettingRuleRestrictAll"}])
    );
    assert!(s.error(r#"set_privacy_setting("userPrivacySettingShowStatus", #{rules: [#{"@type": "allowEveryone"}]})"#)["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("rules[0] must be a TDLib privacy rule")));

    // New-chat privacy round trip.
    let new_chat = s.eval(r#"set_privacy_setting("newChatPrivacySettings", #{allow_new_chats_from_unknown_users: false, incoming_paid_message_star_count: 10})"#);
    assert_eq!(
        new_chat,
        json!({"setting": "newChatPrivacySettings", "allow_new_chats_from_unknown_users": false, "incoming_paid_message_star_count": 10})
    );
    assert_eq!(s.eval(r#"let g = get_privacy_setting("newChatPrivacySettings"); set_privacy_setting(g.setting, g)"#), new_chat);

    // get_privacy_settings: nothing (= all), one string, a list.
    assert_eq!(s.eval("get_privacy_settings().settings.len()"), json!(15));
    assert_eq!(
        s.eval(r#"get_privacy_settings("newChatPrivacySettings").settings[0].setting"#),
        json!("newChatPrivacySettings")
    );
    assert_eq!(s.eval(r#"get_privacy_settings(["userPrivacySettingShowStatus", #{"@type": "userPrivacySettingShowBio"}]).settings.len()"#), json!(2));
}

#[test]
fn account_handles_act_on_their_own_account_only() {
    let s = sandbox(2);
    assert_eq!(
        s.eval("account(2).block_user(42)"),
        json!({"user_id": 42, "is_blocked": true, "block_list": "blockListMain"})
    );
    assert_eq!(
        s.eval("account(2).get_blocked_users().total_count"),
        json!(1)
    );
    assert_eq!(
        s.eval("get_blocked_users().total_count"),
        json!(0),
        "the default account is untouched"
    );
    assert_eq!(
        s.eval(r#"command(#{action: "get_blocked_users", userbot_id: 2}).senders[0].id"#),
        json!(42)
    );
    assert_eq!(s.accounts[1].calls().len(), 3);
    assert_eq!(s.accounts[0].calls().len(), 1);
}

/// The data dir with libtdjson 1.8.61 installed, obtained once per test run the way a user
/// would: `tgscript tdlib install` (which uses npm).
pub fn tdlib_data_dir() -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tdlib-data");
        if !dir.join("lib").join("libtdjson.so").is_file() {
            let t = TestDir::new();
            let data = dir.to_str().expect("utf-8 path");
            t.run_with_env(&["tdlib", "install"], &[("TGSCRIPT_DATA_DIR", data)])
                .expect_code(0)
                .expect_stdout_contains("installed TDLib 1.8.61");
        }
        dir.to_str().expect("utf-8 path").to_string()
    })
}

pub const TDLIB_CONFIG: &str = "[[account]]\nid = 1\nbackend = \"tdlib\"\napi_id = 12345\napi_hash_env = \"TEST_API_HASH\"\ndata_dir = \"account-1\"\n";
pub const API_HASH: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn real_libtdjson_answers_every_command_with_unauthorized() {
    let data = tdlib_data_dir();
    let t = TestDir::new();
    t.write("tgscript.toml", TDLIB_CONFIG);
    let env = [("TGSCRIPT_DATA_DIR", data), ("TEST_API_HASH", API_HASH)];
    t.run_with_env(&["tdlib", "path"], &env)
        .expect_code(0)
        .expect_stdout_contains("(TDLib 1.8.61)");
    t.run_with_env(&["account", "status"], &env)
        .expect_code(0)
        .expect_stdout(
            "1 (default): tdlib: waiting for the phone number (run `tgscript account login 1`)\n",
        );
    t.write(
        "all.rhai",
        r#"
        let r = [];
        for f in [
            || get_active_sessions(),
            || terminate_session(5),
            || set_session_settings(5, #{can_accept_calls: true, can_accept_secret_chats: false}),
            || terminate_all_other_sessions(),
            || block_user(5, #{block_list: "blockListStories"}),
            || unblock_user(5),
            || get_blocked_users(#{offset: 0, limit: 100}),
            || get_privacy_setting("userPrivacySettingShowStatus"),
            || get_privacy_settings(["userPrivacySettingAllowCalls", "newChatPrivacySettings"]),
            || set_privacy_setting("userPrivacySettingShowStatus", #{mode: "contacts", allow_user_ids: [5], allow_premium_users: true, restrict_chat_ids: [-100]}),
            || set_privacy_setting("newChatPrivacySettings", #{allow_new_chats_from_unknown_users: true}),
        ] {
            try { f.call(); r.push("no error"); } catch (e) { r.push(e); }
        }
        r.push(tdlib(#{"@type": "getOption", name: "version"}).value);
        r
        "#,
    );
    let run = t.run_with_env(&["exec", "all.rhai", "--json"], &env);
    run.expect_code(0);
    assert!(
        !run.stdout.contains(API_HASH) && !run.stderr.contains(API_HASH),
        "api_hash leaked"
    );
    let results: Vec<Value> = serde_json::from_str(&run.stdout).expect("JSON");
    let commands = [
        "get_active_sessions",
        "terminate_session",
        "set_session_settings",
        "terminate_all_other_sessions",
        "block_user",
        "unblock_user",
        "get_blocked_users",
        "get_privacy_setting",
        "get_privacy_settings",
        "set_privacy_setting",
        "set_privacy_setting",
    ];
    assert_eq!(results.len(), commands.len() + 1);
    for (result, command) in results.iter().zip(commands) {
        assert_eq!(result["command"], json!(command), "{result}");
        assert_eq!(
            result["code"],
            json!(401),
            "TDLib's own 401, not a parse error: {result}"
        );
        assert!(
            result["error"]
                .as_str()
                .is_some_and(|e| e.ends_with("Unauthorized")),
            "{result}"
        );
    }
    assert_eq!(results[commands.len()], json!("1.8.61"));
    assert!(
        t.path().join("account-1").is_dir(),
        "TDLib's database lives in the account's data dir"
    );
}

#[test]
fn missing_libtdjson_names_the_install_command_and_bot_only_use_needs_none() {
    let t = TestDir::new();
    let empty = t.path().join("empty-data");
    let empty = empty.to_str().expect("utf-8");
    t.write("tgscript.toml", TDLIB_CONFIG);
    t.write("a.rhai", "1 + 1");
    t.run_with_env(
        &["exec", "a.rhai"],
        &[("TGSCRIPT_DATA_DIR", empty), ("TEST_API_HASH", API_HASH)],
    )
    .expect_code(2)
    .expect_stderr_contains("run `tgscript tdlib install`");
    t.run_with_env(&["tdlib", "path"], &[("TGSCRIPT_DATA_DIR", empty)])
        .expect_code(1)
        .expect_stderr_contains("run `tgscript tdlib install`");
    // Without [[account]], scripts need no libtdjson at all.
    std::fs::remove_file(t.path().join("tgscript.toml")).expect("remove config");
    t.run_with_env(&["exec", "a.rhai"], &[("TGSCRIPT_DATA_DIR", empty)])
        .expect_code(0)
        .expect_stdout("2\n");
}

#[test]
fn raw_tdlib_requests_that_reach_the_host_are_refused_before_any_call() {
    let s = sandbox(1);
    for request in [
        r#"#{"@type": "setLogStream", log_stream: #{"@type": "logStreamFile", path: "/tmp/x.log"}}"#,
        r#"#{"@type": "setLogVerbosityLevel", new_verbosity_level: 1023}"#,
        r#"#{"@type": "addLogMessage", verbosity_level: 0, text: "x"}"#,
        r#"#{"@type": "close"}"#,
        r#"#{"@type": "destroy"}"#,
        r#"#{"@type": "logOut"}"#,
        r#"#{"@type": "downloadFile", file_id: 1, priority: 1}"#,
        r#"#{"@type": "setTdlibParameters"}"#,
        r#"#{"@type": "sendMessage", chat_id: 1, input_message_content: #{"@type": "inputMessageDocument", document: #{"@type": "inputFileLocal", path: "/etc/passwd"}}}"#,
    ] {
        let got = s.error(&format!("tdlib({request})"));
        assert_eq!(got["command"], json!("tdlib"), "{request}: {got}");
        let error = got["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("is not allowed from scripts")
                || error.contains("names a file on the host"),
            "{request}: {got}"
        );
    }
    assert_eq!(
        s.accounts[0].calls(),
        Vec::new(),
        "none reached the account"
    );
    let version = s.eval(r#"tdlib(#{"@type": "getOption", name: "version"}).value"#);
    assert_eq!(
        version,
        json!("1.8.61"),
        "reading requests still go through"
    );
}

#[test]
fn a_tdlib_request_that_cannot_be_answered_offline_times_out_within_the_bound() {
    let data = tdlib_data_dir();
    let t = TestDir::new();
    t.write(
        "tgscript.toml",
        &format!("{TDLIB_CONFIG}[limits]\ntdlib_timeout_ms = 1500\ntimeout_ms = 5000\n"),
    );
    // getCountryCode needs Telegram's servers: offline, TDLib never answers.
    t.write(
        "a.rhai",
        r#"let r = []; for i in 0..2 { try { tdlib(#{"@type": "getCountryCode"}); } catch (e) { r.push(e.code); } } r"#,
    );
    let started = std::time::Instant::now();
    t.run_with_env(
        &["exec", "a.rhai"],
        &[("TGSCRIPT_DATA_DIR", data), ("TEST_API_HASH", API_HASH)],
    )
    .expect_code(0)
    .expect_stdout("[504, 504]\n");
    println!("two unanswerable requests took {:?}", started.elapsed());
    t.write("b.rhai", r#"tdlib(#{"@type": "getCountryCode"})"#);
    t.run_with_env(
        &["exec", "b.rhai"],
        &[("TGSCRIPT_DATA_DIR", data), ("TEST_API_HASH", API_HASH)],
    )
    .expect_code(1)
    .expect_stderr_contains("TDLib did not answer within 1500 ms")
    .expect_stderr_contains("[limits] tdlib_timeout_ms");
}
