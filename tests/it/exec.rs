//! `tgscript exec`: runs a script once and prints its value.

use crate::util::TestDir;

#[test]
fn prints_the_value_and_the_printed_lines() {
    let t = TestDir::new();
    t.write("hello.rhai", "print(\"hello\");\nlet x = 6;\nx * 7");
    t.run(&["exec", "hello.rhai"])
        .expect_code(0)
        .expect_stdout("hello\n42\n");
}

#[test]
fn json_output_and_typed_vars() {
    let t = TestDir::new();
    t.write(
        "vars.rhai",
        "#{doubled: n * 2, name: name, ids: ids, ok: !flag}",
    );
    let run = t.run(&[
        "exec",
        "vars.rhai",
        "--json",
        "--var",
        "n=21",
        "--var",
        "name=bob",
        "--var",
        "ids=[1,2]",
        "--var",
        "flag=true",
    ]);
    run.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(
        value,
        serde_json::json!({"doubled": 42, "name": "bob", "ids": [1, 2], "ok": false})
    );
}

#[test]
fn json_output_stays_json_when_the_script_prints() {
    let t = TestDir::new();
    t.write(
        "p.rhai",
        "print(\"working\"); debug(\"details\"); #{done: true}",
    );
    let run = t.run(&["exec", "p.rhai", "--json"]);
    run.expect_code(0);
    let value: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("stdout is the JSON alone");
    assert_eq!(value, serde_json::json!({"done": true}));
    assert!(
        run.stderr.contains("working"),
        "prints go to stderr: {}",
        run.stderr
    );
}

#[test]
fn unit_result_prints_nothing() {
    let t = TestDir::new();
    t.write("unit.rhai", "let x = 1;");
    t.run(&["exec", "unit.rhai"])
        .expect_code(0)
        .expect_stdout("");
}

#[test]
fn runtime_error_is_located_and_exits_1() {
    let t = TestDir::new();
    t.write(
        "boom.rhai",
        "let a = 1;\nfn f() { throw \"bad thing\"; }\nf()",
    );
    t.run(&["exec", "boom.rhai"])
        .expect_code(1)
        .expect_stderr_contains("boom.rhai:2:10: bad thing (in function 'f')");
}

#[test]
fn bad_var_is_a_usage_error() {
    let t = TestDir::new();
    t.write("a.rhai", "1");
    t.run(&["exec", "a.rhai", "--var", "novalue"])
        .expect_code(2)
        .expect_stderr_contains("expected NAME=VALUE");
}

#[test]
fn missing_file_says_so() {
    let t = TestDir::new();
    t.run(&["exec", "nope.rhai"])
        .expect_code(1)
        .expect_stderr_contains("nope.rhai: cannot read the script");
}

#[test]
fn every_example_runs() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let t = TestDir::new();
    let mut ran = 0;
    for entry in std::fs::read_dir(&examples).expect("examples folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rhai") {
            t.run(&["exec", path.to_str().expect("utf-8 path")])
                .expect_code(0);
            ran += 1;
        }
    }
    assert!(ran > 0, "no examples found in {}", examples.display());
}

#[test]
fn a_scenario_file_is_refused_with_a_hint_and_the_sandbox_account_answers() {
    let t = TestDir::new();
    t.write(
        "s/greet.rhai",
        "const LIMIT = 3;\nfn on_message(msg) { reply(\"hi\") }\nfn greeting(name) { `hi ${name}` }\n",
    );
    t.run(&["exec", "s/greet.rhai"])
        .expect_code(2)
        .expect_stderr_contains("s/greet.rhai is a scenario (on_message)")
        .expect_stderr_contains("tgscript run s");
    // The hint's other way works: a script that imports it and calls its function.
    t.write("s/try.rhai", "import \"greet\" as g;\ng::greeting(\"ann\")");
    t.run(&["exec", "s/try.rhai"])
        .expect_code(0)
        .expect_stdout("hi ann\n");
    // No [[account]]: account builtins reach the sandbox account, as in the REPL.
    t.write("sessions.rhai", "get_active_sessions().sessions.len()");
    t.run(&["exec", "sessions.rhai"])
        .expect_code(0)
        .expect_stdout("3\n");
}
