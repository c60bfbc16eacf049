//! Hostile scripts are stopped by the sandbox with an error naming the limit they hit; the
//! process reports it (exit 1) instead of crashing or hanging. Wall time and peak memory of
//! each are measured by `benches/scripts/hostile.sh`, not asserted here.

use crate::util::TestDir;
use std::time::Duration;

/// Run `script` with `exec` and expect exit 1 with an error naming `limit`.
fn stopped_by(script: &str, limit: &str) {
    let t = TestDir::new();
    t.write("hostile.rhai", script);
    t.run(&["exec", "hostile.rhai"])
        .expect_code(1)
        .expect_stderr_contains("hostile.rhai:")
        .expect_stderr_contains(&format!("[limits] {limit}"));
}

#[test]
fn infinite_loop() {
    stopped_by("loop {}", "max_operations");
}

#[test]
fn infinite_loop_hits_the_timeout_when_operations_are_plenty() {
    let t = TestDir::new();
    t.write("hostile.rhai", "loop {}");
    t.run_with_env(
        &["exec", "hostile.rhai"],
        &[
            ("TGSCRIPT_LIMITS_MAX_OPERATIONS", "0"),
            ("TGSCRIPT_LIMITS_TIMEOUT_MS", "300"),
        ],
    )
    .expect_code(1)
    .expect_stderr_contains("time limit exceeded: the call ran longer than 300 ms");
}

#[test]
fn unbounded_recursion() {
    stopped_by("fn f(x) { f(x + 1) }\nf(0)", "max_call_levels");
}

#[test]
fn doubling_a_string() {
    stopped_by("let s = \"x\";\nloop { s += s; }", "max_string_size");
}

#[test]
fn growing_an_array() {
    stopped_by("let a = [];\nloop { a.push(1); }", "max_array_size");
}

#[test]
fn growing_a_map_with_new_keys() {
    stopped_by(
        "let m = #{};\nlet i = 0;\nloop { m[\"k\" + i] = i; i += 1; }",
        "max_map_size",
    );
}

#[test]
fn growing_a_nested_map_inside_a_function() {
    stopped_by(
        "fn grow() {\n  let outer = #{inner: #{}};\n  let i = 0;\n  loop { outer.inner[\"k\" + i] = i; i += 1; }\n}\ngrow()",
        "max_map_size",
    );
}

#[test]
fn long_map_keys_count_toward_the_string_limit() {
    // 40 keys of 1,000,000 bytes each: every key is under max_string_size (1 MiB), all of
    // them together are 40 MB (the size of the answers the red team made the gateway hold).
    stopped_by(
        "let k = \"\";\nk.pad(1000000, \"x\");\nlet m = #{};\nfor i in 0..40 { m[k + i] = i; }\nm",
        "max_string_size",
    );
    // In maps held by an array.
    stopped_by(
        "let k = \"\";\nk.pad(1000000, \"x\");\nlet a = [];\nfor i in 0..40 { let m = #{}; m[k + i] = i; a.push(m); }\na",
        "max_string_size",
    );
    // Two keys, checked in the value a script ends with.
    stopped_by(
        "let k = \"\";\nk.pad(600000, \"x\");\nlet m = #{};\nm[k + 1] = 1;\nm[k + 2] = 2;\nm",
        "max_string_size",
    );
}

#[test]
fn map_limit_is_configurable() {
    let t = TestDir::new();
    t.write(
        "maps.rhai",
        "let m = #{};\nfor i in 0..50 { m[\"k\" + i] = i; }\nm.len()",
    );
    t.run_with_env(
        &["exec", "maps.rhai"],
        &[("TGSCRIPT_LIMITS_MAX_MAP_SIZE", "100")],
    )
    .expect_code(0)
    .expect_stdout("50\n");
    t.run_with_env(
        &["exec", "maps.rhai"],
        &[("TGSCRIPT_LIMITS_MAX_MAP_SIZE", "20")],
    )
    .expect_code(1)
    .expect_stderr_contains("map size limit exceeded: a map grew past 20 entries");
}

#[test]
fn long_sleep_is_refused_at_once() {
    stopped_by("sleep(1000)", "timeout_ms");
}

#[test]
fn short_sleep_within_the_budget_works() {
    let t = TestDir::new();
    t.write("nap.rhai", "sleep(0.01);\nsleep(0);\n\"rested\"");
    t.run(&["exec", "nap.rhai"])
        .expect_code(0)
        .expect_stdout("rested\n");
}

#[test]
fn eval_is_disabled() {
    let t = TestDir::new();
    t.write("hostile.rhai", "eval(\"1\")");
    t.run(&["exec", "hostile.rhai"])
        .expect_code(1)
        .expect_stderr_contains("hostile.rhai:1:1: eval is disabled");
}

/// Run `script` with 300 ms and no operation limit: it must stop on the time limit, without
/// getting to print `finished`.
fn stopped_in_time(script: &str, finished: &str) {
    let t = TestDir::new();
    t.write("hostile.rhai", script);
    let run = t.run_with_env(
        &["exec", "hostile.rhai"],
        &[
            ("TGSCRIPT_LIMITS_MAX_OPERATIONS", "0"),
            ("TGSCRIPT_LIMITS_TIMEOUT_MS", "300"),
        ],
    );
    run.expect_code(1)
        .expect_stderr_contains("time limit exceeded: the call ran longer than 300 ms");
    assert!(!run.stdout.contains(finished), "{}", run.stdout);
}

#[test]
fn a_comparer_out_of_time_stops_the_sort_instead_of_being_swallowed() {
    stopped_in_time(
        "let a = [];\nfor i in 0..200 { a.push(i); }\n\
         a.sort(|x, y| {\n    let b = [];\n    for j in 0..200 { b.push(j); }\n    b.sort(|p, q| { loop {} });\n    0\n});\n\
         \"the sort finished\"",
        "the sort finished",
    );
}

#[test]
fn a_comparer_out_of_time_stops_order_too() {
    stopped_in_time(
        "let a = [];\nfor i in 0..200 { a.push(i); }\nlet b = a;\n\
         let c = a.order(|x, y| { b.order(|p, q| { loop {} }); x - y });\n\
         \"the order finished\"",
        "the order finished",
    );
}

/// Run `script` with `exec` under `env`, expecting exit 1 with `error`, and within `most` of
/// CPU time (the process's own, measured by `wait4`).
fn stopped_within_cpu(script: &str, env: &[(&str, &str)], error: &str, most: Duration) {
    let t = TestDir::new();
    t.write("hostile.rhai", script);
    let (run, cpu) = t.run_measuring_cpu(&["exec", "hostile.rhai"], env);
    run.expect_code(1).expect_stderr_contains(error);
    assert!(
        cpu < most,
        "the script burnt {cpu:?} of CPU before it was stopped (at most {most:?})"
    );
}

/// Three levels of callbacks, each over 400 items: tens of seconds of work if nothing stops
/// it. Each level works on its own copy (`let b = s`): the array being sorted is locked.
const NESTED: &[(&str, &str)] = &[
    (
        "sort",
        "let b = s; b.sort(|p, q| { let c = s; c.sort(|m, n| m - n); p - q }); x - y",
    ),
    (
        "map",
        "let b = s; b.map(|y| { let c = s; c.map(|z| z).len() }).len()",
    ),
    (
        "reduce",
        "let b = s; b.reduce(|t, y| { let c = s; c.reduce(|u, z| u + z, 0) }, 0)",
    ),
];

/// The script running `body` as the callback of the outer level of `name`.
fn nested(name: &str, body: &str) -> String {
    let outer = match name {
        "sort" => format!("a.sort(|x, y| {{ {body} }});"),
        "map" => format!("a.map(|x| {{ {body} }});"),
        _ => format!("a.reduce(|acc, x| {{ {body} }}, 0);"),
    };
    format!("let a = [];\nfor i in 0..400 {{ a.push(i); }}\nlet s = a;\n{outer}\n\"finished\"")
}

#[test]
fn nested_callbacks_stop_at_the_time_limit() {
    // Rhai runs a callback called from a native function on a copy of its operation count:
    // the comparers of sorts inside comparers never brought it to the deadline's check (a
    // nested sort burnt 50 s under a 1 s limit). The CPU time bounds it at 5 × the limit.
    for (name, body) in NESTED {
        stopped_within_cpu(
            &nested(name, body),
            &[
                ("TGSCRIPT_LIMITS_MAX_OPERATIONS", "0"),
                ("TGSCRIPT_LIMITS_TIMEOUT_MS", "1000"),
            ],
            "time limit exceeded: the call ran longer than 1000 ms",
            Duration::from_secs(5),
        );
    }
}

#[test]
fn operations_of_nested_callbacks_count_against_max_operations() {
    // The operations callbacks make on Rhai's copies of its count were never added up: the
    // same nested sort ran to its end past any max_operations. 30 s of time only as a backstop.
    for (name, body) in NESTED {
        stopped_within_cpu(
            &nested(name, body),
            &[
                ("TGSCRIPT_LIMITS_MAX_OPERATIONS", "1000000"),
                ("TGSCRIPT_LIMITS_TIMEOUT_MS", "30000"),
            ],
            "operation limit exceeded: the script ran more than 1000000 operations",
            Duration::from_secs(5),
        );
    }
}

#[test]
fn an_error_in_a_dedup_or_sort_comparer_is_raised() {
    let t = TestDir::new();
    t.write(
        "dedup.rhai",
        "let errors = [];\n\
         try { [1, 1, 2].dedup(|a, b| throw \"boom\"); } catch (e) { errors.push(e); }\n\
         try { [2, 1].sort(|a, b| throw \"bang\"); } catch (e) { errors.push(e); }\n\
         let same = [1, 1, 2, 3, 3, 1];\nsame.dedup();\n\
         let sorted = [3, 1, 2];\nsorted.sort(|a, b| a - b);\n\
         [errors, same, sorted]",
    );
    t.run(&["exec", "dedup.rhai", "--json"])
        .expect_code(0)
        .expect_stdout_contains(r#""boom""#)
        .expect_stdout_contains(r#""bang""#);
    let run = t.run(&["exec", "dedup.rhai", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        value[1],
        serde_json::json!([1, 2, 3, 1]),
        "dedup still works"
    );
    assert_eq!(value[2], serde_json::json!([1, 2, 3]), "sort still works");
}

#[test]
fn replace_that_would_outgrow_the_string_limit_is_refused_before_it_allocates() {
    stopped_by(
        "let s = \"\";\nfor i in 0..800 { s += \"a\"; }\nlet big = \"\";\nfor i in 0..2000 { big += \"b\"; }\ns.replace(\"\", big)",
        "max_string_size",
    );
}

#[test]
fn a_script_over_the_size_limit_is_refused_without_reading_it_all() {
    let t = TestDir::new();
    t.write("big.rhai", &"let x = 1;\n".repeat(20_000));
    t.run(&["exec", "big.rhai"])
        .expect_code(1)
        .expect_stderr_contains("big.rhai: cannot read the script: the script is larger than 131072 bytes (raise [limits] max_script_size");
    // A device never ends: it is read up to the limit and refused.
    t.run(&["exec", "/dev/zero"])
        .expect_code(1)
        .expect_stderr_contains("the script is larger than 131072 bytes");
    t.run(&["check", "/dev/zero"])
        .expect_code(1)
        .expect_stdout_contains("the script is larger than 131072 bytes");
}

#[test]
fn printing_more_than_max_print_size_drops_the_rest_with_one_line() {
    let t = TestDir::new();
    t.write(
        "chatty.rhai",
        "for i in 0..20000 { print(\"0123456789\"); }\n\"done\"",
    );
    let run = t.run(&["exec", "chatty.rhai"]);
    run.expect_code(0)
        .expect_stderr_contains("more than 65536 bytes printed in this call: the rest is dropped");
    assert!(
        run.stdout.len() <= 65536 + "done\n".len(),
        "{} bytes",
        run.stdout.len()
    );
    assert!(run.stdout.ends_with("done\n"), "the value is still shown");
}

#[test]
fn a_chain_of_closures_is_stopped_before_it_can_overflow_the_stack() {
    // 100,000 closures each capturing the previous one aborted the process when dropped.
    stopped_by(
        "let f = || 0;\nfor i in 0..100000 { let g = f; f = || g; }\n1",
        "max_closure_depth",
    );
    // The same chain hidden in arrays and maps between the closures.
    stopped_by(
        "let f = || 0;\nfor i in 0..100000 { let a = [#{f: f}]; f = || a; }\n1",
        "max_closure_depth",
    );
    let t = TestDir::new();
    t.write(
        "fine.rhai",
        "let f = || 0;\nfor i in 0..500 { let g = f; f = || g; }\n1",
    );
    t.run(&["exec", "fine.rhai"])
        .expect_code(0)
        .expect_stdout("1\n");
}

#[test]
fn memory_held_through_closures_or_leaked_in_cycles_is_stopped_at_max_memory_mb() {
    // Each closure captures a distinct 512 KiB string: no size limit sees them.
    stopped_by(
        r#"let s = "y"; for i in 0..19 { s += s; } let a = []; for i in 0..1000 { let t = s + i; a.push(|| t); } a.len()"#,
        "max_memory_mb",
    );
    // Reference cycles are never freed: what they hold counts until the call stops.
    stopped_by(
        r#"let s = "y"; for i in 0..16 { s += s; } loop { let a = #{s: s + 1}; let f = || a; a.f = f; }"#,
        "max_memory_mb",
    );
    let t = TestDir::new();
    t.write(
        "roomy.rhai",
        r#"let s = "y"; for i in 0..19 { s += s; } let a = []; for i in 0..20 { let t = s + i; a.push(|| t); } a.len()"#,
    );
    t.run(&["exec", "roomy.rhai"])
        .expect_code(0)
        .expect_stdout("20\n");
    t.run_with_env(
        &["exec", "roomy.rhai"],
        &[("TGSCRIPT_LIMITS_MAX_MEMORY_MB", "4")],
    )
    .expect_code(1)
    .expect_stderr_contains("[limits] max_memory_mb");
}

/// A loopback HTTP server answering `/slow` after 200 ms and `/hang` never (not within a
/// minute); its port.
fn slow_server() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let wait = match first.contains("/hang") {
                    true => Duration::from_secs(60),
                    false => Duration::from_millis(200),
                };
                std::thread::sleep(wait);
                let _ = (&stream).write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    port
}

/// `[http]` letting scripts call the loopback server, as environment variables.
const LOOPBACK_HTTP: &[(&str, &str)] = &[
    ("TGSCRIPT_HTTP_ALLOW", "127.0.0.1"),
    ("TGSCRIPT_HTTP_PLAIN_HTTP", "127.0.0.1"),
    ("TGSCRIPT_HTTP_PRIVATE", "127.0.0.1"),
];

#[test]
fn many_slow_calls_are_stopped_by_the_wall_budget_though_each_wait_is_free() {
    let port = slow_server();
    let t = TestDir::new();
    // Each wait is excluded from timeout_ms, and catching every error does not help: the wall
    // budget counts the waits and cannot be caught.
    t.write(
        "slow.rhai",
        &format!(
            "let n = 0;\nloop {{\n    try {{ http_get(\"http://127.0.0.1:{port}/slow\"); }} catch (e) {{ print(e); }}\n    n += 1;\n    print(`call ${{n}} answered`);\n}}\n"
        ),
    );
    let mut env = LOOPBACK_HTTP.to_vec();
    env.extend([
        ("TGSCRIPT_LIMITS_TIMEOUT_MS", "500"),
        ("TGSCRIPT_LIMITS_WALL_TIMEOUT_MS", "1500"),
        ("TGSCRIPT_LIMITS_MAX_API_CALLS", "0"),
    ]);
    let run = t.run_with_env(&["exec", "slow.rhai"], &env);
    run.expect_code(1)
        .expect_stderr_contains("wall time limit exceeded: the call ran longer than 1500 ms, waits on Telegram, TDLib and HTTP included")
        .expect_stderr_contains("(raise [limits] wall_timeout_ms if the script needs more)")
        .expect_stdout_contains("call 3 answered");
}

#[test]
fn a_wait_in_progress_is_cut_short_when_the_wall_budget_runs_out() {
    let port = slow_server();
    let t = TestDir::new();
    t.write(
        "hang.rhai",
        &format!(
            "try {{ http_get(\"http://127.0.0.1:{port}/hang\"); }} catch (e) {{ print(e); }}\nprint(\"went on\");\n"
        ),
    );
    let mut env = LOOPBACK_HTTP.to_vec();
    env.extend([
        ("TGSCRIPT_LIMITS_TIMEOUT_MS", "500"),
        ("TGSCRIPT_LIMITS_WALL_TIMEOUT_MS", "800"),
        ("TGSCRIPT_HTTP_TIMEOUT_MS", "60000"),
    ]);
    let run = t.run_with_env(&["exec", "hang.rhai"], &env);
    // The request was given up when the wall budget ran out (its own timeout is a minute),
    // and the script stopped there: it did not go on, and could not catch it.
    run.expect_code(1).expect_stderr_contains(
        "waits on Telegram, TDLib and HTTP included (http_get was given up waiting for its answer) (raise [limits] wall_timeout_ms",
    );
    assert!(!run.stdout.contains("went on"), "{}", run.stdout);
}

#[test]
fn a_wall_budget_smaller_than_the_timeout_is_a_config_error_naming_it() {
    use tgscript::config::Config;
    let err = Config::from_sources(
        Some((
            "tgscript.toml",
            "[limits]\ntimeout_ms = 5000\nwall_timeout_ms = 2000\n",
        )),
        Vec::new(),
    )
    .expect_err("wall under timeout");
    let text = err.to_string();
    assert!(
        text.starts_with("tgscript.toml: key `limits.wall_timeout_ms`: is 2000 ms, less than timeout_ms (5000 ms)"),
        "{text}"
    );
    let err = Config::from_sources(
        None,
        vec![("TGSCRIPT_LIMITS_WALL_TIMEOUT_MS".into(), "10".into())],
    )
    .expect_err("wall under the default timeout");
    assert!(
        err.to_string().starts_with(
            "environment variable TGSCRIPT_LIMITS_WALL_TIMEOUT_MS: key `limits.wall_timeout_ms`"
        ),
        "{err}"
    );
    // Left out, it follows a larger timeout_ms (or none), so raising that alone still loads.
    let raised = Config::from_sources(
        Some(("tgscript.toml", "[limits]\ntimeout_ms = 120000\n")),
        Vec::new(),
    )
    .expect("loads");
    assert_eq!(raised.limits.wall_timeout_ms, 120_000);
    let defaults = Config::from_sources(None, Vec::new()).expect("defaults");
    assert_eq!(defaults.limits.wall_timeout_ms, 60_000);
    let off = Config::from_sources(
        Some((
            "tgscript.toml",
            "[limits]\ntimeout_ms = 0\nwall_timeout_ms = 30000\n",
        )),
        Vec::new(),
    )
    .expect("a wall limit with no limit on the script's own time");
    assert_eq!(off.limits.wall_timeout_ms, 30_000);
}

/// A bot (worker processes, or inline) whose handler makes slow HTTP calls until its wall
/// budget stops it: the error names the key, and the bot answers other chats, and that chat
/// again, afterwards.
fn a_slow_handler_is_stopped_and_the_bot_serves_on(isolation: &str) {
    use crate::util::TOKEN;
    use tgscript::sandbox::world::ChatKind;
    use tgscript::sandbox::{BotApiServer, World};
    let (slow_chat, other_chat, user) = (-1_003_000_000_021, -1_003_000_000_022, 1001);
    let mut world = World::empty();
    world.add_user(user, "Alice");
    world.add_chat(slow_chat, ChatKind::Supergroup, "slow");
    world.add_chat(other_chat, ChatKind::Supergroup, "other");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("local Bot API server");
    let port = slow_server();
    let t = TestDir::new();
    t.write(
        "tgscript.toml",
        &format!(
            "[scripts]\nisolation = \"{isolation}\"\n[inbox]\nmax_attempts = 1\n[limits]\ntimeout_ms = 1000\nwall_timeout_ms = 2000\nmax_api_calls = 0\n[http]\nallow = [\"127.0.0.1\"]\nplain_http = [\"127.0.0.1\"]\nprivate = [\"127.0.0.1\"]\n"
        ),
    );
    t.write(
        "scripts/echo.rhai",
        &format!(
            "fn on_message(msg) {{\n    if msg.text == \"slow\" {{ loop {{ http_get(\"http://127.0.0.1:{port}/slow\"); }} }}\n    send_message(msg.chat.id, `echo: ${{msg.text}}`);\n}}\n"
        ),
    );
    let url = server.url();
    let bot = t.spawn(
        &["run", "scripts"],
        &[
            ("TELOXIDE_TOKEN", TOKEN),
            ("TELOXIDE_API_URL", url.as_str()),
        ],
    );
    server.world(|w| {
        w.user_message(slow_chat, user, "slow", None);
        w.user_message(other_chat, user, "one", None);
        w.user_message(slow_chat, user, "after", None);
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
        .wait_for(Duration::from_secs(30), |calls| texts(calls).len() >= 2)
        .map(|calls| texts(&calls))
        .unwrap_or_else(|calls| panic!("two answers expected: {:#?}", texts(&calls)));
    let done = bot.interrupt();
    assert_eq!(done.code, Some(0), "the host ran on: {}", done.all_output());
    assert!(sent.contains(&(other_chat, "echo: one".into())), "{sent:?}");
    assert!(
        sent.contains(&(slow_chat, "echo: after".into())),
        "{sent:?}"
    );
    assert!(
        !sent.contains(&(slow_chat, "echo: slow".into())),
        "{sent:?}"
    );
    let log = done.all_output();
    let line = log
        .lines()
        .find(|l| l.contains("echo.rhai") && l.contains("wall time limit exceeded"))
        .unwrap_or_else(|| panic!("the handler's failure is logged: {log}"));
    assert!(line.contains("[limits] wall_timeout_ms"), "{line}");
    assert!(line.contains("longer than 2000 ms"), "{line}");
}

#[test]
fn a_worker_held_by_slow_calls_is_freed_at_the_wall_budget() {
    a_slow_handler_is_stopped_and_the_bot_serves_on("process");
}

#[test]
fn an_inline_handler_held_by_slow_calls_is_stopped_at_the_wall_budget() {
    a_slow_handler_is_stopped_and_the_bot_serves_on("inline");
}
