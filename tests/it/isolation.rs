//! Scripts in worker processes: the real `tgscript worker` binary behind the pool, and the
//! real `run` and `serve` with the default `[scripts] isolation = "process"`. A worker that
//! dies, hangs or bloats costs one call; the host and every other chat go on.

use crate::util::{TOKEN, TestDir};
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tgscript::effects::Effects;
use tgscript::engine::Limits;
use tgscript::host::Host;
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, World};
use tgscript::scenario::runner::Runner;
use tgscript::scenario::runner::pool::{GRACE, PoolSettings, WorkerPool};
use tgscript::store::StateScope;

const WAIT: Duration = Duration::from_secs(30);
const USER: i64 = 1001;

/// A script that holds ~300 MB in closures capturing distinct strings (closures are not
/// counted by Rhai's size limits): over `max_memory_mb`, and with that limit off, over a
/// 128 MiB worker's address space.
const MEMORY_BOMB: &str = r#"let s = "y"; for i in 0..19 { s += s; } let a = []; for i in 0..600 { let t = s + i; a.push(|| t); } a.len()"#;

fn pool(limits: Limits, memory_mb: u64) -> Arc<WorkerPool> {
    Arc::new(WorkerPool::new(PoolSettings {
        user: tgscript::scenario::runner::confine::worker_user(None)
            .expect("the default worker user"),
        exe: env!("CARGO_BIN_EXE_tgscript").into(),
        workers: 2,
        tenant_workers: 2,
        memory_mb,
        max_calls: 0,
        limits,
    }))
}

fn process(pool: &Arc<WorkerPool>, root: &Path) -> Runner {
    Runner::Process {
        pool: pool.clone(),
        root: root.to_path_buf(),
    }
}

fn eval(runner: &Runner, effects: &Arc<dyn Effects>, script: &str) -> Result<Value, String> {
    runner
        .eval(script, &Map::new(), effects)
        .map(|e| e.to_json())
        .map_err(|e| e.to_string())
}

#[test]
fn a_worker_runs_the_script_and_asks_the_host_for_its_effects() {
    let dir = TestDir::new();
    let host = Arc::new(Host::offline());
    let effects: Arc<dyn Effects> = host.clone();
    // Operations run out long before time does, however loaded the machine is.
    let limits = Limits {
        max_operations: 1_000_000,
        timeout_ms: 60_000,
        ..Limits::default()
    };
    let pool = pool(limits, 256);
    let confinement = pool.start().expect("a worker starts");
    // The real worker's cage, as it reports it: the probe in `confine`'s tests shows what
    // these layers refuse.
    for layer in [
        "address space 256 MiB",
        "landlock: no file",
        "seccomp: allow-list",
    ] {
        assert!(confinement.line().contains(layer), "{confinement:?}");
    }
    let runner = process(&pool, dir.path());
    let vars = json!({"n": 21});
    let evaluated = runner
        .eval(
            "global_set(\"seen\", n); print(`n is ${n}`); n * 2",
            vars.as_object().expect("object"),
            &effects,
        )
        .expect("evaluated");
    assert_eq!(evaluated.value, json!(42));
    assert_eq!(evaluated.printed, ["n is 21"]);
    // The state write crossed the pipe into the host's store.
    let stored = host.store().get("main", StateScope::Global, "seen");
    assert_eq!(stored.ok().flatten(), Some(json!(21)));
    // A script error keeps its location and limit.
    let error = runner
        .eval("let x = 1;\nloop { x += 1; }", &Map::new(), &effects)
        .expect_err("stopped");
    assert_eq!(error.limit, Some("max_operations"), "{error}");
    assert_eq!(error.line, Some(2), "{error}");
}

#[test]
fn a_worker_that_dies_fails_its_call_alone_and_is_replaced() {
    let dir = TestDir::new();
    let effects: Arc<dyn Effects> = Arc::new(Host::offline());
    let limits = Limits {
        timeout_ms: 10_000,
        max_memory_mb: 0,
        ..Limits::default()
    };
    let pool = pool(limits, 128);
    let runner = process(&pool, dir.path());
    let died = eval(&runner, &effects, MEMORY_BOMB).expect_err("out of memory");
    assert!(died.contains("worker process died"), "{died}");
    assert!(died.contains("worker_memory_mb"), "{died}");
    // The same scenario with no limit on closures overflows the worker's stack, not ours.
    let pool = self::pool(
        Limits {
            max_closure_depth: 0,
            ..Limits::default()
        },
        256,
    );
    let runner = process(&pool, dir.path());
    let chain = "let f = || 0; for i in 0..100000 { let g = f; f = || g; } 1";
    let died = eval(&runner, &effects, chain).expect_err("stack overflow");
    assert!(died.contains("worker process died"), "{died}");
    assert_eq!(
        eval(&runner, &effects, "1 + 1"),
        Ok(json!({"value": 2, "printed": []}))
    );
}

/// The worker processes started by this test process.
fn our_workers() -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        // Field 4 of /proc/PID/stat (after the parenthesised name) is the parent's pid.
        let parent = stat
            .rsplit(") ")
            .next()
            .and_then(|rest| rest.split(' ').nth(1));
        if parent == Some(me.as_str()) && cmdline.ends_with(b"worker\0") {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn a_worker_that_stops_answering_is_killed_at_the_deadline() {
    let dir = TestDir::new();
    let effects: Arc<dyn Effects> = Arc::new(Host::offline());
    let limits = Limits {
        timeout_ms: 500,
        ..Limits::default()
    };
    let pool = pool(limits, 256);
    let runner = Arc::new(process(&pool, dir.path()));
    pool.start().expect("a worker starts");
    let before = our_workers();
    let call = {
        let (runner, effects) = (runner.clone(), effects.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            (eval(&runner, &effects, "sleep(0.3); 1"), started.elapsed())
        })
    };
    // Freeze the worker mid-call, as a native hang would: Rhai's own checks cannot run.
    std::thread::sleep(Duration::from_millis(100));
    for pid in &before {
        // SAFETY: signalling a child process of this test.
        unsafe { libc::kill(*pid, libc::SIGSTOP) };
    }
    let (result, took) = call.join().expect("the call thread");
    let error = result.expect_err("killed");
    assert!(error.contains("worker process was killed"), "{error}");
    assert!(error.contains("[limits] timeout_ms"), "{error}");
    println!("a frozen worker's call ended after {took:?} (limit 500 ms + {GRACE:?})");
    assert_eq!(
        eval(&runner, &effects, "2"),
        Ok(json!({"value": 2, "printed": []}))
    );
}

/// The local Bot API server with Alice in two supergroups.
fn two_chats(first: i64, second: i64) -> BotApiServer {
    let mut world = World::empty();
    world.add_user(USER, "Alice");
    world.add_chat(first, ChatKind::Supergroup, "first");
    world.add_chat(second, ChatKind::Supergroup, "second");
    BotApiServer::start(world, Some(TOKEN)).expect("local Bot API server")
}

/// `tgscript run scripts` in `t` as the bot of `server`.
fn run_against(t: &TestDir, server: &BotApiServer) -> crate::util::Background {
    let url = server.url();
    t.spawn(
        &["run", "scripts"],
        &[
            ("TELOXIDE_TOKEN", TOKEN),
            ("TELOXIDE_API_URL", url.as_str()),
        ],
    )
}

#[test]
fn a_handler_that_kills_its_worker_on_every_try_is_parked_and_other_chats_are_answered() {
    let (first, second) = (-1_003_000_000_001, -1_003_000_000_002);
    let server = two_chats(first, second);
    let t = TestDir::new();
    t.write(
        "tgscript.toml",
        "[inbox]\nmax_attempts = 2\n[scripts]\nworker_memory_mb = 128\n[limits]\ntimeout_ms = 10000\nmax_memory_mb = 0\n",
    );
    t.write(
        "scripts/echo.rhai",
        &format!(
            "fn on_message(msg) {{\n    if msg.text == \"crash\" {{ {MEMORY_BOMB}; }}\n    send_message(msg.chat.id, `echo: ${{msg.text}}`);\n}}\n"
        ),
    );
    let bot = run_against(&t, &server);
    server.world(|w| {
        w.user_message(first, USER, "crash", None);
        w.user_message(second, USER, "one", None);
        w.user_message(second, USER, "two", None);
        w.user_message(first, USER, "after", None);
    });
    let texts = |calls: &[tgscript::sandbox::Recorded]| -> Vec<(i64, String)> {
        calls
            .iter()
            .filter(|c| c.method == "sendMessage")
            .map(|c| {
                (
                    c.params["chat_id"].as_i64().unwrap_or_default(),
                    c.params["text"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let sent = server
        .wait_for(WAIT, |calls| texts(calls).len() >= 3)
        .map(|calls| texts(&calls))
        .unwrap_or_else(|calls| panic!("three answers expected: {:#?}", texts(&calls)));
    let done = bot.interrupt();
    assert_eq!(done.code, Some(0), "the host ran on: {}", done.all_output());
    assert!(sent.contains(&(second, "echo: one".into())), "{sent:?}");
    assert!(sent.contains(&(second, "echo: two".into())), "{sent:?}");
    assert!(sent.contains(&(first, "echo: after".into())), "{sent:?}");
    assert!(
        !sent.iter().any(|(_, text)| text == "echo: crash"),
        "{sent:?}"
    );
    let log = done.all_output();
    assert!(log.contains("worker process died"), "{log}");
    assert!(
        log.contains("update 1 parked after 2 failed tries"),
        "{log}"
    );
}

/// Hostile scripts, each with words its error must contain: the red team's reproductions and
/// more of the same kind. None may take the host down.
pub(crate) const HOSTILE: &[(&str, &str)] = &[
    ("loop {}", "[limits] max_operations"),
    (
        "let f = || 0; for i in 0..100000 { let g = f; f = || g; } 1",
        "[limits] max_closure_depth",
    ),
    (
        "let f = || 0; for i in 0..100000 { let a = [#{f: f}]; f = || a; } 1",
        "[limits] max_closure_depth",
    ),
    (MEMORY_BOMB, "[limits] max_memory_mb"),
    ("loop { let a = #{}; let f = || a; a.f = f; }", "[limits]"),
    ("fn f(x) { f(x + 1) } f(0)", "[limits] max_call_levels"),
    (
        "let a = []; for i in 0..200 { a.push(i); } a.sort(|x, y| { let b = []; for j in 0..200 { b.push(j); } b.sort(|p, q| { loop {} }); 0 }); 1",
        "[limits]",
    ),
    (
        r#"let s = ""; for i in 0..800 { s += "a"; } let big = "b"; for i in 0..19 { big += big; } s.replace("", big)"#,
        "[limits] max_string_size",
    ),
    (
        r#"let s = "x"; loop { s += s; }"#,
        "[limits] max_string_size",
    ),
    (
        "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }",
        "[limits]",
    ),
    ("sleep(1000)", "[limits] timeout_ms"),
    (
        r#"tdlib(#{"@type": "addLogMessage", verbosity_level: 0, text: "x"})"#,
        "is not allowed from scripts",
    ),
    (
        r#"tdlib(#{"@type": "setLogStream", log_stream: #{"@type": "logStreamFile", path: "/tmp/tgscript-hostile.log"}})"#,
        "is not allowed from scripts",
    ),
    ("eval(\"1\")", "eval is disabled"),
];

#[test]
fn hostile_scripts_through_run_script_fail_alone_and_the_gateway_serves_on() {
    let served = crate::gateway::serve(
        "[scripts]\nworker_memory_mb = 128\n[limits]\ntimeout_ms = 2000\n",
        &[],
    );
    let addr = served.addr.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client");
    let run_script = |script: &str| -> (Value, Duration) {
        let started = Instant::now();
        let body = json!({"action": "run_script", "script": script}).to_string();
        let event: Value = runtime.block_on(async {
            let response = client
                .post(format!("http://{addr}/command"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("an answer");
            response.json().await.expect("JSON event")
        });
        (event, started.elapsed())
    };
    for (script, expected) in HOSTILE {
        let (event, took) = run_script(script);
        assert_eq!(
            event["event"],
            json!("run_script_error"),
            "{script}: {event}"
        );
        let error = event["error"].as_str().unwrap_or_default();
        assert!(error.contains(expected), "{script}: {event}");
        println!("{took:>10.1?}  {expected}");
        let (event, _) = run_script("40 + 2");
        assert_eq!(event["data"]["value"], json!(42), "after {script}: {event}");
    }
    let done = served.bot.interrupt();
    assert_eq!(done.code, Some(0), "the host ran on: {}", done.all_output());
    assert!(
        !Path::new("/tmp/tgscript-hostile.log").exists(),
        "no log file written"
    );
}

#[test]
fn hostile_handlers_under_run_fail_alone_and_every_chat_is_answered() {
    let (hostile_chat, quiet_chat) = (-1_003_000_000_011, -1_003_000_000_012);
    let server = two_chats(hostile_chat, quiet_chat);
    let t = TestDir::new();
    t.write(
        "tgscript.toml",
        "default_account = 1\n[[account]]\nid = 1\nbackend = \"sandbox\"\n[inbox]\nmax_attempts = 1\n[scripts]\nworker_memory_mb = 128\n[limits]\ntimeout_ms = 2000\n",
    );
    // Scripts that are not statements of a handler (a top-level fn, a compile error) are
    // covered through run_script and exec.
    let corpus: Vec<&(&str, &str)> = HOSTILE
        .iter()
        .filter(|(script, _)| !script.starts_with("fn ") && !script.contains("eval"))
        .collect();
    for (i, (script, _)) in corpus.iter().enumerate() {
        t.write(
            &format!("scripts/h{i:02}.rhai"),
            &format!("fn on_message(msg) {{\n    if msg.text == \"h{i}\" {{ {script}; }}\n}}\n"),
        );
    }
    t.write(
        "scripts/zz_echo.rhai",
        "fn on_message(msg) {\n    send_message(msg.chat.id, `echo: ${msg.text}`);\n}\n",
    );
    let bot = run_against(&t, &server);
    server.world(|w| {
        for i in 0..corpus.len() {
            w.user_message(hostile_chat, USER, &format!("h{i}"), None);
            w.user_message(quiet_chat, USER, &format!("q{i}"), None);
        }
    });
    let answers = 2 * corpus.len();
    let sent = server
        .wait_for(WAIT, |calls| {
            calls.iter().filter(|c| c.method == "sendMessage").count() >= answers
        })
        .unwrap_or_else(|calls| panic!("{answers} answers expected: {calls:#?}"));
    let done = bot.interrupt();
    assert_eq!(done.code, Some(0), "the host ran on: {}", done.all_output());
    let texts: Vec<&str> = sent
        .iter()
        .filter_map(|c| c.params["text"].as_str())
        .collect();
    for i in 0..corpus.len() {
        assert!(texts.contains(&format!("echo: q{i}").as_str()), "{texts:?}");
        assert!(texts.contains(&format!("echo: h{i}").as_str()), "{texts:?}");
    }
    let log = done.all_output();
    for (i, (_, expected)) in corpus.iter().enumerate() {
        let line = log
            .lines()
            .find(|l| l.contains(&format!("[h{i:02}.rhai on_message")))
            .unwrap_or_else(|| panic!("no failure logged for h{i}: {log}"));
        assert!(line.contains(expected), "h{i}: {line}");
    }
}

#[test]
fn run_script_output_past_max_print_size_says_so_in_printed() {
    let dir = TestDir::new();
    let effects: Arc<dyn Effects> = Arc::new(Host::offline());
    let pool = pool(
        Limits {
            max_print_size: 100,
            ..Limits::default()
        },
        256,
    );
    let runner = process(&pool, dir.path());
    let evaluated = runner
        .eval(
            "for i in 0..100 { print(`line ${i}`); } 7",
            &Map::new(),
            &effects,
        )
        .expect("evaluated");
    assert_eq!(evaluated.value, json!(7));
    let last = evaluated.printed.last().cloned().unwrap_or_default();
    assert!(
        last.contains("the rest is dropped"),
        "{:?}",
        evaluated.printed
    );
    assert!(evaluated.printed.len() < 20, "{:?}", evaluated.printed);
}

#[test]
fn a_worker_that_answers_with_garbage_is_a_clear_error_not_a_hang() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TestDir::new();
    // Claims a frame of 4 GiB, then goes silent: the host must refuse it, not allocate it.
    let fake = dir.write(
        "fake-worker",
        "#!/bin/sh\nprintf '\\377\\377\\377\\377garbage'\nsleep 30\n",
    );
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let pool = WorkerPool::new(PoolSettings {
        user: tgscript::scenario::runner::confine::worker_user(None)
            .expect("the default worker user"),
        exe: fake,
        workers: 1,
        tenant_workers: 1,
        memory_mb: 0,
        max_calls: 0,
        limits: Limits::default(),
    });
    let started = Instant::now();
    let error = pool.start().expect_err("no worker").to_string();
    assert!(error.contains("cannot start a script worker"), "{error}");
    assert!(error.contains("bad message"), "{error}");
    assert!(started.elapsed() < WAIT, "answered without waiting it out");
}

/// Effects whose Bot API calls take `delay` each (and answer `true`); the rest offline.
struct SlowBot {
    offline: Host,
    delay: Duration,
}

impl Effects for SlowBot {
    fn apply(
        &self,
        effect: &tgscript::effects::Effect<'_>,
    ) -> Result<Value, tgscript::effects::Refusal> {
        match effect {
            tgscript::effects::Effect::Bot { .. } => {
                std::thread::sleep(self.delay);
                Ok(json!(true))
            }
            _ => self.offline.apply(effect),
        }
    }
}

#[test]
fn a_call_past_its_wall_budget_fails_alone_whether_the_worker_stops_it_or_is_killed() {
    let dir = TestDir::new();
    let limits = Limits {
        timeout_ms: 500,
        wall_timeout_ms: 600,
        max_api_calls: 0,
        ..Limits::default()
    };
    let pool = pool(limits, 256);
    let runner = process(&pool, dir.path());
    let calls = "let n = 0; loop { send_message(1, \"hi\"); n += 1; }";
    // Waits of 200 ms: the worker sees its wall budget spent after a wait and stops itself.
    let quick: Arc<dyn Effects> = Arc::new(SlowBot {
        offline: Host::offline(),
        delay: Duration::from_millis(200),
    });
    let error = runner
        .eval(calls, &Map::new(), &quick)
        .expect_err("stopped by the wall budget");
    assert_eq!(error.limit, Some("wall_timeout_ms"), "{error}");
    assert!(
        error
            .to_string()
            .contains("the call ran longer than 600 ms"),
        "{error}"
    );
    // One wait past the budget and the grace after it (an effect the host cannot cut short):
    // the worker is killed, the call fails naming the key, and the next call is served.
    let stuck: Arc<dyn Effects> = Arc::new(SlowBot {
        offline: Host::offline(),
        delay: GRACE + Duration::from_millis(800),
    });
    let error = runner
        .eval(calls, &Map::new(), &stuck)
        .expect_err("killed past the wall budget");
    assert_eq!(error.limit, Some("wall_timeout_ms"), "{error}");
    assert!(
        error.to_string().contains("worker process was killed"),
        "{error}"
    );
    assert_eq!(
        eval(&runner, &quick, "2"),
        Ok(json!({"value": 2, "printed": []}))
    );
}

/// A worker that answers a load by naming files outside its folder as its imports (so the
/// host would read them on every reload): the host keeps only those it handed over — here the
/// one module it served — whatever the worker says.
#[test]
fn a_worker_naming_imports_it_was_not_handed_gets_them_dropped() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TestDir::new();
    dir.write("scripts/lib.rhai", "fn helper() { 1 }");
    let stand_in = dir.write(
        "stand-in.py",
        &format!(
            "{}{}",
            crate::util::STAND_IN_WORKER,
            r#"load = read()
write({"File": {"name": "lib.rhai", "max": 0}})
served = read()["Answer"]["Ok"]["Ok"]["path"]
write({"Done": {"Ok": {"Loaded": {"handlers": [], "fingerprint": 7, "declared": {},
    "imports": ["/etc/passwd", "/dev/zero", load["Load"]["root"] + "/../stand-in.py", served]}}}})
while True:
    read()
"#
        ),
    );
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let pool = WorkerPool::new(PoolSettings {
        user: None,
        exe: stand_in,
        workers: 1,
        tenant_workers: 1,
        memory_mb: 0,
        max_calls: 0,
        limits: Limits::default(),
    });
    let root = dir.path().join("scripts");
    let host = Arc::new(Host::offline());
    let effects: Arc<dyn Effects> = host;
    let scenario = pool
        .load(&root, &root.join("main.rhai"), "", effects.as_ref())
        .expect("the stand-in's load");
    let lib = root.join("lib.rhai").canonicalize().expect("lib");
    assert_eq!(scenario.imports, [lib]);
}
