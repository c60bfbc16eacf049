//! Business accounts through the real binary against the local Bot API server: a business
//! message answered through the connection it came through (the exact request), calls
//! refused before Telegram is asked when the connection lacks the right, is disabled, or is
//! not the bot's (looked up once when the bot never saw it), and the sandbox's lines.

use crate::bots::{start, token};
use crate::util::{Background, TOKEN, TestDir};
use serde_json::{Value, json};
use std::time::Duration;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, Recorded, World};

const WAIT: Duration = Duration::from_secs(60);
/// The business account's owner.
const ALICE: i64 = 1001;
/// A customer writing to it.
const BOB: i64 = 1002;

/// Answers each business message through its connection; marks "read me" read first,
/// deletes "delete me", names the owner on "who".
const DESK: &str = r#"
fn on_business_connection(c) { print(`connection ${c.id} enabled ${c.is_enabled}`); }
fn on_business_message(msg) {
    if msg.text == "read me" { tg_read_business_message(); }
    if msg.text == "delete me" { tg_delete_business_messages(); return; }
    if msg.text == "who" {
        let c = tg_get_business_connection();
        reply(`the owner is ${c.user.first_name}`);
        return;
    }
    reply(`thanks for "${msg.text}"`);
}
"#;

/// A world where alice connected the bot to her business account with `rights`.
fn world_with(rights: &[&str]) -> (World, String) {
    let mut world = World::new();
    let id = world.connect_business(ALICE, rights).expect("connected");
    (world, id)
}

/// `tgscript run scripts` (with `script`) against `server`, started and past its first
/// update (the connection, printed by `DESK`'s handler) when `connected`.
fn run(t: &TestDir, server: &BotApiServer, script: &str) -> Background {
    t.write("scripts/desk.rhai", script);
    let url = server.url();
    let bot = t.spawn(
        &["run", "scripts"],
        &[("TELOXIDE_TOKEN", TOKEN), ("TELOXIDE_API_URL", &url)],
    );
    bot.wait_stderr("connected as", 1, WAIT);
    bot
}

/// The calls of `method` once there are `n`.
fn calls(server: &BotApiServer, method: &str, n: usize) -> Vec<Recorded> {
    let seen = |calls: &[Recorded]| calls.iter().filter(|c| c.method == method).count() >= n;
    match server.wait_for(WAIT, seen) {
        Ok(_) => server.calls_of(method),
        Err(all) => panic!("fewer than {n} {method} calls: {all:?}"),
    }
}

#[test]
fn a_business_message_is_answered_through_its_connection() {
    let (world, id) = world_with(&["can_reply", "can_read_messages", "can_delete_all_messages"]);
    let server = BotApiServer::start(world, Some(TOKEN)).expect("a local Bot API server");
    let t = TestDir::new();
    let bot = run(&t, &server, DESK);
    bot.wait_stderr(&format!("connection {id} enabled true"), 1, WAIT);
    let sent: Vec<Value> = ["read me", "delete me", "who"]
        .iter()
        .map(|text| {
            let message = server.world(|w| w.business_message(ALICE, BOB, text));
            message.expect("sent")["message_id"].clone()
        })
        .collect();
    let answers = calls(&server, "sendMessage", 2);
    assert_eq!(
        answers[0].params,
        json!({"business_connection_id": id, "chat_id": BOB, "text": "thanks for \"read me\"",
               "reply_parameters": {"message_id": sent[0]}})
    );
    assert_eq!(
        answers[1].params,
        json!({"business_connection_id": id, "chat_id": BOB, "text": "the owner is Alice",
               "reply_parameters": {"message_id": sent[2]}})
    );
    let params = |method: &str| -> Vec<Value> {
        server
            .calls_of(method)
            .into_iter()
            .map(|c| c.params)
            .collect()
    };
    assert_eq!(
        params("readBusinessMessage"),
        [json!({"business_connection_id": id, "chat_id": BOB, "message_id": sent[0]})]
    );
    assert_eq!(
        params("deleteBusinessMessages"),
        [json!({"business_connection_id": id, "message_ids": [sent[1]]})]
    );
    // The script's look-up only: the update told the host of the connection.
    assert_eq!(
        params("getBusinessConnection"),
        [json!({"business_connection_id": id})]
    );
    let done = bot.terminate();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

#[test]
fn a_send_without_can_reply_is_refused_before_telegram_is_asked() {
    let (world, id) = world_with(&["can_read_messages"]);
    let server = BotApiServer::start(world, Some(TOKEN)).expect("a local Bot API server");
    let t = TestDir::new();
    let bot = run(&t, &server, DESK);
    bot.wait_stderr(&format!("connection {id} enabled true"), 1, WAIT);
    server
        .world(|w| w.business_message(ALICE, BOB, "read me"))
        .expect("sent");
    // The right it has was used; the one it lacks refused, in words naming it.
    calls(&server, "readBusinessMessage", 1);
    bot.wait_stderr("lacks the right can_reply", 1, WAIT);
    assert!(
        server.calls_of("sendMessage").is_empty(),
        "{:?}",
        server.calls()
    );
    let done = bot.terminate();
    assert!(
        done.stderr.contains("granted: can_read_messages"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_disabled_connection_is_refused() {
    let (mut world, id) = world_with(&["can_reply"]);
    world.disconnect_business(ALICE).expect("disconnected");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("a local Bot API server");
    let t = TestDir::new();
    // On the connection turned off, a last word through it: refused.
    let script = format!(
        "{DESK}\nfn on_message(msg) {{ send_message({BOB}, \"come back\", #{{business_connection_id: \"{id}\"}}); }}\n"
    );
    let bot = run(&t, &server, &script);
    bot.wait_stderr(&format!("connection {id} enabled false"), 1, WAIT);
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "bye", None));
    bot.wait_stderr("is disabled", 1, WAIT);
    assert!(
        server.calls_of("sendMessage").is_empty(),
        "{:?}",
        server.calls()
    );
    bot.terminate();
}

#[test]
fn an_unknown_connection_is_looked_up_once() {
    // Connected before tgscript ran: its update is gone.
    let (mut world, id) = world_with(&["can_reply"]);
    let past = i64::try_from(world.pending()).expect("a count") + 1;
    world.updates_from(past, 0);
    let server = BotApiServer::start(world, Some(TOKEN)).expect("a local Bot API server");
    let t = TestDir::new();
    let bot = run(&t, &server, DESK);
    for text in ["one", "two"] {
        server
            .world(|w| w.business_message(ALICE, BOB, text))
            .expect("sent");
    }
    let sent = calls(&server, "sendMessage", 2);
    assert!(
        sent.iter()
            .all(|c| c.params["business_connection_id"] == json!(id)),
        "{sent:?}"
    );
    let asked: Vec<Value> = server
        .calls_of("getBusinessConnection")
        .into_iter()
        .map(|c| c.params)
        .collect();
    assert_eq!(asked, [json!({"business_connection_id": id})]);
    bot.terminate();
}

#[test]
fn a_connection_of_another_bot_is_refused() {
    // Two bots, one store: alice connected bot a; bot b names a's connection.
    let (world_a, id) = world_with(&["can_reply"]);
    let a = BotApiServer::start(world_a, Some(&token("a"))).expect("a server for a");
    let b = BotApiServer::start(World::new(), Some(&token("b"))).expect("a server for b");
    let t = TestDir::new();
    t.write("a/desk.rhai", DESK);
    t.write(
        "b/steal.rhai",
        &format!(
            "fn on_message(msg) {{ send_message({BOB}, \"hi\", #{{business_connection_id: \"{id}\"}}); }}\n"
        ),
    );
    let mut config = String::from("[inbox]\nmax_attempts = 1\n");
    for (name, server) in [("a", &a), ("b", &b)] {
        config += &format!(
            "\n[[bot]]\nid = \"{name}\"\ntoken_env = \"TOKEN_{}\"\nscripts = \"{name}\"\nmode = \"polling\"\napi_url = \"{}\"\n",
            name.to_uppercase(),
            server.url()
        );
    }
    t.write("tgscript.toml", &config);
    let run = start(&t, &["a", "b"]);
    run.wait_stderr(&format!("connection {id} enabled true"), 1, WAIT);
    b.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "hello", None));
    run.wait_stderr("is not one of this bot's", 1, WAIT);
    // b asked its own Telegram, which knows no such connection; nothing was sent anywhere.
    assert_eq!(b.calls_of("getBusinessConnection").len(), 1);
    assert!(b.calls_of("sendMessage").is_empty(), "{:?}", b.calls());
    assert!(a.calls_of("sendMessage").is_empty(), "{:?}", a.calls());
    run.terminate();
}

#[test]
fn the_sandbox_lines_connect_write_edit_delete_react_and_boost() {
    let t = TestDir::new();
    t.write(
        "scripts/desk.rhai",
        &format!(
            "{DESK}\nfn on_edited_business_message(msg) {{ print(`edited to ${{msg.text}}`); }}\n\
             fn on_deleted_business_messages(d) {{ print(`deleted ${{d.message_ids}}`); }}\n\
             fn on_message_reaction(r) {{ print(`reaction ${{r.new_reaction[0].emoji}} on ${{r.message_id}}`); }}\n\
             fn on_chat_boost(b) {{ print(`boost from ${{b.boost.source.user.first_name}}`); }}\n"
        ),
    );
    let done = t.run_chat(concat!(
        "/business connect\n",
        "/as bob /business hello\n",
        "/as bob /business edit 1 hello again\n",
        "/as bob /business delete 1\n",
        "hi\n",
        "/react 👍\n",
        "/boost\n",
        "/business connect read_messages\n",
        "/as bob /business no reply\n",
        "/business disconnect\n",
        "/as bob /business after\n",
        "/business connect can_fly\n",
    ));
    let out = done.all_output();
    for expected in [
        "alice connects the bot to their business account (sandbox-business-1001) with can_reply, can_read_messages",
        "#1 bob → alice's business account: hello",
        r#"→ sendMessage {"business_connection_id":"sandbox-business-1001","chat_id":1002,"reply_parameters":{"message_id":1},"text":"thanks for \"hello\""}"#,
        "🤖 bot → Bob (business): thanks for \"hello\"",
        "edited to hello again",
        "deleted [1]",
        "reaction 👍 on 1",
        "boost from Alice",
        "lacks the right can_reply",
        "alice turns the bot off for their business account",
        "no business account is connected to the bot",
        "\"can_fly\" is no business right",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert_eq!(
        out.matches("→ sendMessage").count(),
        1,
        "only the message on a connection that could reply was answered:\n{out}"
    );
}
