//! `tgscript docs`: every builtin, from the registration itself, documented with an example.

use crate::util::TestDir;
use tgscript::builtins::offline_engine;
use tgscript::engine::Limits;

#[test]
fn every_registered_builtin_has_doc_and_example() {
    let engine = offline_engine(Limits::default(), ".");
    let builtins = tgscript::docs::builtins(&engine);
    assert!(
        builtins.iter().any(|b| b.name == "sleep"),
        "sleep is registered"
    );
    for b in &builtins {
        assert!(!b.doc.is_empty(), "{} has no doc comment", b.signature);
        assert!(
            b.doc.contains("```rhai"),
            "{} has no ```rhai example",
            b.signature
        );
        assert!(
            b.params.iter().all(|p| p.name != "_"),
            "{} has an unnamed parameter",
            b.signature
        );
    }
}

#[test]
fn json_lists_every_registered_builtin() {
    let engine = offline_engine(Limits::default(), ".");
    let registered: Vec<String> = tgscript::docs::builtins(&engine)
        .into_iter()
        .map(|b| b.signature)
        .collect();
    let t = TestDir::new();
    let run = t.run(&["docs", "--format", "json"]);
    run.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("docs is JSON");
    let listed: Vec<String> = json["builtins"]
        .as_array()
        .expect("builtins array")
        .iter()
        .map(|b| b["signature"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(listed, registered);
    let sleep = json["builtins"]
        .as_array()
        .and_then(|all| all.iter().find(|b| b["name"] == "sleep"))
        .expect("sleep listed");
    assert_eq!(sleep["params"][0]["name"], "seconds");
}

#[test]
fn markdown_has_a_section_per_builtin() {
    let t = TestDir::new();
    let run = t.run(&["docs"]);
    run.expect_code(0)
        .expect_stdout_contains("## `sleep`\n")
        .expect_stdout_contains("- `sleep(seconds: i64)`")
        .expect_stdout_contains("```rhai\n");
}

#[test]
fn docs_name_prints_one_builtin_and_an_unknown_name_gets_a_suggestion() {
    let t = TestDir::new();
    let run = t.run(&["docs", "tg_chat_permission"]);
    run.expect_code(0)
        .expect_stdout_contains("tg_chat_permission(")
        .expect_stdout_contains("```rhai");
    assert!(!run.stdout.contains("send_message("), "one builtin only");
    let json = t.run(&["docs", "sleep", "--format", "json"]);
    json.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let names: Vec<&str> = doc["builtins"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| *n == "sleep"),
        "{names:?}"
    );
    t.run(&["docs", "tg_chat_permision"])
        .expect_code(2)
        .expect_stderr_contains(
            "no builtin named tg_chat_permision: did you mean tg_chat_permission?",
        );
}
