//! `[store] url`: the store in PostgreSQL — what a wrong setting or an unreachable server
//! says, and the data kept there across runs. (The inbox's crash and parking tests run on
//! PostgreSQL too: `inbox.rs`.)

use crate::bots::free_port;
use crate::util::{TOKEN, TestDir};
use std::time::Duration;
use tgscript::sandbox::{BotApiServer, World};

#[test]
fn a_store_url_beside_a_path_or_not_postgres_is_a_configuration_error() {
    let t = TestDir::new();
    t.write("scripts/a.rhai", "fn on_message(msg) { }\n");
    t.write(
        "tgscript.toml",
        "[store]\npath = \"state.db\"\nurl = \"postgres://127.0.0.1/tg\"\n",
    );
    t.run(&["inbox", "list"])
        .expect_code(2)
        .expect_stderr_contains("[store] has both a path and a url: keep one");
    t.write("tgscript.toml", "[store]\nurl = \"mysql://127.0.0.1/tg\"\n");
    t.run(&["inbox", "list"])
        .expect_code(2)
        .expect_stderr_contains("[store] url must be a PostgreSQL URL");
}

#[test]
fn an_unreachable_server_is_a_clear_error_that_shows_no_password() {
    let t = TestDir::new();
    let url = format!("postgres://tg:hunter2secret@127.0.0.1:{}/tg", free_port());
    let run = t.run_with_env(&["inbox", "list"], &[("TGSCRIPT_STORE_URL", &url)]);
    run.expect_code(2)
        .expect_stderr_contains("state database postgres://tg@127.0.0.1:")
        .expect_stderr_contains("PostgreSQL: ");
    assert!(
        !run.stderr.contains("hunter2secret"),
        "the password is not shown: {}",
        run.stderr
    );
}

#[test]
fn jobs_kept_in_postgres_are_there_for_the_next_process() {
    let server = BotApiServer::start(World::empty(), Some(TOKEN)).expect("the Bot API server");
    let t = TestDir::new();
    let url = crate::pg::database_url();
    let api = server.url();
    let env = [
        ("TGSCRIPT_STORE_URL", url.as_str()),
        ("TELOXIDE_TOKEN", TOKEN),
        ("TELOXIDE_API_URL", api.as_str()),
    ];
    t.write(
        "scripts/remind.rhai",
        "fn on_load() {\n    if jobs().len() == 0 { schedule(\"2h\", \"later\", #{n: 7}); }\n    print(`jobs kept: ${jobs().len()}`);\n}\nfn later(data) { }\n",
    );
    for _ in 0..2 {
        let bot = t.spawn(&["run", "scripts"], &env);
        bot.wait_stderr("jobs kept: 1", 1, Duration::from_secs(60));
        let stopped = bot.interrupt();
        assert_eq!(stopped.code, Some(0), "clean stop\n{}", stopped.stderr);
    }
    let listed = t.run_with_env(&["jobs", "list", "--json"], &env);
    listed.expect_code(0);
    let jobs: serde_json::Value = serde_json::from_str(&listed.stdout).expect("JSON");
    assert_eq!(
        jobs.as_array().map(Vec::len),
        Some(1),
        "one job, not one per run: {jobs}"
    );
    assert_eq!(jobs[0]["function"], "later");
    assert_eq!(jobs[0]["data"]["n"], 7);
}

/// End every session of the database at `url` but this one (as a PostgreSQL restart, or a
/// network cut that the server noticed, would).
fn end_sessions(url: &str) {
    crate::gateway::runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(connection);
        let ended = client
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .expect("end the other sessions");
        assert!(!ended.is_empty(), "a session to end");
    });
}

#[test]
fn a_run_whose_postgresql_session_ends_stops_its_bot_and_exits_1() {
    let server = BotApiServer::start(World::empty(), Some(TOKEN)).expect("the Bot API server");
    let t = TestDir::new();
    let url = crate::pg::database_url();
    let api = server.url();
    let env = [
        ("TGSCRIPT_STORE_URL", url.as_str()),
        ("TELOXIDE_TOKEN", TOKEN),
        ("TELOXIDE_API_URL", api.as_str()),
    ];
    t.write("scripts/a.rhai", "fn on_load() { print(\"loaded\"); }\n");
    let mut bot = t.spawn(&["run", "scripts"], &env);
    bot.wait_stderr("loaded", 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    end_sessions(&url);
    // Its claim on the store went with the session: it stops by itself, and says why (that
    // the session ended; or, should the end come while it still starts, the write it broke).
    let stopped = bot.wait();
    assert_eq!(stopped.code, Some(1), "{}", stopped.stderr);
    let said = &stopped.stderr;
    assert!(
        said.contains("the store's PostgreSQL session ended")
            || said.contains("terminating connection due to administrator command"),
        "{said}"
    );
}

/// A PostgreSQL server of its own that takes connections over TLS only (`ssl = on` with a
/// certificate of `certs`' authority, `hostssl` lines only in `pg_hba.conf`).
fn requiring_tls(certs: &crate::certs::Certs) -> crate::pg::Server {
    let started = crate::pg::start(|data, user| {
        for (from, to) in [
            (&certs.server_cert, "server.pem"),
            (&certs.server_key, "server.key"),
        ] {
            let to = data.join(to);
            std::fs::copy(from, &to).map_err(|e| e.to_string())?;
            std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .map_err(|e| e.to_string())?;
            if let Some((uid, gid)) = user {
                std::os::unix::fs::chown(&to, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
            }
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(|e| e.to_string())?;
        text += "\nssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n";
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| e.to_string())
    });
    crate::pg::running(&started);
    started.expect("the server started")
}

#[test]
fn a_server_that_requires_tls_is_used_over_tls_and_refused_without_it() {
    let t = TestDir::new();
    t.write("scripts/a.rhai", "fn on_message(msg) { }\n");
    let certs = crate::certs::make(t.path());
    let server = requiring_tls(&certs);
    let ca = certs.ca.display().to_string();
    let list = |url: &str| t.run_with_env(&["inbox", "list"], &[("TGSCRIPT_STORE_URL", url)]);
    // The server takes nothing but TLS: each of these connected over it.
    for query in [
        format!("?sslmode=verify-full&sslrootcert={ca}"),
        format!("?sslmode=verify-ca&sslrootcert={ca}"),
        "?sslmode=require".to_string(),
        String::new(),
    ] {
        list(&server.database(&query)).expect_code(0);
    }
    let refused = list(&server.database("?sslmode=disable"));
    refused
        .expect_code(2)
        .expect_stderr_contains("no encryption")
        .expect_stderr_contains("the server requires TLS: set sslmode=verify-full");
    // verify-full without the private authority: its certificate is not trusted.
    let untrusted = list(&server.database("?sslmode=verify-full"));
    untrusted
        .expect_code(2)
        .expect_stderr_contains("give sslrootcert=<PEM file of its CA>");
}
