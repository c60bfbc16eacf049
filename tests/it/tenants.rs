//! Two tenants in one process — two `[[bot]]`s, each with its own scenario folder and user
//! account, default settings, scripts in one shared worker — and every way across the
//! boundary refused with a clear error and nothing changed: files through `asset()`,
//! accounts through `account()`, `command()`, `tdlib()` and the default account, account
//! events, takeover methods.

use crate::bots::{free_port, server, token};
use crate::protocol::command;
use crate::util::{Background, TestDir};
use serde_json::json;
use std::time::Duration;
use tgscript::sandbox::BotApiServer;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;

const WAIT: Duration = Duration::from_secs(30);
const ADMIN: &str = "admin-token-for-the-tenant-tests";
const ALICE: i64 = crate::bots::ALICE;

/// Tenant b's scenario: reads its own secret file, reports its account events.
const B: &str = r#"
fn on_message(msg) {
    let secret = asset("secret.txt");
    send_message(msg.chat.id, `b read ${secret.size} bytes`);
}
fn on_account_update(id, u) {
    send_message(global::CHAT, `b got an event of account ${id}`);
}
"#;

/// Tenant a's scenario: tries each way into tenant b's things and reports what it got, one
/// line each.
const A: &str = r#"
fn attempt(name, f) {
    let said = "";
    try {
        said = `${name}: ok ${f.call()}`;
    } catch (e) {
        let why = if type_of(e) == "map" { e.error } else { `${e}` };
        said = `${name}: refused ${why}`;
    }
    said
}
fn on_message(msg) {
    let lines = [
        attempt("own default account", || get_active_sessions().sessions.len()),
        attempt("own account by id", || account(1).get_active_sessions().sessions.len()),
        attempt("b's account", || account(2).get_active_sessions().sessions.len()),
        attempt("b's account by command", || command(#{action: "get_active_sessions", userbot_id: 2}).sessions.len()),
        attempt("b's account raw", || account(2).tdlib(#{"@type": "getMe"})),
        attempt("b's account blocking", || account(2).block_user(42)),
        attempt("raw history", || tdlib(#{"@type": "getChatHistory", chat_id: 1, from_message_id: 0, offset: 0, limit: 10})),
        attempt("raw gift", || tdlib(#{"@type": "sendGift", gift_id: 1})),
        attempt("b's file", || asset("secret.txt").size),
        attempt("b's file by path", || asset("../b/secret.txt").size),
        attempt("webhook", || bot_api("setWebhook", #{url: "https://evil.example"})),
    ];
    send_message(msg.chat.id, lines.reduce(|all, line| all + "\n" + line, "results:"));
}
fn on_account_update(id, u) {
    send_message(global::CHAT, `a got an event of account ${id}`);
}
"#;

/// The texts `server`'s bot sent, once one satisfies `done` (else the log of `run`).
fn texts_until(
    run: &Background,
    server: &BotApiServer,
    done: impl Fn(&str) -> bool,
) -> Vec<String> {
    let texts = |calls: &[tgscript::sandbox::Recorded]| -> Vec<String> {
        calls
            .iter()
            .filter(|c| c.method == "sendMessage")
            .filter_map(|c| c.params["text"].as_str().map(str::to_string))
            .collect()
    };
    match server.wait_for(WAIT, |calls| texts(calls).iter().any(|t| done(t))) {
        Ok(calls) => texts(&calls),
        Err(calls) => panic!(
            "no such message: {:#?}\n{}",
            texts(&calls),
            run.stderr_so_far()
        ),
    }
}

/// The line of `results` that starts with `name: `.
fn line<'a>(results: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}: ");
    results
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line for {name}: {results}"))
}

#[test]
fn two_tenants_in_one_process_reach_nothing_of_each_other() {
    let (a, b) = (server("a"), server("b"));
    let t = TestDir::new();
    let chat = SANDBOX_CHAT_ID;
    t.write("a/probe.rhai", &format!("const CHAT = {chat};\n{A}"));
    t.write("b/own.rhai", &format!("const CHAT = {chat};\n{B}"));
    t.write("b/secret.txt", "b's api key: 0123456789");
    t.write(
        "tgscript.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"{ADMIN}\"\n\
             # One worker: whatever one tenant leaves in it, the other would meet.\n\
             [scripts]\nworkers = 1\n\
             [[bot]]\nid = \"a\"\ntoken_env = \"TOKEN_A\"\nscripts = \"a\"\napi_url = \"{}\"\n\
             [[bot]]\nid = \"b\"\ntoken_env = \"TOKEN_B\"\nscripts = \"b\"\napi_url = \"{}\"\n\
             [[account]]\nid = 1\nbackend = \"sandbox\"\nowner = \"a\"\n\
             [[account]]\nid = 2\nbackend = \"sandbox\"\nowner = \"b\"\n\
             [webhook]\nlisten = \"127.0.0.1:{}\"\npublic_url = \"http://127.0.0.1/\"\n",
            a.url(),
            b.url(),
            free_port()
        ),
    );
    let (token_a, token_b) = (token("a"), token("b"));
    let run = t.spawn(
        &["run"],
        &[("TOKEN_A", token_a.as_str()), ("TOKEN_B", token_b.as_str())],
    );
    let addr = run.gateway_address();

    // Tenant b reads its own file first, in the one worker.
    b.world(|w| w.user_message(chat, ALICE, "hello", None));
    texts_until(&run, &b, |t| t == "b read 23 bytes");
    a.world(|w| w.user_message(chat, ALICE, "probe", None));
    let sent = texts_until(&run, &a, |t| t.starts_with("results:"));
    let results = sent
        .iter()
        .find(|t| t.starts_with("results:"))
        .expect("results");

    // The default account of tenant a is its own account 1 (as many sessions as the
    // gateway sees there).
    let (status, own) = command(
        &addr,
        Some(ADMIN),
        &json!({"action": "get_active_sessions", "userbot_id": 1, "bot_id": "a"}),
    );
    assert_eq!(status, 200, "{own}");
    let count = own["data"]["sessions"].as_array().map_or(0, Vec::len);
    assert!(count > 0, "{own}");
    assert_eq!(
        line(results, "own default account"),
        format!("own default account: ok {count}")
    );
    assert_eq!(
        line(results, "own account by id"),
        format!("own account by id: ok {count}")
    );
    for name in [
        "b's account",
        "b's account by command",
        "b's account raw",
        "b's account blocking",
    ] {
        assert_eq!(
            line(results, name),
            format!(
                "{name}: refused account 2 is not one of tenant \"a\"'s accounts: give it `owner = \"a\"` in its [[account]] (or add_account with owner)"
            ),
            "{results}"
        );
    }
    for (name, verb) in [("raw history", "getChatHistory"), ("raw gift", "sendGift")] {
        assert!(
            line(results, name).starts_with(&format!(
                "{name}: refused {verb} is not allowed from scripts"
            )),
            "{results}"
        );
    }
    // Not found in a's own folder, which is all a's scenario can name; the host's paths are
    // not shown.
    assert_eq!(
        line(results, "b's file"),
        "b's file: refused asset \"secret.txt\" not found: no such file in the scenario folder"
    );
    let by_path = line(results, "b's file by path");
    assert!(
        by_path.starts_with("b's file by path: refused"),
        "{by_path}"
    );
    assert!(!results.contains(&*t.path().to_string_lossy()), "{results}");
    assert!(
        line(results, "webhook").starts_with("webhook: refused setWebhook is refused"),
        "{results}"
    );

    // Account 2 was not touched: no block, its sessions as they were.
    let (status, sessions) = command(
        &addr,
        Some(ADMIN),
        &json!({"action": "get_blocked_users", "userbot_id": 2, "bot_id": "b"}),
    );
    assert_eq!(status, 200, "{sessions}");
    assert_eq!(sessions["data"]["total_count"], json!(0), "{sessions}");

    // Account events go to the owner's scenarios only: b's login event reaches b, and a —
    // which gets its own account's event after it — never gets b's.
    for id in [2, 1] {
        let (status, answer) = command(
            &addr,
            Some(ADMIN),
            &json!({"action": "sandbox_login_from", "userbot_id": id, "location": "Lagos, Nigeria"}),
        );
        assert_eq!(status, 200, "{answer}");
    }
    texts_until(&run, &b, |t| t == "b got an event of account 2");
    let a_sent = texts_until(&run, &a, |t| t == "a got an event of account 1");
    assert!(
        !a_sent.iter().any(|t| t.contains("event of account 2")),
        "{a_sent:?}"
    );
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
}

/// What a stand-in worker ([`crate::util::STAND_IN_WORKER`]) does here: it answers `run_script` by asking the host for the effects named in
/// `FORGED` (a file as a frame of its own), one frame each, and returns the host's answers as
/// the script's value.
const STAND_IN: &str = r#"
FORGED = json.loads(sys.argv[1])
while True:
    read()
    write("Compiled")
    answers = []
    for effect in FORGED:
        write(effect if "File" in effect else {"Effect": effect})
        answers.append(read()["Answer"])
    write({"Done": {"Ok": {"Evaluated": {"value": answers, "printed": []}}}})
"#;

#[test]
fn a_worker_forging_effects_gets_each_refused_by_the_host() {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;
    use tgscript::accounts::Accounts;
    use tgscript::accounts::sandbox::SandboxAccount;
    use tgscript::effects::Effects;
    use tgscript::engine::Limits;
    use tgscript::host::Host;
    use tgscript::scenario::runner::Runner;
    use tgscript::scenario::runner::pool::{PoolSettings, WorkerPool};
    use tgscript::store::{StateOp, StateScope, Store};

    let t = TestDir::new();
    let stand_in = t.write(
        "stand-in.py",
        &format!("{}{STAND_IN}", crate::util::STAND_IN_WORKER),
    );
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let set = |namespace: &str| json!({"State": {"Set": {"namespace": namespace, "scope": "Global", "key": "k", "value": 1}}});
    let forged = json!([
        set("b/probe"),
        set("b/"),
        set("probe"),
        {"State": {"Job": {"Cancel": {"namespace": "b/probe", "id": 1}}}},
        {"AccountId": {"command": "x", "userbot_id": 2}},
        {"Account": {"command": "x", "id": 2, "op": "GetActiveSessions"}},
        {"Account": {"command": "x", "id": 1, "op": {"Raw": {"@type": "getChatHistory", "chat_id": 1}}}},
        {"Bot": {"command": "x", "method": "setWebhook", "params": {"url": "https://evil.example"}}},
        {"Bot": {"command": "x", "method": "GETUPDATES", "params": {}}},
        // What is the caller's own goes through.
        set("a/probe"),
        {"AccountId": {"command": "x", "userbot_id": null}},
        {"Account": {"command": "x", "id": 1, "op": "GetActiveSessions"}},
        // Files: only the request's own folder is read for it.
        {"File": {"name": "../etc/passwd", "max": 0}},
        {"File": {"name": "/etc/passwd", "max": 0}},
        {"File": {"name": "link-out", "max": 0}},
        {"File": {"name": null, "max": 0}},
        {"File": {"name": "mine.txt", "max": 0}},
    ]);
    t.write("mine.txt", "hello");
    std::os::unix::fs::symlink("/etc/passwd", t.path().join("link-out")).expect("symlink");
    // The stand-in is started with the effects to forge as its one argument.
    let exe = t.write(
        "worker.sh",
        &format!(
            "#!/bin/sh\nexec python3 {} '{}'\n",
            stand_in.display(),
            forged
        ),
    );
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let bot_server = server("a");
    let bot =
        tgscript::telegram::BotClient::new(&token("a"), Some(&bot_server.url())).expect("client");
    let accounts = Accounts::default();
    for (id, owner) in [(1, "a"), (2, "b")] {
        let account = SandboxAccount::logged_in(accounts.sink(id));
        accounts
            .insert(id, Arc::new(account), Some(owner))
            .expect("insert");
    }
    let store = Arc::new(Store::in_memory());
    let host = Host::new(None, accounts, store.clone(), runtime.handle().clone());
    let effects: Arc<dyn Effects> = Arc::new(host.for_bot(bot, "a", "a"));
    let pool = Arc::new(WorkerPool::new(PoolSettings {
        user: tgscript::scenario::runner::confine::worker_user(None)
            .expect("the default worker user"),
        exe,
        workers: 1,
        tenant_workers: 1,
        memory_mb: 0,
        max_calls: 0,
        limits: Limits::default(),
    }));
    let runner = Runner::Process {
        pool,
        root: t.path().to_path_buf(),
    };
    let answers = runner
        .eval("anything", &serde_json::Map::new(), &effects)
        .expect("the stand-in answers")
        .value;
    let answers = answers.as_array().expect("a list").clone();
    assert_eq!(answers.len(), 17, "{answers:#?}");
    let refusal = |n: usize| -> String {
        let answer = &answers[n];
        let err = answer
            .get("Err")
            .unwrap_or_else(|| panic!("#{n} refused: {answer}"));
        err.get("Store")
            .and_then(|s| s.as_str().map(str::to_string))
            .or_else(|| err["Command"]["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| err.to_string())
    };
    for n in 0..4 {
        assert!(
            refusal(n).contains("is not bot \"a\"'s"),
            "#{n}: {}",
            refusal(n)
        );
    }
    for n in [4, 5] {
        assert!(
            refusal(n).starts_with("account 2 is not one of tenant \"a\"'s accounts"),
            "#{n}: {}",
            refusal(n)
        );
    }
    assert!(
        refusal(6).starts_with("getChatHistory is not allowed from scripts"),
        "{}",
        refusal(6)
    );
    assert!(
        refusal(7).starts_with("setWebhook is refused"),
        "{}",
        refusal(7)
    );
    assert!(
        refusal(8).starts_with("GETUPDATES is refused"),
        "{}",
        refusal(8)
    );
    assert_eq!(answers[9], json!({"Ok": null}), "{answers:#?}");
    assert_eq!(answers[10], json!({"Ok": 1}), "{answers:#?}");
    assert!(answers[11]["Ok"]["sessions"].is_array(), "{answers:#?}");
    for (n, why) in [
        (12, "Parent"),
        (13, "Absolute"),
        (14, "LinksOut"),
        (15, "NotFound"),
    ] {
        assert_eq!(
            answers[n],
            json!({"Ok": {"Err": {"Outside": why}}}),
            "{answers:#?}"
        );
    }
    // base64 of "hello"
    assert_eq!(
        answers[16]["Ok"]["Ok"]["bytes"],
        json!("aGVsbG8="),
        "{answers:#?}"
    );
    // Nothing was written where it was refused, and nothing reached the Bot API.
    for namespace in ["b/probe", "b/", "probe"] {
        let get = StateOp::Get {
            namespace: namespace.into(),
            scope: StateScope::Global,
            key: "k".into(),
        };
        assert_eq!(
            store.apply(&get, 0).expect("read"),
            json!(null),
            "{namespace}"
        );
    }
    let get = StateOp::Get {
        namespace: "a/probe".into(),
        scope: StateScope::Global,
        key: "k".into(),
    };
    assert_eq!(store.apply(&get, 0).expect("read"), json!(1));
    assert!(bot_server.calls_of("setWebhook").is_empty());
    assert!(bot_server.calls_of("getUpdates").is_empty());
}

/// The CPU time process `pid` itself has used (not its children's), in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .expect("fields")
        .1
        .split(' ')
        .collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    // SAFETY: sysconf reads a constant of the system.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

#[test]
fn checking_a_module_that_burns_cpu_costs_the_host_nothing_and_others_are_answered() {
    let t = TestDir::new();
    // Its top level runs nested sorts: about a minute of CPU, far past the 1 s limit.
    t.write(
        "scripts/heavy.rhai",
        "let a = []; for i in 0..300 { a.push(i); }\nlet d = a;\n\
         a.sort(|x, y| { let b = d; b.sort(|p, q| { let c = d; c.sort(|m, n| m - n); p - q }); x - y });\n\
         export const N = 1;\n",
    );
    t.write("scripts/hello.rhai", "fn on_message(msg) { }\n");
    t.write(
        "tgscript.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"{ADMIN}\"\n[limits]\ntimeout_ms = 1000\n"
        ),
    );
    let run = t.spawn_with_input(&["run", "scripts"], &[], std::process::Stdio::piped());
    let addr = run.gateway_address();
    let before = cpu_seconds(run.pid());
    let started = std::time::Instant::now();
    let checking = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let request = json!({"action": "check_script", "name": "uses_heavy.rhai",
                "source": "import \"heavy\" as h;\nfn on_message(msg) { print(h::N); }\n"});
            let answer = command(&addr, Some(ADMIN), &request);
            (answer, std::time::Instant::now())
        })
    };
    // Others are answered while the check runs.
    let mut answered = Vec::new();
    while !checking.is_finished() {
        let (status, event) = command(&addr, Some(ADMIN), &json!({"action": "list_bots"}));
        assert_eq!(status, 200, "{event}");
        answered.push(std::time::Instant::now());
        std::thread::sleep(Duration::from_millis(100));
    }
    let ((status, event), checked_at) = checking.join().expect("the check");
    let used = cpu_seconds(run.pid()) - before;
    assert_eq!(status, 200, "{event}");
    let problems = event["data"]["problems"].to_string();
    assert!(problems.contains("time limit exceeded"), "{event}");
    assert!(
        answered.iter().filter(|at| **at < checked_at).count() >= 3,
        "{} answers while the check ran {:?}",
        answered.len(),
        checked_at - started
    );
    // The check ran in a worker, killed at its limit: the host itself spent next to nothing
    // (well under the 1 s limit).
    assert!(used < 1.0, "the host used {used} s of CPU");
    // Builtins did nothing during the check, and nothing was saved.
    assert!(!t.path().join("scripts/uses_heavy.rhai").exists());
    run.interrupt();
}

#[test]
fn a_tenant_holding_every_worker_it_may_does_not_keep_another_waiting() {
    // Slow handlers: each holds its worker for 8 s.
    fair_share(
        "fn on_message(msg) { print(`a starts in ${msg.chat.id}`); sleep(8); send_message(msg.chat.id, \"a done\"); }\n",
        |_| {},
    );
}

#[test]
fn a_tenant_in_flood_waits_does_not_keep_another_waiting() {
    // Flood waits: Telegram answers each of a's sends with 429, retry after 8 s, which the
    // host waits out while the handler holds its worker.
    fair_share(
        "fn on_message(msg) { print(`a starts in ${msg.chat.id}`); send_message(msg.chat.id, \"a done\"); }\n",
        |a| {
            a.world(|w| {
                for _ in 0..10 {
                    w.fail_next(
                        "sendMessage",
                        tgscript::sandbox::Refusal::too_many_requests(8),
                    );
                }
            })
        },
    );
}

/// Tenant a's `script` (after `prepare` set up its Bot API server) handling ten chats at
/// once, each holding its worker a while; tenant b is answered meanwhile, with a held to its
/// share of the pool.
fn fair_share(script: &str, prepare: impl Fn(&BotApiServer)) {
    use tgscript::sandbox::world::{ChatKind, Status};
    let (a, b) = (server("a"), server("b"));
    let t = TestDir::new();
    t.write("a/slow.rhai", script);
    t.write(
        "b/quick.rhai",
        "fn on_message(msg) { send_message(msg.chat.id, \"b here\"); }\n",
    );
    t.write(
        "tgscript.toml",
        &format!(
            "[limits]\ntimeout_ms = 10000\n\
             # Four workers: a tenant holds at most two while both are served.\n\
             [scripts]\nworkers = 4\n\
             [[bot]]\nid = \"a\"\ntoken_env = \"TOKEN_A\"\nscripts = \"a\"\napi_url = \"{}\"\n\
             [[bot]]\nid = \"b\"\ntoken_env = \"TOKEN_B\"\nscripts = \"b\"\napi_url = \"{}\"\n",
            a.url(),
            b.url(),
        ),
    );
    prepare(&a);
    let (token_a, token_b) = (token("a"), token("b"));
    let run = t.spawn(
        &["run"],
        &[("TOKEN_A", token_a.as_str()), ("TOKEN_B", token_b.as_str())],
    );
    run.wait_stderr("scripts run in worker processes", 1, WAIT);
    // Tenant b has been answered once (a worker started for it: what this measures is
    // waiting behind tenant a, not a process starting on a busy machine).
    b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "warm up", None));
    texts_until(&run, &b, |t| t == "b here");
    // Tenant a's handlers, in ten chats at once, would hold every worker (b's idle one too,
    // were a not held to its share).
    for n in 0..10 {
        let chat = -1_000_000_000_000 - n;
        a.world(|w| {
            w.add_chat(chat, ChatKind::Supergroup, "busy");
            w.set_status(chat, ALICE, Status::Member);
            w.user_message(chat, ALICE, "work", None);
        });
    }
    run.wait_stderr("a starts in", 2, WAIT);
    let asked = std::time::Instant::now();
    b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "hello", None));
    let answered = |texts: &[String]| texts.iter().filter(|t| *t == "b here").count();
    match b.wait_for(WAIT, |calls| {
        let texts: Vec<String> = calls
            .iter()
            .filter_map(|c| c.params["text"].as_str().map(str::to_string))
            .collect();
        answered(&texts) == 2
    }) {
        Ok(_) => {}
        Err(calls) => panic!("b was not answered again: {calls:?}"),
    }
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(1),
        "tenant b waited {waited:?} for its first reply"
    );
    // Tenant a held its share, no more, while b was answered.
    let started = run.stderr_so_far().matches("a starts in").count();
    assert_eq!(started, 2, "{}", run.stderr_so_far());
    run.interrupt();
}

/// Each tenant's bot prints what it saw and answers.
const SAYS: &str = r#"
fn on_message(msg) {
    print(`${global::NAME} saw ${msg.text}`);
    reply(`${global::NAME} answers`);
}
"#;

#[test]
fn a_tenants_gateway_token_reaches_its_own_bots_and_accounts_only() {
    use crate::account_events::next_event;
    use crate::gateway::{connect, runtime};
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let (a, b) = (server("a"), server("b"));
    let t = TestDir::new();
    t.write("a/says.rhai", &format!("const NAME = \"a\";\n{SAYS}"));
    t.write("b/says.rhai", &format!("const NAME = \"b\";\n{SAYS}"));
    t.write("b/secret.txt", "b's api key: 0123456789");
    t.write(
        "tgscript.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"{ADMIN}\"\ntoken = \"operator-token\"\n\
             [scripts]\nworkers = 2\n\
             [[tenant]]\nname = \"a\"\ntoken_env = \"TENANT_A\"\n\
             [[bot]]\nid = \"a\"\ntoken_env = \"TOKEN_A\"\nscripts = \"a\"\napi_url = \"{}\"\n\
             [[bot]]\nid = \"b\"\ntoken_env = \"TOKEN_B\"\nscripts = \"b\"\napi_url = \"{}\"\n\
             [[account]]\nid = 1\nbackend = \"sandbox\"\nowner = \"a\"\n\
             [[account]]\nid = 2\nbackend = \"sandbox\"\nowner = \"b\"\n",
            a.url(),
            b.url(),
        ),
    );
    let tenant_a = "tenant-a-token-0123456789";
    let (token_a, token_b) = (token("a"), token("b"));
    let run = t.spawn(
        &["run"],
        &[
            ("TOKEN_A", token_a.as_str()),
            ("TOKEN_B", token_b.as_str()),
            ("TENANT_A", tenant_a),
        ],
    );
    let addr = run.gateway_address();
    let ask = |token: &str, request: serde_json::Value| command(&addr, Some(token), &request);
    let chat = SANDBOX_CHAT_ID;
    a.world(|w| w.user_message(chat, ALICE, "hi a", None));
    b.world(|w| w.user_message(chat, ALICE, "hi b", None));
    texts_until(&run, &a, |t| t == "a answers");
    texts_until(&run, &b, |t| t == "b answers");

    // Its bots, accounts and activity: a's only.
    let (status, bots) = ask(tenant_a, json!({"action": "list_bots"}));
    assert_eq!(status, 200, "{bots}");
    let ids: Vec<&str> = bots["data"]["bots"]
        .as_array()
        .expect("bots")
        .iter()
        .filter_map(|b| b["id"].as_str())
        .collect();
    assert_eq!(ids, ["a"], "{bots}");
    let (_, accounts) = ask(tenant_a, json!({"action": "list_accounts"}));
    let ids: Vec<i64> = accounts["data"]["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["userbot_id"].as_i64())
        .collect();
    assert_eq!(ids, [1], "{accounts}");
    let (status, activity) = ask(tenant_a, json!({"action": "activity", "kind": "print"}));
    assert_eq!(status, 200, "{activity}");
    let printed: Vec<&str> = activity["data"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(
        printed.iter().any(|p| p.contains("a saw hi a")),
        "{activity}"
    );
    assert!(!printed.iter().any(|p| p.contains("b saw")), "{activity}");
    let (_, all) = ask(ADMIN, json!({"action": "activity", "kind": "print"}));
    assert!(
        all.to_string().contains("b saw hi b"),
        "the admin sees both: {all}"
    );

    // Its own scripts and inbox; b's are not there for it, and nothing of b's changes.
    let (status, own) = ask(
        tenant_a,
        json!({"action": "get_script", "bot_id": "a", "name": "says.rhai"}),
    );
    assert_eq!(status, 200, "{own}");
    let b_before = std::fs::read_to_string(t.path().join("b/says.rhai")).expect("b's script");
    for request in [
        json!({"action": "get_script", "bot_id": "b", "name": "says.rhai"}),
        json!({"action": "put_script", "bot_id": "b", "name": "says.rhai", "source": "fn on_message(m) { reply(\"owned\"); }"}),
        json!({"action": "delete_script", "bot_id": "b", "name": "says.rhai"}),
        json!({"action": "list_scripts", "bot_id": "b"}),
        json!({"action": "check_script", "bot_id": "b", "name": "x.rhai", "source": "1"}),
        json!({"action": "inbox_list", "bot_id": "b"}),
        json!({"action": "inbox_retry", "bot_id": "b", "update_id": 1}),
    ] {
        let (status, answer) = ask(tenant_a, request.clone());
        assert_eq!(status, 400, "{request}: {answer}");
        assert_eq!(
            answer["error"],
            json!("no bot \"b\" runs here (running: a)"),
            "{request}"
        );
    }
    let b_after = std::fs::read_to_string(t.path().join("b/says.rhai")).expect("b's script");
    assert_eq!(b_before, b_after);
    let (status, inbox) = ask(tenant_a, json!({"action": "inbox_list", "bot_id": "a"}));
    assert_eq!(status, 200, "{inbox}");

    // Accounts: its own through its bot; b's through no bot; b's bot not at all.
    let (status, own) = ask(
        tenant_a,
        json!({"action": "get_active_sessions", "userbot_id": 1, "bot_id": "a"}),
    );
    assert_eq!(status, 200, "{own}");
    let (status, other) = ask(
        tenant_a,
        json!({"action": "block_user", "userbot_id": 2, "bot_id": "a", "user_id": 42}),
    );
    assert_eq!(status, 403, "{other}");
    assert!(
        other["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("account 2 is not one of tenant \"a\"'s accounts")),
        "{other}"
    );
    let (status, through_b) = ask(
        tenant_a,
        json!({"action": "get_active_sessions", "userbot_id": 2, "bot_id": "b"}),
    );
    assert_eq!(status, 400, "{through_b}");
    let (status, removed) = ask(
        tenant_a,
        json!({"action": "remove_account", "userbot_id": 2}),
    );
    assert_eq!(status, 403, "{removed}");
    let (_, blocked) = ask(
        ADMIN,
        json!({"action": "get_blocked_users", "userbot_id": 2, "bot_id": "b"}),
    );
    assert_eq!(blocked["data"]["total_count"], json!(0), "{blocked}");

    // Chat actions through its own bot only: b's bot sends nothing for it.
    let (status, sent) = ask(
        tenant_a,
        json!({"action": "send_message", "bot_id": "b", "chat_id": chat, "text": "from a, through b"}),
    );
    assert_eq!(status, 400, "{sent}");
    let (status, sent) = ask(
        tenant_a,
        json!({"action": "send_message", "bot_id": "a", "chat_id": chat, "text": "from a's client"}),
    );
    assert_eq!(status, 200, "{sent}");
    texts_until(&run, &a, |t| t == "from a's client");
    assert!(
        !b.calls()
            .iter()
            .any(|c| c.params["text"] == "from a, through b"),
        "b's bot sent nothing for a"
    );

    // The admin's actions stay the admin's.
    for request in [
        json!({"action": "add_bot", "id": "c", "token": "1:x"}),
        json!({"action": "remove_bot", "id": "b"}),
        json!({"action": "add_tenant_token", "tenant": "a"}),
        json!({"action": "sandbox_login_from", "userbot_id": 1}),
    ] {
        let (status, answer) = ask(tenant_a, request.clone());
        assert_eq!(status, 401, "{request}: {answer}");
    }

    // run_script: no files for a client other than the admin; a tenant's reaches its own
    // accounts only.
    for token in [tenant_a, "operator-token"] {
        let (_, read) = ask(
            token,
            json!({"action": "run_script", "script": "asset(\"secret.txt\").size"}),
        );
        assert!(
            read["error"]
                .as_str()
                .is_some_and(|e| e.contains("this script has no scenario folder")),
            "{read}"
        );
    }
    let (_, own) = ask(
        tenant_a,
        json!({"action": "run_script", "script": "account(1).get_active_sessions().sessions.len()"}),
    );
    assert!(
        own["data"]["value"].as_i64().is_some_and(|n| n > 0),
        "{own}"
    );
    let (_, other) = ask(
        tenant_a,
        json!({"action": "run_script", "script": "account(2).get_active_sessions()"}),
    );
    assert!(
        other["error"]
            .as_str()
            .is_some_and(|e| e.contains("account 2 is not one of tenant \"a\"'s accounts")),
        "{other}"
    );

    // Its run_script has no bot: the gateway's effects carry the operator's (here b's, the
    // first configured), so a Bot API call is refused, not sent as someone else's bot.
    let (_, as_bot) = ask(
        tenant_a,
        json!({"action": "run_script", "script": format!("send_message({chat}, \"as whose bot?\")")}),
    );
    assert!(
        as_bot["error"].as_str().is_some_and(|e| e.contains(
            "has no bot in a script: send Bot API calls as chat actions over the gateway"
        )),
        "{as_bot}"
    );
    // An account id another tenant holds is not free to take.
    let (status, taken) = ask(
        tenant_a,
        json!({"action": "add_account", "userbot_id": 2, "backend": "sandbox"}),
    );
    assert_eq!(status, 400, "{taken}");
    assert!(
        taken["error"]
            .as_str()
            .is_some_and(|e| e.contains("exists")),
        "{taken}"
    );

    // Account events: its own accounts' only; naming another's is refused.
    let rt = runtime();
    let mut ws = rt.block_on(async {
        let mut ws = connect(&addr, Some(tenant_a)).await.expect("connected");
        for (request, answered) in [
            (
                json!({"action": "subscribe", "userbot_ids": [2]}),
                "subscribe_error",
            ),
            (json!({"action": "subscribe"}), "subscribe"),
        ] {
            ws.send(Message::Text(request.to_string().into()))
                .await
                .expect("sent");
            let event = next_event(&mut ws).await;
            assert_eq!(event["event"], answered, "{event}");
        }
        ws
    });
    for id in [2, 1] {
        let (status, answer) = ask(
            ADMIN,
            json!({"action": "sandbox_login_from", "userbot_id": id, "location": "Lagos, Nigeria"}),
        );
        assert_eq!(status, 200, "{answer}");
    }
    // The first event it gets is account 1's, though account 2's came first.
    let event = rt.block_on(next_event(&mut ws));
    assert_eq!(event["userbot_id"], 1, "{event}");
    drop(ws);

    // Bad input to the token actions changes nothing.
    for (request, status, says) in [
        (
            json!({"action": "add_tenant_token", "tenant": "../b"}),
            400,
            "tenant: use 1–64 letters",
        ),
        (
            json!({"action": "add_tenant_token", "tenant": 7}),
            400,
            "tenant must be a string",
        ),
        (
            json!({"action": "add_tenant_token"}),
            400,
            "tenant is required",
        ),
        (
            json!({"action": "remove_tenant_token", "id": "%"}),
            404,
            "no token has id",
        ),
        (
            json!({"action": "remove_tenant_token", "id": ["x"]}),
            400,
            "id must be a string",
        ),
    ] {
        let (got, answer) = ask(ADMIN, request.clone());
        assert_eq!(got, status, "{request}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| e.contains(says)),
            "{request}: {answer}"
        );
    }
    let (_, listed) = ask(ADMIN, json!({"action": "list_tenant_tokens"}));
    assert_eq!(listed["data"]["tokens"], json!([]), "{listed}");

    // A token the admin adds for tenant b: b's things only, until it is removed.
    let (status, added) = ask(ADMIN, json!({"action": "add_tenant_token", "tenant": "b"}));
    assert_eq!(status, 200, "{added}");
    let tenant_b = added["data"]["token"]
        .as_str()
        .expect("a token")
        .to_string();
    let id = added["data"]["id"].as_str().expect("an id").to_string();
    let (status, bots) = ask(&tenant_b, json!({"action": "list_bots"}));
    assert_eq!(status, 200, "{bots}");
    assert_eq!(bots["data"]["bots"][0]["id"], "b", "{bots}");
    assert_eq!(bots["data"]["bots"].as_array().map(Vec::len), Some(1));
    // A WebSocket opened with it is closed once the token is removed (below).
    let mut open = rt.block_on(async { connect(&addr, Some(&tenant_b)).await.expect("connected") });
    let (_, listed) = ask(ADMIN, json!({"action": "list_tenant_tokens"}));
    assert_eq!(listed["data"]["tokens"][0]["id"], json!(id), "{listed}");
    assert!(
        !listed.to_string().contains(&tenant_b),
        "never the token: {listed}"
    );
    let (status, removed) = ask(ADMIN, json!({"action": "remove_tenant_token", "id": id}));
    assert_eq!(status, 200, "{removed}");
    let (status, refused) = ask(&tenant_b, json!({"action": "list_bots"}));
    assert_eq!(status, 401, "{refused}");
    let revoked = rt.block_on(async {
        open.send(Message::Text(
            json!({"action": "list_bots"}).to_string().into(),
        ))
        .await
        .expect("sent");
        next_event(&mut open).await
    });
    assert_eq!(
        revoked["error"], "this connection's token was removed: the connection is closed",
        "{revoked}"
    );
    let (status, refused) = ask("no-such-token", json!({"action": "list_bots"}));
    assert_eq!(status, 401, "{refused}");

    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    for secret in [tenant_a, tenant_b.as_str()] {
        assert!(!done.all_output().contains(secret), "a token was logged");
    }
}

#[test]
fn a_tenant_printing_past_its_log_budget_is_cut_and_counted_and_others_are_not() {
    use crate::bots::{get, sample};
    let (a, b) = (server("a"), server("b"));
    let t = TestDir::new();
    // Each line is 40 bytes with its newline: 10 of a's fit in 400, the rest do not.
    t.write(
        "a/loud.rhai",
        "fn on_message(msg) { for n in 0..30 { print(`a line ${n + 100} ............................`); } reply(\"a done\"); }\n",
    );
    t.write(
        "b/quiet.rhai",
        "fn on_message(msg) { print(\"b says one line\"); reply(\"b done\"); }\n",
    );
    t.write(
        "tgscript.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:0\"\n\
             [scripts]\ntenant_log_bytes_per_minute = 400\n\
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
    let addr = run.gateway_address();
    a.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "go", None));
    texts_until(&run, &a, |t| t == "a done");
    b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "go", None));
    texts_until(&run, &b, |t| t == "b done");
    run.wait_stderr("b says one line", 1, WAIT);
    let log = run.stderr_so_far();
    assert!(log.contains("a line 100"), "{log}");
    assert!(log.contains("a line 109"), "{log}");
    assert!(!log.contains("a line 110"), "past the budget: {log}");
    assert_eq!(
        log.matches("tenant_log_bytes_per_minute (400 bytes) this minute")
            .count(),
        1,
        "said once: {log}"
    );
    let (status, metrics) = get(&format!("http://{addr}/metrics"));
    assert_eq!(status, 200);
    assert_eq!(
        sample(
            &metrics,
            "tgscript_script_output_dropped_bytes_total",
            &[("tenant", "a")]
        ),
        Some(20.0 * 40.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "tgscript_script_output_dropped_bytes_total",
            &[("tenant", "b")]
        ),
        None
    );
    run.interrupt();
}

#[test]
fn a_tenants_client_reaches_no_account_without_an_owner_even_as_the_only_tenant() {
    let a = server("a");
    let t = TestDir::new();
    t.write("a/says.rhai", &format!("const NAME = \"a\";\n{SAYS}"));
    t.write(
        "tgscript.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"{ADMIN}\"\ntoken = \"operator-token\"\n\
             [[tenant]]\nname = \"a\"\ntoken_env = \"TENANT_A\"\n\
             [[bot]]\nid = \"a\"\ntoken_env = \"TOKEN_A\"\nscripts = \"a\"\napi_url = \"{}\"\n\
             [[account]]\nid = 1\nbackend = \"sandbox\"\nowner = \"a\"\n\
             [[account]]\nid = 3\nbackend = \"sandbox\"\n",
            a.url(),
        ),
    );
    let tenant_a = "tenant-a-token-0123456789";
    let token_a = token("a");
    let run = t.spawn(
        &["run"],
        &[("TOKEN_A", token_a.as_str()), ("TENANT_A", tenant_a)],
    );
    let addr = run.gateway_address();
    let ask = |token: &str, request: serde_json::Value| command(&addr, Some(token), &request);
    // Account 3 has no owner: bot a's scenarios may use it (the only tenant), its client not.
    let (status, own) = ask(
        tenant_a,
        json!({"action": "get_active_sessions", "userbot_id": 1}),
    );
    assert_eq!(status, 200, "{own}");
    for request in [
        json!({"action": "get_active_sessions", "userbot_id": 3}),
        json!({"action": "terminate_all_other_sessions", "userbot_id": 3, "bot_id": "a"}),
        json!({"action": "get_blocked_users", "userbot_id": "3"}),
    ] {
        let (status, answer) = ask(tenant_a, request.clone());
        assert_eq!(status, 403, "{request}: {answer}");
    }
    let (status, sessions) = ask(
        "operator-token",
        json!({"action": "get_active_sessions", "userbot_id": 3}),
    );
    assert_eq!(status, 200, "the operator's: {sessions}");
    assert!(
        sessions["data"]["sessions"]
            .as_array()
            .is_some_and(|s| s.len() > 1),
        "nothing was terminated: {sessions}"
    );
    run.interrupt();
}
