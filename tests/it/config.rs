//! Config loading: file, environment overrides, and errors naming file, key and type.

use crate::util::TestDir;
use tgscript::config::{Backend, Config, ConfigError};

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_without_a_file() {
    let config = Config::from_sources(None, env(&[])).expect("defaults load");
    assert_eq!(config.limits, tgscript::engine::Limits::default());
    assert_eq!(config.scripts.dir, std::path::PathBuf::from("scripts"));
    assert!(config.accounts.is_empty());
}

#[test]
fn file_values_and_env_overrides() {
    let text = "default_account = 1\n[limits]\ntimeout_ms = 250\nmax_map_size = 7\n[[account]]\nid = 1\nbackend = \"sandbox\"\n";
    let config = Config::from_sources(
        Some(("tgscript.toml", text)),
        env(&[
            ("TGSCRIPT_LIMITS_TIMEOUT_MS", "900"),
            ("TGSCRIPT_GATEWAY_TOKEN", "12345"),
            ("TGSCRIPT_LOG", "debug"),
            ("UNRELATED", "x"),
        ]),
    )
    .expect("config loads");
    assert_eq!(config.limits.timeout_ms, 900, "env wins over the file");
    assert_eq!(config.limits.max_map_size, 7);
    assert_eq!(config.default_account, Some(1));
    assert_eq!(config.accounts[0].backend, Backend::Sandbox);
    let token = config.gateway.token.expect("token from env");
    assert_eq!(token.expose(), "12345");
    assert_eq!(
        format!("{token:?}"),
        "Secret(***)",
        "secrets never show in Debug"
    );
}

#[test]
fn wrong_type_names_file_key_and_expected_type() {
    let err = Config::from_sources(
        Some(("conf/tgscript.toml", "[limits]\ntimeout_ms = \"soon\"\n")),
        env(&[]),
    )
    .expect_err("a string is not a number");
    let text = err.to_string();
    assert!(matches!(err, ConfigError::Invalid { .. }));
    assert!(
        text.starts_with("conf/tgscript.toml: key `limits.timeout_ms`: "),
        "{text}"
    );
    assert!(text.contains("expected u64"), "{text}");
}

#[test]
fn wrong_env_type_names_the_variable() {
    let err = Config::from_sources(None, env(&[("TGSCRIPT_LIMITS_MAX_OPERATIONS", "lots")]))
        .expect_err("not a number");
    let text = err.to_string();
    assert!(
        text.starts_with(
            "environment variable TGSCRIPT_LIMITS_MAX_OPERATIONS: key `limits.max_operations`"
        ),
        "{text}"
    );
}

#[test]
fn unknown_key_is_reported_with_the_known_ones() {
    let err = Config::from_sources(Some(("t.toml", "[limits]\ntimeout = 5\n")), env(&[]))
        .expect_err("typo");
    let text = err.to_string();
    assert!(text.contains("unknown field `timeout`"), "{text}");
    assert!(text.contains("timeout_ms"), "{text}");
}

#[test]
fn syntax_error_names_file_and_line() {
    let err = Config::from_sources(Some(("t.toml", "[limits]\n\ntimeout_ms = = 3\n")), env(&[]))
        .expect_err("bad toml");
    let text = err.to_string();
    assert!(text.starts_with("t.toml: invalid TOML: "), "{text}");
    assert!(text.contains("line 3"), "{text}");
}

#[test]
fn binary_reports_config_errors_with_exit_2() {
    let t = TestDir::new();
    t.write("tgscript.toml", "[limits]\nmax_operations = -1\n");
    t.write("a.rhai", "1");
    t.run(&["exec", "a.rhai"])
        .expect_code(2)
        .expect_stderr_contains("tgscript.toml: key `limits.max_operations`");
}

#[test]
fn explicit_config_file_is_used_and_must_exist() {
    let t = TestDir::new();
    t.write("conf/custom.toml", "[limits]\nmax_operations = 1000\n");
    t.write("a.rhai", "loop {}");
    t.run(&["--config", "conf/custom.toml", "exec", "a.rhai"])
        .expect_code(1)
        .expect_stderr_contains("more than 1000 operations");
    t.run(&["--config", "missing.toml", "exec", "a.rhai"])
        .expect_code(2)
        .expect_stderr_contains("cannot read config file missing.toml");
}

#[test]
fn inbox_settings_from_file_and_env_and_zero_tries_refused() {
    let config = Config::from_sources(
        Some(("tgscript.toml", "[inbox]\nenabled = false\n")),
        env(&[("TGSCRIPT_INBOX_MAX_ATTEMPTS", "5")]),
    )
    .expect("config loads");
    assert!(!config.inbox.enabled);
    assert_eq!(config.inbox.max_attempts, 5);
    let defaults = Config::from_sources(None, env(&[])).expect("defaults");
    assert!(defaults.inbox.enabled, "the inbox is on by default");
    assert_eq!(defaults.inbox.max_attempts, 3);

    let err = Config::from_sources(None, env(&[("TGSCRIPT_INBOX_MAX_ATTEMPTS", "0")]))
        .expect_err("zero tries");
    assert_eq!(
        err.to_string(),
        "environment variable TGSCRIPT_INBOX_MAX_ATTEMPTS: key `inbox.max_attempts`: must be at least 1 (the first try counts)"
    );
    let err = Config::from_sources(
        Some(("tgscript.toml", "[inbox]\nmax_attempts = 0\n")),
        env(&[]),
    )
    .expect_err("zero tries");
    assert!(
        err.to_string()
            .starts_with("tgscript.toml: key `inbox.max_attempts`"),
        "{err}"
    );
}

#[test]
fn an_empty_gateway_token_is_an_error_not_no_token() {
    let err = Config::from_sources(None, env(&[("TGSCRIPT_GATEWAY_TOKEN", "")]))
        .expect_err("an empty token");
    let text = err.to_string();
    assert!(text.contains("gateway.token"), "{text}");
    assert!(text.contains("TGSCRIPT_GATEWAY_TOKEN"), "{text}");
    let file = Config::from_sources(
        Some(("tgscript.toml", "[gateway]\ntoken = \" \"\n")),
        env(&[]),
    )
    .expect_err("a blank token in the file");
    assert!(file.to_string().contains("is empty"), "{file}");
}

#[test]
fn a_tgscript_variable_that_sets_nothing_is_warned_about() {
    let config = Config::from_sources(
        None,
        env(&[
            ("TGSCRIPT_LIMTS_TIMEOUT_MS", "900"),
            ("TGSCRIPT_LOG", "debug"),
            ("TGSCRIPT_LIMITS_TIMEOUT_MS", "800"),
        ]),
    )
    .expect("loads");
    assert_eq!(config.limits.timeout_ms, 800);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(
        config.warnings[0].contains("TGSCRIPT_LIMTS_TIMEOUT_MS sets nothing")
            && config.warnings[0].contains("did you mean TGSCRIPT_LIMITS_"),
        "{:?}",
        config.warnings
    );
    let t = TestDir::new();
    t.write("one.rhai", "1");
    t.run_with_env(&["exec", "one.rhai"], &[("TGSCRIPT_GATEWY_TOKEN", "x")])
        .expect_code(0)
        .expect_stderr_contains("TGSCRIPT_GATEWY_TOKEN sets nothing");
}

#[test]
fn zero_means_no_limit_for_the_timeout_too() {
    let t = TestDir::new();
    // Over the default 1 s in one sleep, refused at once by default; no limit with 0.
    t.write("nap.rhai", "sleep(1.2);\n\"rested\"");
    t.run(&["exec", "nap.rhai"])
        .expect_code(1)
        .expect_stderr_contains("timeout_ms");
    t.run_with_env(
        &["exec", "nap.rhai"],
        &[("TGSCRIPT_LIMITS_TIMEOUT_MS", "0")],
    )
    .expect_code(0)
    .expect_stdout("rested\n");
    t.write("long.rhai", &format!("{}1", "let x = 1;\n".repeat(15_000)));
    t.run_with_env(
        &["exec", "long.rhai"],
        &[("TGSCRIPT_LIMITS_MAX_SCRIPT_SIZE", "0")],
    )
    .expect_code(0)
    .expect_stdout("1\n");
}

#[test]
fn lists_and_isolation_settings_come_from_the_environment_too() {
    let config = Config::from_sources(
        None,
        env(&[
            (
                "TGSCRIPT_GATEWAY_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("TGSCRIPT_SCRIPTS_ISOLATION", "inline"),
            ("TGSCRIPT_SCRIPTS_WORKERS", "3"),
        ]),
    )
    .expect("config loads");
    assert_eq!(
        config.gateway.allowed_origins,
        ["https://a.example", "https://b.example"]
    );
    assert_eq!(
        config.scripts.isolation,
        tgscript::config::Isolation::Inline
    );
    assert_eq!(config.scripts.worker_count(), 3);
    let config = Config::from_sources(
        None,
        env(&[(
            "TGSCRIPT_GATEWAY_ALLOWED_ORIGINS",
            r#"["https://c.example"]"#,
        )]),
    )
    .expect("a TOML list loads");
    assert_eq!(config.gateway.allowed_origins, ["https://c.example"]);
    let Err(error) = Config::from_sources(
        Some(("tgscript.toml", "[scripts]\nisolation = \"thread\"\n")),
        env(&[]),
    ) else {
        panic!("an unknown isolation is an error");
    };
    let error = error.to_string();
    assert!(
        error.contains("scripts.isolation")
            && error.contains("process")
            && error.contains("inline"),
        "{error}"
    );
    // The default: scripts in worker processes.
    let config = Config::from_sources(None, env(&[])).expect("defaults");
    assert_eq!(
        config.scripts.isolation,
        tgscript::config::Isolation::Process
    );
}

#[test]
fn a_tenant_or_owner_that_is_not_a_name_is_refused_with_its_key() {
    for (text, key) in [
        (
            "[[bot]]\nid = \"a\"\ntoken_env = \"T\"\nscripts = \"a\"\ntenant = \"../b\"\n",
            "bot[0].tenant",
        ),
        (
            "[[account]]\nid = 1\nbackend = \"sandbox\"\nowner = \"a b\"\n",
            "account[0].owner",
        ),
    ] {
        let err = Config::from_sources(Some(("t.toml", text)), env(&[]))
            .expect_err("refused")
            .to_string();
        assert!(err.contains(key), "{err}");
        assert!(err.contains("is not a tenant name"), "{err}");
    }
}

#[test]
fn a_tenant_entry_that_cannot_work_is_refused_with_its_key() {
    for (text, key, says) in [
        (
            "[gateway]\ntoken = \"t\"\n[[tenant]]\nname = \"a/b\"\n",
            "tenant[0].name",
            "is not a tenant name",
        ),
        (
            "[gateway]\ntoken = \"t\"\n[[tenant]]\nname = \"a\"\n[[tenant]]\nname = \"a\"\n",
            "tenant[1].name",
            "configured twice",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntoken_env = \"A_TOKEN\"\n",
            "tenant[0].token_env",
            "needs [gateway] token",
        ),
        (
            "[gateway]\ntoken = \"t\"\n[[tenant]]\nname = \"a\"\ntoken_env = \" \"\n",
            "tenant[0].token_env",
            "is empty",
        ),
    ] {
        let err = Config::from_sources(Some(("t.toml", text)), env(&[]))
            .expect_err("refused")
            .to_string();
        assert!(err.contains(key), "{key}: {err}");
        assert!(err.contains(says), "{says}: {err}");
    }
}
