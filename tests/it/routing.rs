//! Routing between scenarios, through the sandbox: a claimed update (`stop()`) is not seen by
//! later scenarios, `CALLBACKS` give each scenario only its own button presses, a command to
//! another bot is no command, quoted arguments come as one; and a scenario's `const STATE`
//! keeps its state across a rename, while a rename without it is warned of.

use crate::util::{TOKEN, TestDir};
use std::time::Duration;
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, World};

/// Lines of `out` that contain `needle`.
fn lines<'a>(out: &'a str, needle: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn scenarios_get_only_what_is_theirs() {
    let t = TestDir::new();
    t.write(
        "scripts/a_filter.rhai",
        r#"
fn on_message(msg) {
    if msg.text.contains("bad") {
        tg_delete_message(msg.message_id);
        stop();
    }
}
"#,
    );
    t.write(
        "scripts/b_echo.rhai",
        r#"
fn on_message(msg) { reply(`echo ${msg.text}`); }
fn on_command(cmd, args, msg) {
    if cmd == "buttons" {
        reply("pick", #{reply_markup: #{inline_keyboard: [[
            #{text: "g", callback_data: "gate:1"},
            #{text: "o", callback_data: "other:1"},
            #{text: "f", callback_data: "free:1"}
        ]]}});
    } else {
        reply(`command ${cmd} ${args.len()} ${args}`);
    }
}
"#,
    );
    t.write(
        "scripts/c_gate.rhai",
        r#"
const CALLBACKS = ["gate:"];
fn on_callback_query(q) { answer_callback_query(`gate got ${q.data}`); }
"#,
    );
    t.write(
        "scripts/d_other.rhai",
        r#"
const CALLBACKS = ["other:"];
fn on_callback_query(q) { answer_callback_query(`other got ${q.data}`); }
"#,
    );
    t.write(
        "scripts/e_plain.rhai",
        r#"
fn on_callback_query(q) { answer_callback_query(`plain got ${q.data}`); }
"#,
    );
    let done = t.run_chat(concat!(
        "this is bad\n",
        "this is fine\n",
        "/buttons\n",
        "/press gate:1\n",
        "/press other:1\n",
        "/press free:1\n",
        "/warn@other_bot 3\n",
        "/warn@Sandbox_Bot 3\n",
        "/warn \"two words\" x\n",
    ));
    let out = done.all_output();
    assert_eq!(lines(&out, "→ deleteMessage").len(), 1, "{out}");
    assert!(
        !out.contains("echo this is bad"),
        "claimed by the filter:\n{out}"
    );
    assert!(out.contains("bot: echo this is fine"), "{out}");
    let answers = lines(&out, "→ answerCallbackQuery");
    assert_eq!(answers.len(), 3, "one answer per press:\n{out}");
    assert!(answers[0].contains("gate got gate:1"), "{}", answers[0]);
    assert!(answers[1].contains("other got other:1"), "{}", answers[1]);
    assert!(answers[2].contains("plain got free:1"), "{}", answers[2]);
    assert!(
        out.contains("bot: echo /warn@other_bot 3"),
        "another bot's command is an ordinary message:\n{out}"
    );
    assert!(out.contains(r#"bot: command warn 1 ["3"]"#), "{out}");
    assert!(
        out.contains(r#"bot: command warn 2 ["two words", "x"]"#),
        "{out}"
    );
}

const COUNTER: &str = r#"
fn on_message(msg) {
    let n = (chat_get("n") ?? 0) + 1;
    chat_set("n", n);
    reply(`n=${n}`);
}
"#;

#[test]
fn a_state_name_keeps_the_state_across_a_rename_and_a_rename_without_one_is_warned_of() {
    const CHAT: i64 = -1_003_000_000_002;
    let mut world = World::empty();
    world.add_user(1001, "Alice");
    world.add_chat(CHAT, ChatKind::Supergroup, "state");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("server");
    let vars = [
        ("TELOXIDE_TOKEN", TOKEN.to_string()),
        ("TELOXIDE_API_URL", server.url()),
    ];
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let t = TestDir::new();
    let named = format!("const STATE = \"counter\";\n{COUNTER}");
    let round = |text: &str, files: &[(&str, &str)]| {
        let _ = std::fs::remove_dir_all(t.path().join("scripts"));
        for (name, source) in files {
            t.write(&format!("scripts/{name}"), source);
        }
        let before = server.calls_of("sendMessage").len();
        server.world(|w| w.user_message(CHAT, 1001, text, None));
        let bot = t.spawn(&["run", "scripts"], &env);
        let answered = server.wait_for(Duration::from_secs(60), |calls| {
            let sent = calls
                .iter()
                .filter(|c| c.method.eq_ignore_ascii_case("sendMessage"));
            sent.count() >= before + files.len()
        });
        let last = bot.interrupt();
        assert!(answered.is_ok(), "{}", last.stderr);
        let replies: Vec<String> = server.calls_of("sendMessage")[before..]
            .iter()
            .map(|c| c.params["text"].as_str().unwrap_or_default().to_string())
            .collect();
        (replies, last.stderr)
    };
    let (first, _) = round("one", &[("counter.rhai", &named), ("plain.rhai", COUNTER)]);
    assert_eq!(first, ["n=1", "n=1"]);
    let (second, logs) = round(
        "two",
        &[("renamed.rhai", &named), ("plain_renamed.rhai", COUNTER)],
    );
    assert_eq!(
        second,
        ["n=1", "n=2"],
        "plain_renamed starts again, renamed (STATE) goes on\n{logs}"
    );
    assert!(
        logs.contains("state of 'plain' (1 key(s)) belongs to no scenario now")
            && logs.contains("const STATE = \"plain\";"),
        "{logs}"
    );
    assert!(!logs.contains("state of 'counter'"), "{logs}");
}
