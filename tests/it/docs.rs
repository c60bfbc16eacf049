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

#[test]
fn docs_include_the_handlers_with_real_updates_and_the_stdlib_modules() {
    let t = TestDir::new();
    let run = t.run(&["docs", "--format", "json"]);
    run.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let handlers = doc["handlers"].as_array().expect("handlers");
    let by_name = |name: &str| {
        handlers
            .iter()
            .find(|h| h["name"] == name)
            .unwrap_or_else(|| panic!("{name} documented"))
            .clone()
    };
    // Every handler an update reaches shows one (on_load and on_account_update get none).
    for handler in handlers {
        let bare = ["on_load", "on_account_update"]
            .contains(&handler["name"].as_str().unwrap_or_default());
        assert_eq!(handler["example"].is_null(), bare, "{handler}");
    }
    assert_eq!(
        by_name("on_pre_checkout_query")["example"]["currency"],
        "XTR"
    );
    assert!(
        by_name("on_successful_payment")["example"]["successful_payment"]["invoice_payload"]
            .is_string()
    );
    assert_eq!(by_name("on_edited_message")["example"]["text"], "hello");
    assert_eq!(
        by_name("on_command")["params"],
        serde_json::json!(["cmd", "args", "msg"])
    );
    let message = by_name("on_message")["example"].clone();
    assert_eq!(message["chat"]["type"], "supergroup", "{message}");
    assert!(
        message["date"].as_i64().is_some_and(|d| d > 1_700_000_000),
        "{message}"
    );
    assert_eq!(by_name("on_callback_query")["example"]["data"], "yes");
    assert_eq!(
        by_name("on_chat_member")["example"]["new_chat_member"]["status"],
        "member"
    );
    assert!(
        by_name("on_update")["example"]
            .get("edited_message")
            .is_some()
    );
    let stdlib = doc["stdlib"].as_array().expect("stdlib");
    let perms = stdlib
        .iter()
        .find(|m| m["module"] == "perms")
        .expect("perms");
    assert_eq!(
        perms["constants"]["READ_ONLY"],
        serde_json::json!([0, 0, 0, 0, 0, 0, 0, 0, 0])
    );
    let time = stdlib.iter().find(|m| m["module"] == "time").expect("time");
    let parse = &time["functions"][0];
    assert_eq!(parse["name"], "parse_duration");
    assert!(
        parse["doc"]
            .as_str()
            .is_some_and(|d| d.contains("10m") && !d.contains("///")),
        "{parse}"
    );
    let markdown = t.run(&["docs"]);
    markdown
        .expect_code(0)
        .expect_stdout_contains("## `fn on_command(cmd, args, msg)`")
        .expect_stdout_contains("- `perms::READ_ONLY` = `[0,0,0,0,0,0,0,0,0]`")
        .expect_stdout_contains("- `time::parse_duration(text)`: Seconds in a duration");
}

/// Whether `line` of a definition file is in the analyzer's format: a comment, a `module`
/// header or block, a `const`, or one `fn`/`op` signature (`fn get name(…) -> T;`).
fn well_formed(line: &str) -> bool {
    let line = line.trim();
    let signature = || {
        let Some(rest) = ["fn ", "op "].iter().find_map(|k| line.strip_prefix(k)) else {
            return false;
        };
        let rest = rest
            .strip_prefix("get ")
            .or_else(|| rest.strip_prefix("set "))
            .unwrap_or(rest);
        let Some((name, after)) = rest.split_once('(') else {
            return false;
        };
        let Some((_, tail)) = after.rsplit_once(')') else {
            return false;
        };
        let returns = tail.strip_prefix(" -> ").map(|t| t.trim_end_matches(';'));
        !name.is_empty()
            && !name.contains(' ')
            && line.ends_with(';')
            && (tail == ";" || returns.is_some_and(|t| !t.trim().is_empty()))
    };
    line.is_empty()
        || line.starts_with("//")
        || line == "}"
        || (line.starts_with("module ") && (line.ends_with(';') || line.ends_with(" {")))
        || (line.starts_with("const ") && line.contains(": ") && line.ends_with(';'))
        || signature()
}

#[test]
fn definitions_are_well_formed_and_name_every_builtin_and_stdlib_module() {
    let t = TestDir::new();
    let run = t.run(&["definitions", "defs"]);
    run.expect_code(0);
    let mut text = String::new();
    let mut files = std::collections::BTreeMap::new();
    for file in run.stdout.lines() {
        let content = std::fs::read_to_string(t.path().join(file)).expect("a written file");
        for (n, line) in content.lines().enumerate() {
            assert!(well_formed(line), "{file}:{}: {line:?}", n + 1);
        }
        text.push_str(&content);
        files.insert(file.trim_start_matches("defs/").to_string(), content);
    }
    let docs = t.run(&["docs", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&docs.stdout).expect("docs JSON");
    let names: Vec<&str> = json["builtins"]
        .as_array()
        .expect("builtins")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert!(names.len() > 80, "{names:?}");
    for name in names {
        assert!(
            text.contains(&format!("fn {name}(")),
            "{name} has no definition"
        );
    }
    for (module, function) in [("time", "parse_duration"), ("perms", "messages")] {
        let file = &files[&format!("{module}.d.rhai")];
        assert!(file.starts_with(&format!("module {module};")), "{file}");
        assert!(
            file.contains(&format!("fn {function}(")),
            "{module}::{function}"
        );
    }
    assert!(text.contains("fn get name(asset: Asset) -> String;"));
    // Doc comments come along for hover.
    assert!(text.contains("/// GET a URL and answer"));
    // A folder that cannot be made is an error that says which.
    t.write("file", "x");
    t.run(&["definitions", "file/defs"])
        .expect_code(1)
        .expect_stderr_contains("cannot make file/defs");
}

/// The gateway's references committed under `docs/src/reference/` are what `docs --gateway`
/// prints now (regenerate: `tgscript docs --gateway [--format openapi|asyncapi] > FILE`).
#[test]
fn the_committed_gateway_references_are_fresh() {
    let t = TestDir::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/reference");
    for (format, file) in [
        ("markdown", "gateway.md"),
        ("openapi", "openapi.json"),
        ("asyncapi", "asyncapi.json"),
    ] {
        let run = t.run(&["docs", "--gateway", "--format", format]);
        run.expect_code(0);
        let committed = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        assert!(
            committed == run.stdout,
            "docs/src/reference/{file} is stale: regenerate it with `tgscript docs --gateway --format {format} > docs/src/reference/{file}`"
        );
    }
}

/// The OpenAPI and AsyncAPI documents are of their versions, and describe every action the
/// gateway accepts with a typed request and result.
#[test]
fn openapi_and_asyncapi_describe_every_action_with_typed_results() {
    let t = TestDir::new();
    let json = |format: &str| -> serde_json::Value {
        let run = t.run(&["docs", "--gateway", "--format", format]);
        run.expect_code(0);
        serde_json::from_str(&run.stdout).expect("JSON")
    };
    let (openapi, asyncapi, schema) = (json("openapi"), json("asyncapi"), json("schema"));
    assert_eq!(openapi["openapi"], "3.1.0");
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
    assert_eq!(asyncapi["channels"]["gateway"]["address"], "/v1/ws");
    let post = &openapi["paths"]["/v1/command"]["post"];
    let requests = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
        .as_array()
        .map_or(0, Vec::len);
    let names: Vec<&str> = tgscript::gateway::actions::all()
        .map(|a| a.name())
        .collect();
    assert_eq!(requests, names.len());
    for name in &names {
        let result = &schema["$defs"][format!("{name}.result")];
        assert!(
            result.get("type").is_some(),
            "{name}: an untyped result {result}"
        );
        let request = &openapi["components"]["schemas"][format!("{name}.request")];
        assert_eq!(request["properties"]["action"]["const"], *name);
        assert!(asyncapi["operations"].get(*name).is_some(), "{name}");
    }
    let sessions = &schema["$defs"]["get_active_sessions.result"];
    assert_eq!(
        sessions["properties"]["sessions"]["type"], "array",
        "{sessions}"
    );
    assert_eq!(
        schema["$defs"]["terminate_session.request"]["properties"]["session_id"]["type"],
        "integer"
    );
    let refused = t.run(&["docs", "--format", "openapi"]);
    refused
        .expect_code(2)
        .expect_stderr_contains("add --gateway");
}

/// A committed reference must be what `tgscript docs FLAG` prints now.
fn assert_fresh(flag: &str, committed: &str) {
    let t = TestDir::new();
    let run = t.run(&["docs", flag]);
    run.expect_code(0);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(committed);
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        run.stdout.len() > 1000,
        "docs {flag} printed too little:\n{}",
        run.stdout
    );
    assert!(
        on_disk == run.stdout,
        "{committed} is stale: refresh it with `cargo run --release -- docs {flag} > {committed}`"
    );
}

#[test]
fn the_configuration_reference_is_fresh() {
    assert_fresh("--config-keys", "docs/src/reference/configuration.md");
}

#[test]
fn the_cli_reference_is_fresh() {
    assert_fresh("--cli", "docs/src/reference/cli.md");
}

#[test]
fn docs_finds_handlers_and_stdlib_names() {
    let t = TestDir::new();
    t.run(&["docs", "on_message"])
        .expect_code(0)
        .expect_stdout_contains("## `fn on_message(msg)`");
    let run = t.run(&["docs", "time::parse_duration"]);
    run.expect_code(0)
        .expect_stdout_contains("`time::parse_duration(text)`");
    assert!(!run.stdout.contains("time::DAY"), "{}", run.stdout);
    t.run(&["docs", "time"])
        .expect_code(0)
        .expect_stdout_contains("`time::DAY`");
    let json = t.run(&["docs", "on_command", "-o", "json"]);
    json.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(doc["handlers"][0]["name"], "on_command", "{doc}");
    t.run(&["docs", "on_mesage"])
        .expect_code(2)
        .expect_stderr_contains("did you mean on_message?");
}
