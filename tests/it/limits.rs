//! Hostile scripts are stopped by the sandbox with an error naming the limit they hit; the
//! process reports it (exit 1) instead of crashing or hanging. Wall time and peak memory of
//! each are measured by `bench/hostile.sh`, not asserted here.

use crate::util::TestDir;

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
