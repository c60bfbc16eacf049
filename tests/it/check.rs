//! `tgscript check`: syntax errors and unknown functions, located as `file:line:col`.

use crate::util::TestDir;

#[test]
fn syntax_error_is_located_and_exits_1() {
    let t = TestDir::new();
    t.write("bad.rhai", "fn on_message(msg) {\n    let x = ;\n}\n");
    t.run(&["check", "bad.rhai"])
        .expect_code(1)
        .expect_stdout("bad.rhai:2:13: Unexpected ';'\n");
}

#[test]
fn misspelled_builtin_gets_a_suggestion() {
    let t = TestDir::new();
    t.write(
        "typo.rhai",
        "fn on_message(msg) {\n    let t = noww();\n}\n",
    );
    t.run(&["check", "typo.rhai"])
        .expect_code(1)
        .expect_stdout("typo.rhai:2:13: unknown function 'noww': did you mean 'now'?\n");
}

#[test]
fn misspelled_tg_chat_permission_gets_a_suggestion() {
    let t = TestDir::new();
    t.write(
        "spam.rhai",
        "fn on_message(msg) {\n    tg_chat_permision(msg.from.id, [0,0,0,0,0,0,0,0,0], [0,0,0,0,0,0]);\n}\n",
    );
    t.run(&["check", "spam.rhai"]).expect_code(1).expect_stdout(
        "spam.rhai:2:5: unknown function 'tg_chat_permision': did you mean 'tg_chat_permission'?\n",
    );
}

#[test]
fn misspelled_script_function_gets_a_suggestion() {
    let t = TestDir::new();
    t.write("f.rhai", "fn warn_user(id) { id }\nwarn_usr(1);\n");
    t.run(&["check", "f.rhai"])
        .expect_code(1)
        .expect_stdout("f.rhai:2:1: unknown function 'warn_usr': did you mean 'warn_user'?\n");
}

#[test]
fn valid_files_exit_0_and_print_nothing() {
    let t = TestDir::new();
    t.write(
        "scripts/a.rhai",
        "import \"perms\" as perms;\nfn on_message(msg) {\n    let f = |x| x + 1;\n    let n = f.call(1);\n    print(msg.text.len() + n);\n    helper(perms::READ_ONLY)\n}\nfn helper(flags) { flags.len() }\n",
    );
    t.write("scripts/sub/b.rhai", "let x = [3, 1, 2];\nx.sort();\nx\n");
    let run = t.run(&["check", "scripts"]);
    run.expect_code(0).expect_stdout("");
    assert_eq!(run.stderr, "", "check printed to stderr: {}", run.stderr);
}

#[test]
fn every_problem_in_every_file_is_listed() {
    let t = TestDir::new();
    t.write("d/one.rhai", "foo();\nbar();\n");
    t.write("d/two.rhai", "let = 1;\n");
    let run = t.run(&["check", "d"]);
    run.expect_code(1)
        .expect_stdout_contains("one.rhai:1:1: unknown function 'foo'")
        .expect_stdout_contains("one.rhai:2:1: unknown function 'bar'")
        .expect_stdout_contains("two.rhai:1:5: ")
        // No file defines a handler: a folder of one-off scripts, not scenarios.
        .expect_stderr_contains("3 problems in 2 files");
}

#[test]
fn json_format_lists_the_same_problems_as_one_document() {
    let t = TestDir::new();
    t.write("d/one.rhai", "foo();\nbar();\n");
    t.write("d/two.rhai", "let = 1;\n");
    let run = t.run(&["check", "d", "--format", "json"]);
    run.expect_code(1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(doc["files"], 2, "{doc}");
    let problems = doc["problems"].as_array().expect("a list");
    assert_eq!(problems.len(), 3, "{doc}");
    let first = &problems[0];
    assert!(
        first["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("one.rhai")),
        "{first}"
    );
    assert_eq!(
        (first["line"].clone(), first["column"].clone()),
        (1.into(), 1.into())
    );
    assert!(
        first["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown function 'foo'"))
    );
    // Nothing to report: an empty list, exit 0.
    t.write("ok/fine.rhai", "1 + 1\n");
    let run = t.run(&["check", "ok", "--format", "json"]);
    run.expect_code(0)
        .expect_stdout("{\"files\":1,\"problems\":[]}\n");
}

#[test]
fn missing_path_is_a_usage_error() {
    let t = TestDir::new();
    t.run(&["check", "nowhere"])
        .expect_code(2)
        .expect_stderr_contains("nowhere: no such file or folder");
}

#[test]
fn a_folder_of_one_off_scripts_is_not_checked_as_scenarios() {
    let t = TestDir::new();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    t.run(&["check", examples]).expect_code(0).expect_stdout("");
    // The same top level in a folder whose files define handlers is a scenario's problem.
    t.write("s/a.rhai", "let x = 5;\nfn on_message(msg) { }\n");
    t.write("s/b.rhai", "let y = 6;\n");
    t.run(&["check", "s"])
        .expect_code(1)
        .expect_stdout_contains("s/a.rhai:1:1: a scenario's top level may only hold")
        .expect_stdout_contains("s/b.rhai:1:1: a scenario's top level may only hold");
}
