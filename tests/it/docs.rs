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
