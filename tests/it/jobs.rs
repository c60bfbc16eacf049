//! Durable timers and conversation waits through the real binary and the local Bot API
//! server: a job survives `kill -9` before it is due and runs once; one killed while it runs
//! completes once, its calls replayed; an `expect_message` wait survives a restart; a job whose
//! function is gone after an edit is parked; `tgscript jobs` lists and cancels.

use crate::util::{Finished, TOKEN, TestDir};
use serde_json::Value;
use std::time::Duration;
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, Recorded, World};

const CHAT: i64 = -1_003_000_000_001;
const USER: i64 = 1001;
const WAIT: Duration = Duration::from_secs(60);

fn server() -> BotApiServer {
    let mut world = World::empty();
    world.add_user(USER, "Alice");
    world.add_chat(CHAT, ChatKind::Supergroup, "jobs");
    BotApiServer::start(world, Some(TOKEN)).expect("start the local Bot API server")
}

fn env(server: &BotApiServer) -> Vec<(&'static str, String)> {
    vec![
        ("TELOXIDE_TOKEN", TOKEN.to_string()),
        ("TELOXIDE_API_URL", server.url()),
    ]
}

fn refs<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The texts the bot sent, in order.
fn texts(calls: &[Recorded]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.method.eq_ignore_ascii_case("sendMessage"))
        .map(|c| c.params["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn count(server: &BotApiServer, text: &str) -> usize {
    texts(&server.calls()).iter().filter(|t| *t == text).count()
}

fn say(server: &BotApiServer, text: &str) {
    server.world(|w| w.user_message(CHAT, USER, text, None));
}

/// Let the answer of the call just seen be recorded (the journal commits it within a few
/// ms): a call killed before its answer is kept may be made again, which the inbox's crash
/// test covers; these tests are about the jobs.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

/// Start `run scripts` in `t`, wait until the bot sent `text`, let its record settle, and
/// `kill -9` it.
fn kill_after(
    t: &TestDir,
    server: &BotApiServer,
    vars: &[(&'static str, String)],
    text: &str,
) -> Finished {
    let bot = t.spawn(&["run", "scripts"], &refs(vars));
    let seen = server.wait_for(WAIT, |c| texts(c).iter().any(|t| t == text));
    assert!(seen.is_ok(), "never sent {text:?}\n{}", bot.stderr_so_far());
    settle();
    let killed = bot.kill9();
    assert_eq!(killed.code, None, "killed by the signal\n{}", killed.stderr);
    killed
}

fn jobs(t: &TestDir) -> Vec<Value> {
    let list = t.run(&["jobs", "list", "--json"]);
    list.expect_code(0);
    serde_json::from_str(&list.stdout).expect("jobs list --json is JSON")
}

const LATER: &str = r#"
fn on_message(msg) {
    if msg.text == "later" {
        schedule(2, "fire", "once");
        reply("scheduled");
    }
    if msg.text == "long" {
        schedule(0, "steps", ());
    }
}
fn fire(data) {
    reply(`fired ${data}`);
}
fn steps(data) {
    send_message(-1003000000001, "step 1");
    sleep(0.8);
    send_message(-1003000000001, "step 2");
}
"#;

#[test]
fn a_job_killed_before_it_is_due_runs_once_after_the_restart() {
    let server = server();
    let t = TestDir::new();
    t.write("scripts/later.rhai", LATER);
    let vars = env(&server);
    say(&server, "later");
    let killed = kill_after(&t, &server, &vars, "scheduled");
    assert_eq!(count(&server, "fired once"), 0, "killed before it was due");
    let waiting = jobs(&t);
    assert_eq!(waiting.len(), 1, "{waiting:?}\n{}", killed.stderr);
    assert_eq!(waiting[0]["function"], "fire");
    assert_eq!(
        waiting[0]["chat_id"], CHAT,
        "it acts where it was scheduled"
    );

    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let fired = server.wait_for(WAIT, |c| texts(c).contains(&"fired once".into()));
    assert!(fired.is_ok(), "{}", bot.stderr_so_far());
    std::thread::sleep(Duration::from_millis(1500));
    let last = bot.interrupt();
    assert_eq!(last.code, Some(0), "{}", last.stderr);
    assert_eq!(count(&server, "fired once"), 1, "once\n{}", last.stderr);
    assert_eq!(
        count(&server, "scheduled"),
        1,
        "the message was handled once"
    );
    let reply = server
        .calls_of("sendMessage")
        .into_iter()
        .find(|c| c.params["text"] == "fired once")
        .expect("fired");
    assert_eq!(reply.params["chat_id"], CHAT);
    assert_eq!(
        reply.params["reply_parameters"]["message_id"], 1,
        "reply() in a job answers the message it was scheduled from"
    );
    assert!(jobs(&t).is_empty(), "the job is gone once it ran");
}

#[test]
fn a_job_killed_while_it_runs_completes_once_its_calls_replayed() {
    let server = server();
    let t = TestDir::new();
    t.write("scripts/later.rhai", LATER);
    let vars = env(&server);
    say(&server, "long");
    let killed = kill_after(&t, &server, &vars, "step 1");
    assert_eq!(
        count(&server, "step 2"),
        0,
        "killed mid-run\n{}",
        killed.stderr
    );

    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let second = server.wait_for(WAIT, |c| texts(c).contains(&"step 2".into()));
    assert!(second.is_ok(), "{}", bot.stderr_so_far());
    // Done once the inbox holds nothing unfinished (the run finishes its record first).
    let deadline = std::time::Instant::now() + WAIT;
    while t.run(&["inbox", "list", "--json"]).stdout.trim() != "[]" {
        assert!(
            std::time::Instant::now() < deadline,
            "the job's run never finished\n{}",
            bot.stderr_so_far()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let last = bot.interrupt();
    assert_eq!(
        count(&server, "step 1"),
        1,
        "replayed, not sent again\n{}",
        last.stderr
    );
    assert_eq!(count(&server, "step 2"), 1, "{}", last.stderr);
    assert!(
        last.stderr.contains("left unfinished"),
        "the restart took the interrupted run up:\n{}",
        last.stderr
    );
}

const ASK: &str = r#"
fn on_command(cmd, args, msg) {
    if cmd == "ask" {
        reply("What is your name?");
        expect_message("got_name", #{timeout: "1h", data: "nobody answered"});
    }
}
fn on_message(msg) {
    reply(`usual: ${msg.text}`);
}
fn got_name(msg) {
    reply(`Hello, ${msg.text}!`);
}
fn got_name_timeout(data) {
    reply(data);
}
"#;

#[test]
fn an_expected_message_survives_a_restart_between_question_and_answer() {
    let server = server();
    let t = TestDir::new();
    t.write("scripts/ask.rhai", ASK);
    let vars = env(&server);
    say(&server, "/ask");
    let killed = kill_after(&t, &server, &vars, "What is your name?");
    let waiting = jobs(&t);
    assert_eq!(waiting.len(), 1, "{waiting:?}\n{}", killed.stderr);
    assert_eq!(waiting[0]["kind"], "expect");
    assert_eq!(waiting[0]["user_id"], USER);

    say(&server, "Bob");
    say(&server, "and then");
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let answered = server.wait_for(WAIT, |c| texts(c).contains(&"usual: and then".into()));
    let last = bot.interrupt();
    assert!(answered.is_ok(), "{}", last.stderr);
    let sent = texts(&server.calls());
    assert_eq!(
        sent,
        ["What is your name?", "Hello, Bob!", "usual: and then"],
        "the answer went to got_name, the next message to on_message\n{}",
        last.stderr
    );
    assert!(jobs(&t).is_empty(), "the wait ended with its answer");
}

#[test]
fn a_job_whose_function_is_gone_after_an_edit_is_parked_with_the_reason() {
    let server = server();
    let t = TestDir::new();
    t.write("scripts/later.rhai", LATER);
    let vars = env(&server);
    say(&server, "later");
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let scheduled = server.wait_for(WAIT, |c| texts(c).contains(&"scheduled".into()));
    assert!(scheduled.is_ok(), "{}", bot.stderr_so_far());
    bot.interrupt();
    t.write("scripts/later.rhai", "fn on_message(msg) { }\n");
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    bot.wait_stderr("parked", 1, WAIT);
    let last = bot.interrupt();
    assert_eq!(count(&server, "fired once"), 0);
    let inbox = t.run(&["inbox", "list", "--json"]);
    let entries: Vec<Value> = serde_json::from_str(&inbox.stdout).expect("JSON");
    assert_eq!(entries.len(), 1, "{entries:?}\n{}", last.stderr);
    assert_eq!(entries[0]["kind"], "job");
    assert_eq!(entries[0]["status"], "parked");
    let error = entries[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("fire"),
        "names the missing function: {error}"
    );
}

#[test]
fn jobs_are_listed_and_cancelled_from_the_command_line() {
    let server = server();
    let t = TestDir::new();
    t.write(
        "scripts/daily.rhai",
        r#"
fn on_load() {
    if jobs().is_empty() {
        every("0 9 * * *", "rules", "Be kind.");
        schedule("1h", "rules", "later");
    }
}
fn rules(text) { send_message(-1003000000001, text); }
"#,
    );
    let vars = env(&server);
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    bot.wait_stderr("loaded scripts/daily.rhai", 1, WAIT);
    let first = bot.interrupt();
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    bot.wait_stderr("loaded scripts/daily.rhai", 1, WAIT);
    bot.interrupt();
    let listed = jobs(&t);
    assert_eq!(
        listed.len(),
        2,
        "on_load looked first: no copies\n{listed:?}\n{}",
        first.stderr
    );
    let daily = listed
        .iter()
        .find(|j| j["every"] == "0 9 * * *")
        .expect("the daily job");
    let due = daily["due_at"].as_i64().unwrap_or_default();
    assert_eq!(due.rem_euclid(86_400), 9 * 3600, "09:00 UTC: {daily}");
    let table = t.run(&["jobs", "list"]);
    table.expect_code(0).expect_stdout_contains("0 9 * * *");
    table.expect_stdout_contains("daily");
    let id = daily["id"].to_string();
    t.run(&["jobs", "cancel", &id])
        .expect_code(0)
        .expect_stdout_contains("cancelled");
    t.run(&["jobs", "cancel", &id])
        .expect_code(2)
        .expect_stderr_contains("no job");
    assert_eq!(jobs(&t).len(), 1);
    let exec = t.write("once.rhai", "schedule(1, \"f\", ())");
    t.run(&["exec", exec.to_str().expect("utf-8")])
        .expect_code(1)
        .expect_stderr_contains("scripts run once");
}

#[test]
fn on_the_sandbox_jobs_follow_its_clock_repeat_and_a_wait_times_out() {
    let t = TestDir::new();
    t.write("scripts/ask.rhai", ASK);
    t.write(
        "scripts/tick.rhai",
        r#"
fn on_command(cmd, args, msg) {
    if cmd == "tick" { every(60, "tick", "tick"); }
    if cmd == "bad" {
        try { schedule(1, "nothing", ()); } catch (e) { reply(`refused: ${e}`); }
        try { every("61 * * * *", "tick", ()); } catch (e) { reply(`refused: ${e}`); }
        try { schedule("2x", "tick", ()); } catch (e) { reply(`refused: ${e}`); }
        let big = "x"; big.pad(70000, 'x');
        try { schedule(1, "tick", big); } catch (e) { reply(`refused: ${e}`); }
        try { schedule(-1, "tick", ()); } catch (e) { reply(`refused: ${e}`); }
        try { schedule(1e300, "tick", ()); reply("far future kept"); } catch (e) { reply(`refused: ${e}`); }
    }
}
fn tick(text) { reply(text); }
"#,
    );
    let done = t.run_chat("/tick\n/ask\n/wait 1m\n/wait 1m\n/wait 2h\n/bad\n");
    let out = done.all_output();
    let ticks = out.lines().filter(|l| l.ends_with("bot: tick")).count();
    assert_eq!(
        ticks, 3,
        "once a minute, and once after the 2 h jump (no catching up):\n{out}"
    );
    assert!(
        out.contains("bot: nobody answered"),
        "got_name_timeout ran:\n{out}"
    );
    assert!(
        out.contains("refused: schedule: this scenario has no fn nothing(data) to run"),
        "{out}"
    );
    assert!(
        out.contains("refused: every: \"61 * * * *\" is neither a period"),
        "{out}"
    );
    assert!(
        out.contains(
            "refused: schedule: expected seconds or a duration like 30s, 10m, 2h, 1d, not \"2x\""
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "refused: schedule: the value for 'data' is 70002 bytes as JSON; the limit is 65536"
        ),
        "{out}"
    );
    assert!(
        out.contains("refused: schedule: a delay cannot be negative"),
        "{out}"
    );
    assert!(out.contains("bot: far future kept"), "{out}");
}
