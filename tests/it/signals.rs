//! Stopping: Ctrl-C sent to the whole process group (a terminal's), and SIGTERM (`systemctl
//! stop`, `docker stop`) to `run` and to `serve` — or, as systemd does by default, to every
//! process of the unit — let a running handler or script finish: the workers under it are in
//! a process group of their own and ignore stop signals, so they are not killed mid-call.

use crate::util::{TOKEN, TestDir};
use serde_json::{Value, json};
use std::time::Duration;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, World};

const WAIT: Duration = Duration::from_secs(30);
const ALICE: i64 = 1001;

/// A handler that says it started, takes 0.8 s, then sends "finished".
const SLOW: &str = "fn on_message(msg) {\n    print(\"handler started\");\n    sleep(0.8);\n    send_message(msg.chat.id, \"finished\");\n}\n";

/// `run` on a local Bot API server with the slow handler; `stop` stops it once the handler
/// started; the handler's message must have been sent and the exit clean.
fn a_running_handler_finishes(stop: impl FnOnce(crate::util::Background) -> crate::util::Finished) {
    let mut world = World::new();
    world.add_user(ALICE, "Alice");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("a local Bot API server");
    let t = TestDir::new();
    t.write("scripts/slow.rhai", SLOW);
    let url = server.url();
    let bot = t.spawn(
        &["run", "scripts"],
        &[("TELOXIDE_TOKEN", TOKEN), ("TELOXIDE_API_URL", &url)],
    );
    bot.wait_stderr("connected as", 1, WAIT);
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "hello", None));
    bot.wait_stderr("handler started", 1, WAIT);
    let done = stop(bot);
    let sent: Vec<Value> = server
        .calls_of("sendMessage")
        .into_iter()
        .map(|c| c.params["text"].clone())
        .collect();
    assert_eq!(sent, [json!("finished")], "{}", done.stderr);
    assert_eq!(done.code, Some(0), "a clean stop\n{}", done.stderr);
    assert!(
        done.stderr
            .contains("waiting for running handlers to finish"),
        "{}",
        done.stderr
    );
}

#[test]
fn ctrl_c_to_the_process_group_lets_a_running_handler_finish() {
    a_running_handler_finishes(|bot| bot.interrupt_group());
}

#[test]
fn sigterm_to_run_lets_a_running_handler_finish() {
    a_running_handler_finishes(|bot| bot.terminate());
}

#[test]
fn sigterm_to_every_process_like_systemd_lets_a_running_handler_finish() {
    // systemd's default KillMode=control-group: SIGTERM to the host and each worker.
    a_running_handler_finishes(|bot| {
        let workers = std::process::Command::new("pkill")
            .args(["-TERM", "-P", &bot.pid().to_string()])
            .status()
            .expect("run pkill");
        assert!(workers.success(), "the host has workers to signal");
        bot.terminate()
    });
}

/// `serve` with a `run_script` in flight that takes 0.8 s after a step the log shows; `stop`
/// stops it then: the script's answer must arrive whole and the exit be clean.
fn a_running_script_finishes(stop: impl FnOnce(crate::util::Background) -> crate::util::Finished) {
    let t = TestDir::new();
    let served = t.spawn(&["serve", "--listen", "127.0.0.1:0"], &[]);
    let address = served.gateway_address();
    let script = r#"command(#{action: "terminate_session", userbot_id: 1, session_id: 1002}); sleep(0.8); "finished""#;
    let request = json!({"action": "run_script", "script": script}).to_string();
    let asked = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .post(format!("http://{address}/command"))
                .header("content-type", "application/json")
                .body(request)
                .send()
                .await
                .expect("POST");
            response.json::<Value>().await.expect("a JSON answer")
        })
    });
    // The script is past its first step: the sandbox account logged it.
    served.wait_stderr("session 1002 terminated", 1, WAIT);
    let done = stop(served);
    let answer = asked.join().expect("the request thread");
    assert_eq!(
        answer["data"]["value"],
        json!("finished"),
        "{answer}\n{}",
        done.stderr
    );
    assert_eq!(done.code, Some(0), "a clean stop\n{}", done.stderr);
}

#[test]
fn sigterm_to_serve_lets_a_running_script_finish() {
    a_running_script_finishes(|served| served.terminate());
}

#[test]
fn ctrl_c_to_the_process_group_of_serve_lets_a_running_script_finish() {
    a_running_script_finishes(|served| served.interrupt_group());
}
