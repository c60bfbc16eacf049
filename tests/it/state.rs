//! Script state in the state database: durable across runs and reloads, isolated per
//! scenario unless shared, with clear errors for what cannot be stored.

use crate::util::{TOKEN, TestDir};
use std::time::Duration;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, World};

/// One-off scripts (`exec`) share the namespace `main`.
#[test]
fn state_set_in_one_run_is_read_in_the_next() {
    let t = TestDir::new();
    t.write("count.rhai", "let n = (global_get(\"runs\") ?? 0) + 1;\nglobal_set(\"runs\", n);\nshared_set(\"seen\", #{last: n});\nn");
    t.run(&["exec", "count.rhai"])
        .expect_code(0)
        .expect_stdout("1\n");
    t.run(&["exec", "count.rhai"])
        .expect_code(0)
        .expect_stdout("2\n");
    t.write(
        "read.rhai",
        "[shared_get(\"seen\").last, global_get(\"runs\"), chat_get(-5, \"nothing\")]",
    );
    t.run(&["exec", "read.rhai", "--json"])
        .expect_code(0)
        .expect_stdout("[\n  2,\n  2,\n  null\n]\n");
    assert!(
        t.path().join(".data/state.db").is_file(),
        "the database lives in the data dir"
    );
}

#[test]
fn what_cannot_be_stored_says_why() {
    let t = TestDir::new();
    t.write(
        "bad.rhai",
        r#"
        let errors = [];
        let big = "";
        for i in 0..70000 { big += "x"; }
        try { global_set("big", big); } catch (e) { errors.push(e); }
        try { global_set("f", || 1); } catch (e) { errors.push(e); }
        try { global_set("nested", #{ok: 1, when: timestamp()}); } catch (e) { errors.push(e); }
        let chunk = "";
        for i in 0..60000 { chunk += "y"; }
        try { for i in 0..20 { global_set(`k${i}`, chunk); } } catch (e) { errors.push(e); }
        errors
        "#,
    );
    let run = t.run(&["exec", "bad.rhai", "--json"]);
    run.expect_code(0);
    let errors: Vec<String> = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(
        errors[0].contains("the value for 'big' is 70002 bytes as JSON; the limit is 65536"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1]
            .contains("f is a Fn: state holds only maps, arrays, strings, numbers and booleans"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("nested.when is a timestamp"),
        "{}",
        errors[2]
    );
    assert!(
        errors[3].contains("the limit per scope is 1048576"),
        "{}",
        errors[3]
    );
}

/// A scenario pair on a local server: each counts messages per member in its own namespace.
const COUNTER: &str = "fn on_message(msg) {\n    let n = (member_get(\"n\") ?? 0) + 1;\n    member_set(\"n\", n);\n    send_message(msg.chat.id, `NAME ${n}`);\n}\n";

#[test]
fn state_survives_restarts_and_reloads_and_scenarios_are_isolated() {
    let mut world = World::new();
    world.add_user(1001, "Alice");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("server");
    let t = TestDir::new();
    t.write("scripts/a.rhai", &COUNTER.replace("NAME", "a"));
    t.write("scripts/b.rhai", &COUNTER.replace("NAME", "b"));
    let url = server.url();
    let env = [
        ("TELOXIDE_TOKEN", TOKEN),
        ("TELOXIDE_API_URL", url.as_str()),
    ];
    let texts = |n: usize| -> Vec<String> {
        server
            .wait_for(Duration::from_secs(20), |calls| {
                calls.iter().filter(|c| c.method == "sendMessage").count() >= n
            })
            .expect("replies")
            .iter()
            .filter(|c| c.method == "sendMessage")
            .filter_map(|c| c.params["text"].as_str().map(str::to_string))
            .collect()
    };

    let bot = t.spawn(&["run", "scripts"], &env);
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, 1001, "one", None));
    assert_eq!(
        texts(2),
        ["a 1", "b 1"],
        "each scenario has its own counter"
    );
    // A reload keeps the state.
    t.write("scripts/a.rhai", &COUNTER.replace("NAME", "A"));
    bot.wait_stderr("reloaded scripts/a.rhai", 1, Duration::from_secs(20));
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, 1001, "two", None));
    assert_eq!(texts(4)[2..], ["A 2", "b 2"]);
    bot.interrupt();

    // So does a restart.
    let bot = t.spawn(&["run", "scripts"], &env);
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, 1001, "three", None));
    assert_eq!(texts(6)[4..], ["A 3", "b 3"]);
    bot.interrupt();
}

#[test]
fn a_value_nested_too_deep_is_refused_instead_of_reading_back_as_unit() {
    let t = TestDir::new();
    t.write(
        "deep.rhai",
        r#"
        let v = 1;
        for i in 0..200 { v = [v]; }
        let error = "";
        try { global_set("deep", v); } catch (e) { error = e; }
        let shallow = 1;
        for i in 0..10 { shallow = [shallow]; }
        global_set("shallow", shallow);
        [error, global_get("deep"), global_get("shallow") == shallow]
        "#,
    );
    let run = t.run(&["exec", "deep.rhai", "--json"]);
    run.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(
        value[0]
            .as_str()
            .is_some_and(|e| e.contains("is nested more than 64 maps or arrays deep")),
        "{value}"
    );
    assert_eq!(value[1], serde_json::Value::Null, "nothing was stored");
    assert_eq!(
        value[2],
        serde_json::json!(true),
        "a shallow value round-trips"
    );
}
