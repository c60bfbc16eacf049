//! The update inbox, through the real binary and the local Bot API server: updates are kept
//! before they are acknowledged, survive `kill -9`, are handled once per handler and in order
//! per chat; an update that keeps failing is parked, listed and retried on request.

use crate::crash::{AUDIT, Load, Rng, USER, chat_id, sent, server};
use crate::util::{TOKEN, TestDir};
use serde_json::Value;
use std::time::Duration;
use tgscript::sandbox::world::{BOT_ID, Status};
use tgscript::sandbox::{BotApiServer, Refusal};

const WAIT: Duration = Duration::from_secs(180);

pub(crate) fn bot_env(server: &BotApiServer) -> [(&'static str, String); 2] {
    [
        ("TELOXIDE_TOKEN", TOKEN.to_string()),
        ("TELOXIDE_API_URL", server.url()),
    ]
}

pub(crate) fn refs<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn kill_9_three_times_loses_no_update_repeats_no_handler_and_keeps_chat_order() {
    kill_9_three_times(20, 1000, None);
}

/// The same with everything kept in PostgreSQL (`[store] url`) instead of SQLite.
#[test]
fn kill_9_three_times_with_the_store_in_postgres_loses_and_repeats_nothing() {
    kill_9_three_times(20, 1000, Some(crate::pg::database_url()));
}

/// The same at full speed over 100 chats: every chat has a handler in flight at once, so the
/// kills land while the group commit has records of many chats queued.
#[test]
fn kill_9_three_times_over_100_chats_at_full_speed_loses_and_repeats_nothing() {
    kill_9_three_times(100, 3000, None);
}

/// `updates` messages over `chats` chats, the bot killed three times while handling them:
/// every update handled, each handler's message sent once (twice only for a call logged as
/// without an answer), in order per chat, nothing left in the inbox. With `store_url`, the
/// store is that PostgreSQL database.
fn kill_9_three_times(chats: usize, updates: usize, store_url: Option<String>) {
    let mut rng = Rng::new();
    let t = TestDir::new();
    let load = Load::queue(&t, chats, updates, &mut rng);
    let mut vars = bot_env(&load.server).to_vec();
    vars.extend(store_url.map(|url| ("TGSCRIPT_STORE_URL", url)));
    let mut logs = String::new();
    let mut kills = Vec::new();
    for round in 0..3 {
        let bot = t.spawn(&["run", "scripts"], &refs(&vars));
        let target = load.sent() + 100 + rng.below(400) as usize;
        assert!(
            load.wait_sent(target, WAIT),
            "round {round}: never reached {target} messages\n{}",
            bot.stderr_so_far()
        );
        std::thread::sleep(Duration::from_micros(rng.below(20_000)));
        let killed = bot.kill9();
        assert_eq!(killed.code, None, "killed by the signal\n{}", killed.stderr);
        kills.push(load.sent());
        logs.push_str(&killed.stderr);
    }

    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let finished = load.wait_all_handled(WAIT);
    let last = bot.interrupt();
    logs.push_str(&last.stderr);
    assert!(
        finished,
        "not every update was handled after the restarts\n{}",
        last.stderr
    );
    assert_eq!(last.code, Some(0), "clean stop\n{}", last.stderr);
    assert!(
        logs.contains("left unfinished or queued for a retry; handling them first"),
        "a restart found the updates the kill interrupted:\n{logs}"
    );
    let (doubt, repeated) = load.assert_handled_once(&logs);
    let list = t.run_with_env(&["inbox", "list", "--json"], &refs(&vars));
    list.expect_code(0);
    assert_eq!(
        list.stdout.trim(),
        "[]",
        "nothing left unfinished or parked"
    );
    eprintln!(
        "crash test: kills after {kills:?} messages; {doubt} call(s) had no answer at a kill, {repeated} of them had reached the server and were made again"
    );
}

#[test]
fn an_update_that_keeps_failing_is_parked_listed_and_retried_on_request() {
    parked_listed_and_retried(None);
}

/// The same with the store in PostgreSQL.
#[test]
fn with_the_store_in_postgres_a_failing_update_is_parked_listed_and_retried() {
    parked_listed_and_retried(Some(crate::pg::database_url()));
}

/// A poisonous update parked after its tries, listed, retried once its scenario is fixed;
/// a second `run` on the same store refused. With `store_url`, the store is in PostgreSQL.
fn parked_listed_and_retried(store_url: Option<String>) {
    let server = server(2);
    let t = TestDir::new();
    t.write("tgscript.toml", "[inbox]\nmax_attempts = 2\n");
    t.write(
        "scripts/strict.rhai",
        "fn on_message(msg) {\n    if msg.text == \"poison\" { throw \"cannot digest poison\"; }\n    reply(`ok ${msg.text}`);\n}\n",
    );
    t.write("scripts/audit.rhai", AUDIT);
    let mut vars = bot_env(&server).to_vec();
    vars.extend(store_url.map(|url| ("TGSCRIPT_STORE_URL", url)));
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let (a, b) = (chat_id(0), chat_id(1));
    let poison = server.world(|w| {
        w.user_message(a, USER, "first", None);
        w.user_message(a, USER, "poison", None);
        let poison = w.pending() as i64;
        w.user_message(a, USER, "after", None);
        w.user_message(b, USER, "other", None);
        poison
    });
    let flowed = server.wait_for(WAIT, |calls| sent(calls).len() >= 7);
    assert!(flowed.is_ok(), "{}", bot.stderr_so_far());
    // A script error fails the same way every time: parked after one try.
    bot.wait_stderr("parked after one try", 1, WAIT);
    let texts = |chat: i64| -> Vec<String> {
        sent(&server.calls())
            .into_iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, t)| t)
            .collect()
    };
    assert_eq!(
        texts(a),
        [
            "audit first",
            "ok first",
            "audit poison",
            "audit after",
            "ok after"
        ],
        "the others flow, in order; audit.rhai handled the poison once"
    );
    assert_eq!(texts(b), ["audit other", "ok other"]);
    assert!(
        bot.stderr_so_far().contains(&format!(
            "`tgscript inbox retry --bot default {poison}` runs it again"
        )),
        "the log says how to retry\n{}",
        bot.stderr_so_far()
    );

    let table = t.run_with_env(&["inbox", "list"], &refs(&vars));
    table.expect_code(0);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("default  {poison} ")))
        .unwrap_or_else(|| panic!("no row for {poison}:\n{}", table.stdout));
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        columns[..6],
        [
            "default".to_string(),
            poison.to_string(),
            a.to_string(),
            "message".into(),
            "parked".into(),
            "1".into()
        ],
        "BOT UPDATE CHAT KIND STATUS TRIES: {row:?}"
    );
    assert!(
        row.contains("scripts/strict.rhai:2:") && row.contains("cannot digest poison"),
        "the error is last: {row:?}"
    );

    // One process per database: a second `run` is refused, and says why.
    t.run_with_env(&["run", "scripts"], &refs(&vars))
        .expect_code(2)
        .expect_stderr_contains("is in use by another `tgscript run`");
    let listed = t.run_with_env(&["inbox", "list", "--json"], &refs(&vars));
    let entries: Vec<Value> = serde_json::from_str(&listed.stdout).expect("JSON list");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["update_id"], poison);
    assert_eq!(entries[0]["chat"], a);
    assert_eq!(entries[0]["status"], "parked");
    assert_eq!(entries[0]["attempts"], 1);
    assert!(
        entries[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("scripts/strict.rhai:2:") && e.contains("on_message")),
        "{entries:?}"
    );

    // Fixed scenario, then a retry: only the handler that failed runs again.
    t.write(
        "scripts/strict.rhai",
        "fn on_message(msg) {\n    reply(`ok ${msg.text}`);\n}\n",
    );
    bot.wait_stderr("strict.rhai: ok", 2, WAIT);
    t.run_with_env(&["inbox", "retry", &poison.to_string()], &refs(&vars))
        .expect_code(0)
        .expect_stdout_contains(&format!(
            "update {poison} queued for another round of tries"
        ));
    let retried = server.wait_for(WAIT, |calls| sent(calls).len() >= 8);
    assert!(retried.is_ok(), "{}", bot.stderr_so_far());
    assert_eq!(texts(a)[5..], ["ok poison"], "{:?}", texts(a));
    assert_eq!(
        texts(a).iter().filter(|t| *t == "audit poison").count(),
        1,
        "audit.rhai finished on the first try and is not run again"
    );
    bot.wait_stderr(&format!("update {poison} queued again"), 1, WAIT);
    bot.wait_stderr(
        &format!("update {poison}: handled; the earlier failure is cleared"),
        1,
        WAIT,
    );

    t.run_with_env(&["inbox", "list"], &refs(&vars))
        .expect_code(0)
        .expect_stdout("the inbox holds no unfinished or parked update\n");
    let all = t.run_with_env(&["inbox", "list", "--all", "--json"], &refs(&vars));
    let entries: Vec<Value> = serde_json::from_str(&all.stdout).expect("JSON list");
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert!(entries.iter().all(|e| e["status"] == "done"), "{entries:?}");
    t.run_with_env(&["inbox", "retry", &poison.to_string()], &refs(&vars))
        .expect_code(2)
        .expect_stderr_contains("was handled already");
    t.run_with_env(&["inbox", "retry", "424242"], &refs(&vars))
        .expect_code(2)
        .expect_stderr_contains("update 424242 is not in the inbox");
    let done = bot.interrupt();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

#[test]
fn a_refused_call_is_made_again_on_retry_and_a_call_that_succeeded_is_not() {
    let server = server(1);
    let chat = chat_id(0);
    let t = TestDir::new();
    t.write("tgscript.toml", "[inbox]\nmax_attempts = 1\n");
    t.write(
        "scripts/pin.rhai",
        r#"
fn on_message(msg) {
    try { send_message(msg.chat.id, "maybe"); } catch (e) { }
    send_message(msg.chat.id, "sure");
    tg_pin_chat_message(msg.message_id);
}
"#,
    );
    // The first "maybe" is refused; the bot may not pin until it is made an administrator.
    server.world(|w| {
        w.fail_next("sendMessage", Refusal::bad_request("temporarily refused"));
        w.user_message(chat, USER, "pin me", None);
    });
    let vars = bot_env(&server);
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    bot.wait_stderr("parked after one try", 1, WAIT);
    assert!(
        bot.stderr_so_far().contains("not enough rights"),
        "{}",
        bot.stderr_so_far()
    );
    server.world(|w| {
        let rights = serde_json::json!({"can_pin_messages": true});
        let rights = rights.as_object().cloned().unwrap_or_default();
        w.set_status(chat, BOT_ID, Status::Administrator(rights));
    });
    t.run(&["inbox", "retry", "1"]).expect_code(0);
    bot.wait_stderr("update 1: handled; the earlier failure is cleared", 1, WAIT);
    let texts: Vec<String> = sent(&server.calls()).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        texts,
        ["maybe", "sure", "maybe"],
        "the refused call is made again, the one that went through is replayed"
    );
    assert_eq!(
        server.calls_of("pinChatMessage").len(),
        2,
        "refused once, then asked again"
    );
    let done = bot.terminate();
    assert_eq!(done.code, Some(0), "SIGTERM stops cleanly\n{}", done.stderr);
    assert!(
        done.stderr
            .contains("stopping: waiting for running handlers to finish"),
        "{}",
        done.stderr
    );
}
