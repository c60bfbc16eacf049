//! `tgscript repl` in a pseudo-terminal (rexpect) and through a pipe.

use crate::util::TestDir;
use rexpect::session::{PtySession, spawn_command};
use std::process::Command;

const TIMEOUT_MS: u64 = 20_000;

/// The REPL in a pseudo-terminal, on the sandbox, with `env` added.
fn repl(t: &TestDir, env: &[(&str, &str)]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgscript"));
    cmd.arg("repl")
        .current_dir(t.path())
        .env_remove("TELOXIDE_TOKEN")
        .env("TGSCRIPT_LOG", "warn")
        .env("TGSCRIPT_DATA_DIR", t.path().join("data"))
        .env_remove("TGSCRIPT_TEST_STORE")
        .env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut session = spawn_command(cmd, Some(TIMEOUT_MS)).expect("start the REPL in a pty");
    session.exp_string("sandbox").expect("banner says sandbox");
    session.exp_string("> ").expect("prompt");
    session
}

#[test]
fn multi_line_function_then_call() {
    let t = TestDir::new();
    let mut p = repl(&t, &[]);
    p.send_line("fn add(a,").expect("send");
    p.send_line("    b) {").expect("send");
    p.send_line("    a + b }").expect("send");
    // The prompt is redrawn while the definition is typed: wait for the one after it.
    p.exp_string("a + b }").expect("the definition's last line");
    p.exp_string("> ").expect("prompt after the definition");
    p.send_line("add(40, 2)").expect("send");
    p.exp_string("42")
        .expect("the function is callable on the next input");
    p.send_line(":quit").expect("send");
    p.exp_eof().expect("exit");
}

#[test]
fn tab_completes_builtins_and_help_documents_them() {
    let t = TestDir::new();
    let mut p = repl(&t, &[]);
    p.send("tg_chat_p\t").expect("send");
    p.flush().expect("flush");
    p.exp_string("tg_chat_permission")
        .expect("completed to tg_chat_permission");
    p.send_control('u').expect("clear line");
    p.send_line("").expect("send");
    p.exp_string("> ").expect("prompt");
    p.send_line(":help tg_chat_permission").expect("send");
    p.exp_string(
        "parameters: chat_id: INT|String, user_id: INT|String, permission: Array, media_permissions: Array, options: Map",
    )
        .expect("documented parameters");
    p.exp_string("# Example").expect("example");
    p.send_line(":help print").expect("send");
    p.exp_string("print is one of Rhai's own functions")
        .expect("Rhai's own functions are named as such");
    // Several candidates: a second Tab lists them; a stdlib module's members and :commands
    // complete too.
    p.send("chat_\t\t").expect("send");
    p.flush().expect("flush");
    p.exp_string("chat_delete").expect("a candidate listed");
    p.exp_string("chat_permissions").expect("another listed");
    p.send_control('u').expect("clear line");
    p.send("perms::READ_O\t").expect("send");
    p.flush().expect("flush");
    p.exp_string("perms::READ_ONLY")
        .expect("a stdlib member completed");
    p.send_control('u').expect("clear line");
    p.send(":bui\t").expect("send");
    p.flush().expect("flush");
    p.exp_string(":builtins").expect("a :command completed");
    p.send_control('u').expect("clear line");
    p.send_line(":quit").expect("send");
    p.exp_eof().expect("exit");
}

#[test]
fn ctrl_c_interrupts_a_loop_and_the_session_survives() {
    let t = TestDir::new();
    let mut p = repl(
        &t,
        &[
            ("TGSCRIPT_LIMITS_MAX_OPERATIONS", "0"),
            ("TGSCRIPT_LIMITS_TIMEOUT_MS", "600000"),
        ],
    );
    p.send_line("let x = 41;").expect("send");
    p.exp_string("> ").expect("prompt");
    p.send_line("print(\"looping\"); loop {}").expect("send");
    // Once the input prints, the loop is running: interrupt it.
    p.exp_string("looping\r\n").expect("the loop started");
    p.send_control('c').expect("ctrl-c");
    p.exp_string("interrupted").expect("the loop stops");
    p.exp_string("> ").expect("back at the prompt");
    p.send_line("x + 1").expect("send");
    p.exp_string("42").expect("scope survived");
    p.send_line(":quit").expect("send");
    p.exp_eof().expect("exit");
}

#[test]
fn sandbox_account_commands_pretty_print_and_seed_errors() {
    let t = TestDir::new();
    let mut p = repl(&t, &[]);
    p.send_line("get_active_sessions()").expect("send");
    p.exp_string("\"sessions\": [").expect("a pretty map");
    p.exp_string("\"is_current\": true")
        .expect("indented fields");
    p.exp_string("> ").expect("prompt");
    p.send_line("terminate_session(())").expect("send");
    p.exp_string("session_id is required")
        .expect("the seed's error");
    p.send_line(":quit").expect("send");
    p.exp_eof().expect("exit");
}

/// Pipe `input` into `tgscript repl`; returns (exit code, stdout, stderr).
fn piped(input: &str) -> (Option<i32>, String, String) {
    piped_with_env(input, &[])
}

/// The REPL reading `input` from a pipe, with `env` added.
fn piped_with_env(input: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let t = TestDir::new();
    let out = crate::util::piped(&t, &["repl"], env, input);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn piped_input_prints_each_result_and_the_status_reflects_failures() {
    let (code, stdout, stderr) = piped("let x = 2;\nfn sq(n) {\n  n * n\n}\nsq(x)\n[1, 2]\n");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "4\n[\n  1,\n  2\n]\n");
    assert!(
        !stdout.contains('>') && !stderr.contains('>'),
        "no prompts in a pipe"
    );

    let (code, stdout, stderr) = piped("1 + 1\nundefined_thing\n3\n");
    assert_eq!(code, Some(1), "a failed input makes the exit status 1");
    assert_eq!(stdout, "2\n3\n", "later inputs still run");
    assert!(
        stderr.contains("undefined_thing\n^\nerror at line 2, column 1: "),
        "the line of the pipe: {stderr}"
    );
}

#[test]
fn the_sandbox_group_is_the_default_chat_and_unknown_functions_get_a_suggestion() {
    let (code, stdout, stderr) = piped(
        "import \"perms\" as perms;\ntg_chat_permission(1002, perms::READ_ONLY, [0,0,0,0,0,0])\nfn greet(n) {\n  `hi ${n}`\n}\ngreat(1)\nget_active_sesions()\n",
    );
    assert_eq!(code, Some(1), "{stderr}");
    // No chat_id: the sandbox group, where bob (1002) is a member from the start; the
    // import of the first input is kept for the second.
    assert!(
        stdout.contains(r#"→ restrictChatMember {"chat_id":-1001234567890,"#)
            && stdout.contains(r#""user_id":1002}"#)
            && stdout.contains("\ntrue\n"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(
            "error at line 6, column 1: Function not found: great (i64): did you mean 'greet'?"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("error at line 7, column 1: Function not found: get_active_sesions (): did you mean 'get_active_sessions'?"),
        "{stderr}"
    );
}

#[test]
fn hostile_inputs_each_fail_with_their_limit_and_the_repl_goes_on() {
    let mut input: String = crate::isolation::HOSTILE
        .iter()
        .map(|(script, _)| format!("{script}\n"))
        .collect();
    input.push_str("40 + 2\n");
    // Operations run out before time does, however loaded the machine is.
    let (code, stdout, stderr) = piped_with_env(&input, &[("TGSCRIPT_LIMITS_TIMEOUT_MS", "5000")]);
    assert_eq!(code, Some(1), "inputs failed: {stderr}");
    assert!(
        stdout.ends_with("42\n"),
        "the REPL went on: {stdout}\n{stderr}"
    );
    for (script, expected) in crate::isolation::HOSTILE {
        let expected = expected.replace("[limits] ", "");
        assert!(stderr.contains(&expected), "{script}: {stderr}");
    }
}

#[test]
fn help_documents_stdlib_functions_and_constants() {
    let (code, stdout, stderr) =
        piped(":help time::parse_duration\n:help time::HOUR\n:help time::nope\n:help tme::x\n");
    assert_eq!(code, Some(0), "{stderr}");
    let expected = [
        "time::parse_duration(text)",
        "Seconds in a duration written like \"90s\"",
        "import \"time\" as time;",
        "time::HOUR = 3600",
        "time has no nope (it has: DAY, HOUR, MINUTE, parse_duration)",
        "no stdlib module tme (there are: perms, time)",
    ];
    for line in expected {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
}
