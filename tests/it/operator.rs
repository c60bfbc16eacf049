//! The operator's command line through the binary: where the config is found and what its
//! relative paths mean, read-only commands that make no database, a closed pipe, a bad
//! proxy, completions, `config check` and `config show`, `RUST_LOG`.

use crate::util::{TOKEN, TestDir};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

/// `tgscript ARGS` in `t` with its stdout's reader gone before anything is written.
fn with_closed_stdout(t: &TestDir, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgscript"))
        .args(args)
        .current_dir(t.path())
        .env("TGSCRIPT_DATA_DIR", t.path().join(".data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tgscript");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for tgscript")
}

#[test]
fn a_closed_pipe_ends_a_command_with_exit_0() {
    let t = TestDir::new();
    t.write("bad.rhai", "let x = nosuch(1);\nnosuch(2);\n");
    for args in [
        &["docs", "--gateway", "-o", "json"][..],
        &["docs"],
        &["check", "bad.rhai"],
    ] {
        let out = with_closed_stdout(&t, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_malformed_proxy_is_a_configuration_error() {
    let t = TestDir::new();
    t.write("one.rhai", "1\n");
    t.run_with_env(
        &["exec", "one.rhai"],
        &[
            ("TELOXIDE_TOKEN", TOKEN),
            ("TELOXIDE_PROXY", "::not a proxy::"),
        ],
    )
    .expect_code(2)
    .expect_stderr_contains("TELOXIDE_PROXY is not a proxy address");
}

/// A config in `conf/` with a relative store and scenario folder; runs happen in the
/// parent folder.
fn config_elsewhere(t: &TestDir) {
    t.write(
        "conf/tgscript.toml",
        "[store]\npath = \"state.db\"\n[scripts]\ndir = \"scenarios\"\n",
    );
    t.write(
        "conf/scenarios/a.rhai",
        "fn on_message(msg) { nosuch(1); }\n",
    );
    t.write("one.rhai", "1\n");
}

#[test]
fn relative_paths_are_the_configs_wherever_tgscript_runs() {
    let t = TestDir::new();
    config_elsewhere(&t);
    let conf = ["--config", "conf/tgscript.toml"];
    // The scenario folder is the config's.
    t.run(&[&conf[..], &["check"]].concat())
        .expect_code(1)
        .expect_stdout_contains("conf/scenarios/a.rhai:1:");
    // A read-only command finds no database there yet: it says where it looked, makes none.
    t.run(&[&conf[..], &["jobs", "list"]].concat())
        .expect_code(2)
        .expect_stderr_contains("no state database at conf/state.db");
    assert!(!t.path().join("conf/state.db").exists());
    // exec makes it beside the config, not in the working folder.
    t.run(&[&conf[..], &["exec", "one.rhai"]].concat())
        .expect_code(0);
    assert!(t.path().join("conf/state.db").is_file());
    assert!(!t.path().join("state.db").exists());
    t.run(&[&conf[..], &["jobs", "list"]].concat())
        .expect_code(0)
        .expect_stdout("no job is waiting\n");
    // TGSCRIPT_CONFIG names the same file.
    t.run_with_env(
        &["inbox", "list"],
        &[("TGSCRIPT_CONFIG", "conf/tgscript.toml")],
    )
    .expect_code(0)
    .expect_stdout("the inbox holds no unfinished or parked update\n");
    // And the XDG config folder is searched when nothing else names one.
    t.write(
        ".config/tgscript/tgscript.toml",
        "[scripts]\ndir = \"xdg-scenarios\"\n",
    );
    t.write(
        ".config/tgscript/xdg-scenarios/b.rhai",
        "fn on_message(msg) { other(1); }\n",
    );
    t.run(&["check"])
        .expect_code(1)
        .expect_stdout_contains("xdg-scenarios/b.rhai:1:");
}

#[test]
fn read_only_commands_make_no_database() {
    let t = TestDir::new();
    let db = t.path().join(".data/state.db");
    for args in [
        &["inbox", "list"][..],
        &["jobs", "list", "-o", "json"],
        &["inbox", "retry", "3"],
    ] {
        t.run(args)
            .expect_code(2)
            .expect_stderr_contains(&format!("no state database at {}", db.display()))
            .expect_stderr_contains("pass --config");
        assert!(!db.exists(), "{args:?} made {}", db.display());
    }
    // account status answers from the config alone.
    t.run(&["account", "status", "-o", "json"])
        .expect_code(0)
        .expect_stdout("[]\n");
    assert!(!db.exists());
}

#[test]
fn completions_and_the_man_page_print_from_the_one_definition() {
    let t = TestDir::new();
    for (shell, marker) in [
        ("bash", "complete -F _tgscript"),
        ("zsh", "#compdef tgscript"),
        ("fish", "complete -c tgscript"),
    ] {
        let run = t.run(&["completions", shell]);
        run.expect_code(0).expect_stdout_contains(marker);
        assert!(run.stdout.contains("inbox"), "{shell}: {}", run.stdout);
    }
    t.run(&["man"])
        .expect_code(0)
        .expect_stdout_contains(".TH tgscript 1");
}

#[test]
fn config_check_reports_each_problem_and_passes_a_good_config() {
    let t = TestDir::new();
    t.write(
        "tgscript.toml",
        "[[bot]]\nid = \"a\"\ntoken_env = \"A_TOKEN\"\nscripts = \"a\"\n\n[store]\nurl = \"postgres://tg@127.0.0.1:1/none\"\n",
    );
    t.write("a/s.rhai", "fn on_message(msg) { }\n");
    let run = t.run(&["config", "check"]);
    run.expect_code(1)
        .expect_stdout_contains("problem  A_TOKEN is unset or empty")
        .expect_stdout_contains("problem  store postgres://tg@127.0.0.1:1/none is not reachable")
        .expect_stdout_contains("ok       scenario folder");
    t.write(
        "tgscript.toml",
        "[[bot]]\nid = \"a\"\ntoken_env = \"A_TOKEN\"\nscripts = \"a\"\n",
    );
    let good = t.run_with_env(&["config", "check"], &[("A_TOKEN", TOKEN)]);
    good.expect_code(0)
        .expect_stdout_contains("ok       A_TOKEN is set");
    assert!(
        good.stdout.lines().all(|l| l.starts_with("ok ")),
        "{}",
        good.stdout
    );
    assert!(!good.stdout.contains(TOKEN));
}

#[test]
fn config_show_prints_the_merged_config_with_secrets_redacted() {
    let t = TestDir::new();
    t.write(
        "tgscript.toml",
        "[gateway]\ntoken = \"gateway-secret-1234\"\n[store]\nurl = \"postgres://tg:hunter2pass@db.example/tg\"\n",
    );
    let run = t.run_with_env(
        &["config", "show"],
        &[
            ("TGSCRIPT_LIMITS_TIMEOUT_MS", "777"),
            ("TGSCRIPT_GATEWAY_ADMIN_TOKEN", "admin-secret-5678"),
        ],
    );
    run.expect_code(0)
        .expect_stdout_contains("timeout_ms = 777")
        .expect_stdout_contains("token = \"***\"")
        .expect_stdout_contains("admin_token = \"***\"")
        .expect_stdout_contains("postgres://tg@db.example/tg");
    for secret in ["gateway-secret-1234", "hunter2pass", "admin-secret-5678"] {
        assert!(!run.stdout.contains(secret), "{secret}: {}", run.stdout);
    }
}

#[test]
fn rust_log_is_honoured_when_tgscript_log_is_unset() {
    let t = TestDir::new();
    t.write("scripts/a.rhai", "fn on_message(msg) { }\n");
    let debug = t.run_without(&["run"], &[("RUST_LOG", "debug")], &["TGSCRIPT_LOG"]);
    debug
        .expect_code(0)
        .expect_stderr_contains("limits: max_operations=");
    // At info the limits line is not shown (a debug line now), the flood line is.
    let info = t.run_without(&["run"], &[("RUST_LOG", "info")], &["TGSCRIPT_LOG"]);
    info.expect_code(0).expect_stderr_contains("flood control:");
    assert!(
        !info.stderr.contains("limits: max_operations="),
        "{}",
        info.stderr
    );
}

#[test]
fn backups_are_readable_by_their_owner_only() {
    let t = TestDir::new();
    t.write("one.rhai", "1\n");
    t.run(&["exec", "one.rhai"]).expect_code(0);
    t.run(&["backup", "copy.db"]).expect_code(0);
    let mode = std::fs::metadata(t.path().join("copy.db"))
        .expect("the backup")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

#[test]
fn check_skips_definition_files_and_hidden_folders() {
    let t = TestDir::new();
    t.write(
        "scenarios/a.rhai",
        "fn on_message(msg) { reply(msg, \"hi\"); }\n",
    );
    t.write("scenarios/.hidden/bad.rhai", "nosuch(1);\n");
    t.run(&["definitions", "scenarios/types"]).expect_code(0);
    t.run(&["check", "scenarios"])
        .expect_code(0)
        .expect_stdout("");
    // A script beside them is still checked.
    t.write("scenarios/lib/bad.rhai", "nosuch(1);\n");
    t.run(&["check", "scenarios"])
        .expect_code(1)
        .expect_stdout_contains("lib/bad.rhai:1:1: unknown function 'nosuch'");
}

#[test]
fn a_constants_reader_is_told_to_write_global() {
    let t = TestDir::new();
    t.write(
        "s/a.rhai",
        "const MAX = 3;\nfn on_message(msg) { if msg.text.len() > MAX { reply(msg, \"long\"); } }\n",
    );
    t.run(&["check", "s"])
        .expect_code(1)
        .expect_stdout_contains("Undefined variable: MAX")
        .expect_stdout_contains("write global::MAX");
}

#[test]
fn a_wrong_argument_count_at_run_time_is_told_as_check_tells_it() {
    let t = TestDir::new();
    t.write("one.rhai", "let n = 1;\nsend_message(n);\n");
    t.run(&["exec", "one.rhai"])
        .expect_code(1)
        .expect_stderr_contains("send_message takes 2 or 3 arguments, this call gives 1");
}
