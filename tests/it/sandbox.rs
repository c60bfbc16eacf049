//! The sandbox (`run` without a token) and the example scenarios in `scripts/`, end to end:
//! lines of chat in, the printed Bot API calls out.

use crate::util::TestDir;

/// Run `tgscript run <repo>/scripts` on the sandbox with `input` as the chat; returns stdout.
fn sandbox(input: &str) -> String {
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let t = TestDir::new();
    let out = crate::util::piped(
        &t,
        &["run", scripts.to_str().expect("utf-8 path")],
        &[],
        input,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("ERROR"), "handlers failed:\n{stderr}");
    stdout
}

fn lines_with<'a>(out: &'a str, needle: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.contains(needle)).collect()
}

const READ_ONLY: &str = r#""permissions":{"can_add_web_page_previews":false,"can_change_info":false,"can_invite_users":false,"can_manage_topics":false,"can_pin_messages":false,"can_send_audios":false,"can_send_documents":false,"can_send_messages":false,"can_send_other_messages":false,"can_send_photos":false,"can_send_polls":false,"can_send_video_notes":false,"can_send_videos":false,"can_send_voice_notes":false}"#;

#[test]
fn anti_spam_warns_twice_then_mutes() {
    let out = sandbox(
        "hello everyone\nfree crypto here!\nCASINO bonus\n/as bob hi\nearn $$$ now\nam I muted?\n",
    );
    let warnings = lines_with(&out, "bot: Warning");
    assert_eq!(
        warnings,
        [
            "#3 🤖 bot: Warning 1/3: no spam here.",
            "#5 🤖 bot: Warning 2/3: no spam here."
        ]
    );
    let restricts = lines_with(&out, "→ restrictChatMember");
    assert_eq!(restricts.len(), 1, "{out}");
    assert!(restricts[0].contains(READ_ONLY), "{}", restricts[0]);
    assert!(
        restricts[0].contains(r#""user_id":1001"#),
        "alice is 1001: {}",
        restricts[0]
    );
    assert!(restricts[0].contains(r#""use_independent_chat_permissions":true"#));
    assert!(
        out.contains("bot: Alice is muted after 3 warnings."),
        "{out}"
    );
    assert!(
        !out.contains("am I muted?"),
        "a muted user cannot write:\n{out}"
    );
}

#[test]
fn newcomer_gate_removes_who_does_not_press_in_time_and_keeps_who_does() {
    let out = sandbox(
        "/join dave\n/as dave can I talk?\n/as alice /press gate:1004\n/join erin\n/as erin /press gate:1005\n/wait 4m\n/as erin hello\n/wait 2m\n/as erin still here\n",
    );
    let restricts = lines_with(&out, "→ restrictChatMember");
    assert_eq!(restricts.len(), 3, "{out}");
    assert!(restricts[0].contains(READ_ONLY) && restricts[0].contains(r#""user_id":1004"#));
    assert!(restricts[1].contains(READ_ONLY) && restricts[1].contains(r#""user_id":1005"#));
    assert!(
        restricts[2].contains(r#""can_send_messages":true"#)
            && restricts[2].contains(r#""user_id":1005"#),
        "erin pressed: {}",
        restricts[2]
    );
    assert!(
        !out.contains("dave: can I talk?"),
        "restricted before the button:\n{out}"
    );
    let answers = lines_with(&out, "→ answerCallbackQuery");
    assert_eq!(answers.len(), 2, "{out}");
    assert!(answers[0].contains("This button is for someone else."));
    assert!(answers[1].contains("Welcome aboard!"));
    // Only after the five minutes, and only dave: banned and unbanned (a kick), prompt gone.
    let (before, after) = out
        .split_once("the sandbox's clock moved 2m ahead")
        .expect("the second wait is echoed");
    assert!(
        !before.contains("banChatMember"),
        "not before 5 minutes:\n{out}"
    );
    let removal = [
        r#"→ banChatMember {"chat_id":-1001234567890,"user_id":1004}"#,
        r#"→ unbanChatMember {"chat_id":-1001234567890,"only_if_banned":true,"user_id":1004}"#,
        r#"→ deleteMessage {"chat_id":-1001234567890,"message_id":1}"#,
    ];
    let calls: Vec<&str> = after.lines().filter(|l| l.starts_with("→ ")).collect();
    assert_eq!(calls, removal, "{out}");
    assert_eq!(
        lines_with(&out, "banChatMember").len(),
        2,
        "erin is not removed:\n{out}"
    );
    assert!(
        before.contains(r#"→ deleteMessage {"chat_id":-1001234567890,"message_id":2}"#),
        "erin's prompt goes when she presses:\n{out}"
    );
    assert!(out.contains("erin: still here"), "{out}");
}

#[test]
fn admin_commands_by_reply() {
    let out = sandbox(
        "/as bob spam spam\n/as bob /mute 10m\n/as owner /reply 1 /mute 10m\n/as bob can I?\n/as owner /reply 1 /unmute\n/as bob yes!\n/as owner /reply 1 /ban\n",
    );
    assert!(
        out.contains("bot: Only administrators can do that."),
        "{out}"
    );
    let restricts = lines_with(&out, "→ restrictChatMember");
    assert_eq!(restricts.len(), 2, "{out}");
    assert!(
        restricts[0].contains(READ_ONLY) && restricts[0].contains(r#""until_date":"#),
        "{}",
        restricts[0]
    );
    assert!(
        restricts[1].contains(r#""can_send_messages":true"#),
        "{}",
        restricts[1]
    );
    assert!(!out.contains("bob: can I?"), "muted:\n{out}");
    assert!(out.contains("bob: yes!"), "unmuted:\n{out}");
    let bans = lines_with(&out, "→ banChatMember");
    assert_eq!(
        bans,
        [r#"→ banChatMember {"chat_id":-1001234567890,"user_id":1002}"#]
    );
    assert!(out.contains("bot: Bob is banned."), "{out}");
}

#[test]
fn readme_main_command_prints_the_restriction() {
    // The README's quick start pipes these lines into `run scripts/`.
    let out = sandbox("free crypto\nfree crypto\nfree crypto\n");
    assert!(
        lines_with(&out, "→ restrictChatMember")
            .iter()
            .any(|l| l.contains(READ_ONLY)),
        "{out}"
    );
}

#[test]
fn ctrl_c_in_a_terminal_stops_the_sandbox_at_once() {
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let t = TestDir::new();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tgscript"));
    cmd.args(["run", scripts.to_str().expect("utf-8 path")])
        .current_dir(t.path())
        .env_remove("TELOXIDE_TOKEN")
        .env("TGSCRIPT_LOG", "info");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).expect("run in a pty");
    p.exp_string("End of input or Ctrl-C stops")
        .expect("the sandbox banner");
    p.send_line("hello").expect("type a line");
    p.exp_string("#1 alice: hello")
        .expect("the line is handled");
    // A usage error is answered at once and the console reads on, so it is soon blocked
    // reading the terminal (a stop before that read never waited for input).
    p.send_line("/as").expect("type a line");
    p.exp_string("usage: /as").expect("the usage");
    std::thread::sleep(std::time::Duration::from_millis(500));
    // No input pending: the console is blocked reading the terminal, and still the process
    // ends (before, it waited for Enter or Ctrl-D; how fast is measured by benches/scripts/ctrl_c.sh).
    p.send_control('c').expect("ctrl-c");
    p.exp_string("stopping").expect("the stop is logged");
    p.exp_eof().expect("the sandbox exits without more input");
}

#[test]
fn vote_counts_one_vote_per_member_and_edits_the_score() {
    let out = sandbox(
        "/vote\n/vote Pizza on Friday?\n/press vote:yes\n/as bob /press vote:no\n/press vote:no\n",
    );
    assert!(
        out.contains("Ask something: /vote Pizza on Friday?"),
        "{out}"
    );
    let sent = lines_with(&out, "→ sendMessage");
    assert!(
        sent[1].contains(r#""callback_data":"vote:yes""#)
            && sent[1].contains(r#""text":"Pizza on Friday?\n👍 0 · 👎 0""#),
        "{out}"
    );
    // Alice's second press changes her vote instead of adding one.
    let scores: Vec<&str> = lines_with(&out, "→ editMessageText")
        .iter()
        .filter_map(|l| l.split(r#""text":"Pizza on Friday?\n"#).nth(1))
        .collect();
    assert_eq!(
        scores,
        [r#"👍 1 · 👎 0"}"#, r#"👍 1 · 👎 1"}"#, r#"👍 0 · 👎 2"}"#],
        "{out}"
    );
    assert_eq!(lines_with(&out, "→ answerCallbackQuery").len(), 3, "{out}");
    assert!(out.contains("You voted no."), "{out}");
}

/// A scenario that tells what chat each message came from.
const WHERE: &str = "fn on_message(msg) {\n    reply(`${msg.chat.type} chat ${msg.chat.id}, from ${msg.from.first_name}: ${msg.text}`);\n}\n";

#[test]
fn a_private_chat_message_reaches_on_message_with_a_private_chat() {
    let t = TestDir::new();
    t.write("scripts/where.rhai", WHERE);
    let done = t.run_chat("/dm bob hello bot\nin the group\n");
    assert!(
        done.stdout
            .contains("#2 🤖 bot → bob (private): private chat 1002, from Bob: hello bot"),
        "{}",
        done.all_output()
    );
    assert!(
        done.stdout.contains(r#"→ sendMessage {"chat_id":1002,"#),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout
            .contains("supergroup chat -1001234567890, from Alice: in the group"),
        "{}",
        done.stdout
    );
}

/// POST `request` to the gateway at `addr` with `token`: (status, event).
fn gateway_post(addr: &str, token: &str, request: serde_json::Value) -> (u16, serde_json::Value) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("http://{addr}/command"))
            .bearer_auth(token)
            .json(&request)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON event"))
    })
}

#[test]
fn with_the_gateway_on_the_sandbox_outlives_its_input_and_stops_on_sigterm() {
    let t = TestDir::new();
    t.write("scripts/where.rhai", WHERE);
    t.write(
        "tgscript.toml",
        "[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"sandbox-admin\"\n",
    );
    // stdin closed from the start, as under nohup or systemd.
    let run = t.spawn(&["run", "scripts"], &[]);
    let addr = run.gateway_address();
    run.wait_stderr(
        "end of input; the sandbox goes on",
        1,
        std::time::Duration::from_secs(30),
    );
    let (status, event) = gateway_post(
        &addr,
        "sandbox-admin",
        serde_json::json!({"action": "sandbox_chat", "line": "/dm carol still here?"}),
    );
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["data"]["echo"], "#1 carol (private): still here?");
    let finished = run.terminate();
    assert_eq!(finished.code, Some(0), "{}", finished.all_output());
    assert!(
        finished
            .stdout
            .contains("🤖 bot → carol (private): private chat 1003, from Carol: still here?"),
        "{}",
        finished.stdout
    );
}

#[test]
fn without_the_gateway_the_end_of_input_still_stops_the_sandbox() {
    let t = TestDir::new();
    t.write("scripts/where.rhai", WHERE);
    let done = t.run_chat("hello\n");
    assert!(done.stdout.contains("from Alice: hello"), "{}", done.stdout);
    assert!(
        !done.stderr.contains("the sandbox goes on"),
        "{}",
        done.stderr
    );
}

/// The Python that runs the PTB test: `TEST_PYTHON_FOR_TGSCRIPT`, else `python3` (tests/run
/// puts its venv's first on PATH).
fn test_python() -> String {
    std::env::var("TEST_PYTHON_FOR_TGSCRIPT").unwrap_or_else(|_| "python3".to_string())
}

#[test]
fn python_telegram_bot_parses_every_answer_of_the_sandboxs_bot_api_server() {
    let python = test_python();
    let has_ptb = std::process::Command::new(&python)
        .args(["-c", "import telegram"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_ptb,
        "python-telegram-bot is missing for {python} (tests/python/requirements.txt): run tests/run, which installs it"
    );
    let t = TestDir::new();
    t.write("scripts/quiet.rhai", "fn on_message(msg) {}\n");
    t.write("tgscript.toml", "[gateway]\nlisten = \"127.0.0.1:0\"\n");
    // Join requests to approve and decline; the gateway keeps the sandbox on after them.
    let input = t.write(".chat", "/request dave\n/request erin\n");
    let run = t.spawn_with_input(
        &["run", "scripts"],
        &[],
        std::fs::File::open(input).expect("input").into(),
    );
    run.wait_stderr("end of input", 1, std::time::Duration::from_secs(30));
    let said = run.stderr_so_far();
    let url = said
        .split("Its Bot API server is ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the sandbox says where its server is:\n{said}"))
        .to_string();
    // "(token 0:sandbox: other clients …)"
    let token = said
        .split("(token ")
        .nth(1)
        .and_then(|rest| rest.split(": ").next())
        .expect("the sandbox's token")
        .to_string();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ptb_sandbox.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .args([&url, &token])
        .output()
        .expect("run the PTB script");
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors = String::from_utf8_lossy(&out.stderr).into_owned();
    let finished = run.terminate();
    assert_eq!(out.status.code(), Some(0), "{printed}\n{errors}");
    let answered: std::collections::BTreeSet<String> = printed
        .lines()
        .filter_map(|l| l.strip_prefix("ok "))
        .map(str::to_ascii_lowercase)
        .collect();
    assert!(answered.len() >= 38, "{printed}");
    // Every method the sandbox saw PTB call, it answered in a form PTB parsed.
    let called: std::collections::BTreeSet<String> = finished
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("→ "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .collect();
    assert!(
        called.contains("setchatphoto") && called.contains("senddocument"),
        "{}",
        finished.stdout
    );
    for method in &called {
        assert!(
            answered.contains(method),
            "{method} was called, not checked:\n{printed}"
        );
    }
}

/// Whether the sandbox's Bot API server answers `method`: anything but its 404, "method not
/// implemented in the sandbox" (an empty call to a method it knows is refused as Telegram
/// would, e.g. `400 chat_id is empty`).
fn answers(server: &tgscript::sandbox::BotApiServer, method: &str) -> bool {
    let url = format!("{}bot{}/{method}", server.url(), crate::util::TOKEN);
    crate::bots::post(&url, None, "{}") != 404
}

/// What is wrong between the chat actions' Bot API methods (`(action, method)`) and the
/// sandbox: a method neither answered nor in `not_simulated`, one listed there but answered,
/// one listed that no action calls, or one listed without a reason.
fn coverage_problems(
    methods: &[(&str, &str)],
    not_simulated: &[(&str, &str)],
    answered: impl Fn(&str) -> bool,
) -> Vec<String> {
    let listed = |method: &str| not_simulated.iter().any(|(m, _)| *m == method);
    let mut problems = Vec::new();
    for (action, method) in methods {
        if !answered(method) && !listed(method) {
            problems.push(format!(
                "`{action}` calls `{method}`, which the sandbox does not answer: simulate it in src/sandbox/world/ or list it in NOT_SIMULATED with the reason"
            ));
        }
    }
    for (method, reason) in not_simulated {
        if answered(method) {
            problems.push(format!(
                "`{method}` is in NOT_SIMULATED but the sandbox answers it: remove it from the list"
            ));
        }
        if !methods.iter().any(|(_, m)| m == method) {
            problems.push(format!(
                "`{method}` is in NOT_SIMULATED but no chat action calls it"
            ));
        }
        if reason.trim().is_empty() {
            problems.push(format!("`{method}` is in NOT_SIMULATED without a reason"));
        }
    }
    problems
}

/// Every chat action's Bot API method, by action; `bot_api`, whose method is the request's,
/// names none.
fn chat_action_methods() -> Vec<(&'static str, &'static str)> {
    use tgscript::commands::chat::{ACTIONS, Method};
    ACTIONS
        .iter()
        .filter_map(|action| match action.method {
            Method::Fixed(method) | Method::Confirmed(method) => Some((action.name, method)),
            Method::Field(_) => None,
        })
        .collect()
}

#[test]
fn every_chat_action_is_answered_by_the_sandbox_or_listed_as_not_simulated() {
    let server = tgscript::sandbox::BotApiServer::start(tgscript::sandbox::World::new(), None)
        .expect("start the sandbox's Bot API server");
    assert!(
        !answers(&server, "sendTelepathy"),
        "a method the sandbox lacks is told apart"
    );
    let methods = chat_action_methods();
    assert!(
        methods.len() > 20 && methods.iter().any(|(a, _)| *a == "send_message"),
        "the chat actions were read: {methods:?}"
    );
    let problems = coverage_problems(&methods, tgscript::sandbox::NOT_SIMULATED, |m| {
        answers(&server, m)
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_unanswered_action_or_a_needless_listing_is_caught() {
    let server = tgscript::sandbox::BotApiServer::start(tgscript::sandbox::World::new(), None)
        .expect("start the sandbox's Bot API server");
    let answered = |m: &str| answers(&server, m);
    let methods = [
        ("send_message", "sendMessage"),
        ("tg_telepathy", "sendTelepathy"),
    ];

    let unlisted = coverage_problems(&methods, &[], answered);
    assert_eq!(unlisted.len(), 1, "{unlisted:?}");
    assert!(unlisted[0].starts_with("`tg_telepathy` calls `sendTelepathy`"));

    let listed = [("sendTelepathy", "no telepathy in a simulation")];
    assert_eq!(
        coverage_problems(&methods, &listed, answered),
        Vec::<String>::new()
    );

    let needless = [
        ("sendTelepathy", "no telepathy in a simulation"),
        ("sendMessage", "said to be missing"),
    ];
    let problems = coverage_problems(&methods, &needless, answered);
    assert_eq!(
        problems,
        ["`sendMessage` is in NOT_SIMULATED but the sandbox answers it: remove it from the list"]
    );
}
