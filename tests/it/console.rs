//! The web console in a real browser: Debian's headless `chromium`, driven over WebDriver by
//! its `chromedriver` (both installed by `.ci/run`), against `tgscript serve`. The browser
//! resolves no name and reaches no address but the loopback one the console is on.

use crate::gateway::{Served, runtime, serve};
use crate::util::TestDir;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "console-user-token";
const ADMIN: &str = "console-admin-token";
const WAIT: Duration = Duration::from_secs(20);

/// A headless Chromium under its chromedriver, stopped when dropped.
struct Browser {
    driver: Child,
    _profile: TestDir,
    client: Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Start chromedriver and, through it, a headless Chromium that reaches loopback only.
async fn browser() -> Browser {
    let port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the console test needs Debian's chromium-driver (apt-get install chromium chromium-driver)");
    let profile = TestDir::new();
    let options = json!({
        "binary": "/usr/bin/chromium",
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            // No other origin: every name fails to resolve, loopback alone is reached.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            format!("--user-data-dir={}", profile.path().display()),
        ],
    });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let started = Instant::now();
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => break client,
            Err(e) if started.elapsed() < WAIT => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no browser session through chromedriver: {e}"),
        }
    };
    Browser {
        driver,
        _profile: profile,
        client,
    }
}

/// Wait until `check` (a JavaScript expression) is truthy; its value.
async fn until(client: &Client, check: &str) -> Value {
    let started = Instant::now();
    loop {
        let value = client
            .execute(
                &format!("const v = ({check}); return v ? v : null;"),
                vec![],
            )
            .await
            .expect("script");
        if !value.is_null() {
            return value;
        }
        assert!(started.elapsed() < WAIT, "never true: {check}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text `check` (a JavaScript expression) gives, once it gives one that is not empty.
async fn until_text(client: &Client, check: &str) -> String {
    let value = until(client, check).await;
    value
        .as_str()
        .unwrap_or_else(|| panic!("{check} gave {value}, not a text"))
        .to_string()
}

/// Whether element `#id` is shown.
async fn shown(client: &Client, id: &str) -> bool {
    client
        .find(Locator::Id(id))
        .await
        .expect(id)
        .is_displayed()
        .await
        .expect("displayed")
}

/// Type `token` into the login form and send it.
async fn log_in(client: &Client, token: &str) {
    let field = client
        .find(Locator::Id("token"))
        .await
        .expect("token field");
    field.send_keys(token).await.expect("type");
    click(client, "#login button[type=submit]").await;
}

/// Click the element `css` selects.
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Type `text` into the field `css` selects, as a user would (key by key).
async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Choose the option shown as `text` in select `#id`, as a user would.
async fn choose(client: &Client, id: &str, text: &str) {
    let option = format!("//select[@id='{id}']/option[text()='{text}']");
    client
        .find(Locator::XPath(&option))
        .await
        .unwrap_or_else(|e| panic!("{option}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("choose {option}: {e}"));
}

/// A JavaScript expression: whether some element `css` selects has `text` in it.
fn has_text(css: &str, text: &str) -> String {
    format!(
        "[...document.querySelectorAll({})].some(e => e.textContent.includes({}))",
        json!(css),
        json!(text)
    )
}

/// How many elements `css` selects have `text` in them, once at least `count` do.
async fn wait_for_text(client: &Client, css: &str, text: &str, count: usize) {
    until(
        client,
        &format!(
            "[...document.querySelectorAll({})].filter(e => e.textContent.includes({})).length >= {count}",
            json!(css),
            json!(text)
        ),
    )
    .await;
}

/// Assert the page asked for nothing but `home`'s origin (its files and `/command`).
async fn only_its_own_origin(client: &Client, home: &str) {
    let origin = home.trim_end_matches('/');
    let fetched = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name);",
            vec![],
        )
        .await
        .expect("resources");
    let fetched = fetched.as_array().cloned().unwrap_or_default();
    assert!(!fetched.is_empty());
    for name in &fetched {
        assert!(
            name.as_str().is_some_and(|n| n.starts_with(origin)),
            "{name} is not the console's"
        );
    }
}

/// Save what the browser shows as `target/screenshots/NAME.png` (the README's come from there).
async fn screenshot(client: &Client, name: &str) {
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots folder");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(shots.join(format!("{name}.png")), png).expect("write screenshot");
}

/// Save what the browser shows as `docs/src/screenshots/NAME.png` (committed: the book shows them).
async fn screenshot_for_docs(client: &Client, name: &str) {
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots folder");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(shots.join(format!("{name}.png")), png).expect("write screenshot");
}

/// What `POST /command` answers `request` sent from the page itself (`token`, if any).
async fn from_page(client: &Client, request: Value, token: Option<&str>) -> Value {
    let script = r#"
        const [request, token, done] = arguments;
        const headers = {"Content-Type": "application/json"};
        if (token) headers.Authorization = `Bearer ${token}`;
        fetch("/command", {method: "POST", headers, body: JSON.stringify(request)})
            .then(async (r) => done({status: r.status, body: await r.json()}))
            .catch((e) => done({error: String(e)}));
    "#;
    client
        .execute_async(script, vec![request, json!(token)])
        .await
        .expect("fetch from the page")
}

fn served() -> Served {
    serve(
        &format!(
            "[gateway]\ntoken = \"{TOKEN}\"\nadmin_token = \"{ADMIN}\"\n\n[[account]]\nid = 1\nbackend = \"sandbox\"\n"
        ),
        &[],
    )
}

#[test]
fn the_console_needs_the_token_shows_the_accounts_and_reference_and_reaches_nothing_else() {
    let served = served();
    let home = format!("http://{}/", served.addr);
    runtime().block_on(async {
        let browser = browser().await;
        let client = &browser.client;
        client.goto(&home).await.expect("open the console");

        // Without the token: the login form alone, and the page's own requests refused.
        until(client, "!document.getElementById('login').hidden").await;
        assert!(shown(client, "login").await);
        for hidden in ["operations", "reference", "nav"] {
            assert!(!shown(client, hidden).await, "{hidden} shown before login");
        }
        for (action, token) in [("reference", None), ("list_accounts", Some("wrong"))] {
            let answer = from_page(client, json!({"action": action}), token).await;
            assert_eq!(answer["status"], json!(401), "{action}: {answer}");
        }

        // A wrong token is refused with words, and the form stays.
        log_in(client, "not-the-token").await;
        let said = until(
            client,
            "document.getElementById('login-error').textContent",
        )
        .await;
        assert_eq!(said, json!("The gateway refused this token."));
        assert!(!shown(client, "operations").await);

        // The user token: in, but the bots and accounts need the admin token, and say so.
        log_in(client, TOKEN).await;
        until(client, "!document.getElementById('operations').hidden").await;
        let note = until_text(client, "document.getElementById('accounts-note').textContent").await;
        assert!(note.contains("list_accounts needs the admin token"), "{note}");
        click(client, "#logout").await;
        assert!(shown(client, "login").await);
        // What the last login saw is gone with it.
        let left = until(
            client,
            "document.getElementById('accounts-note').textContent === '' && 'cleared'",
        )
        .await;
        assert_eq!(left, json!("cleared"));

        // The admin token: the sandbox account with its state; `serve` runs no bots.
        log_in(client, ADMIN).await;
        let state = until(
            client,
            "document.querySelector('#accounts tbody tr td:nth-child(3)')?.textContent",
        )
        .await;
        assert_eq!(state, json!("ready"));
        let id = until(
            client,
            "document.querySelector('#accounts tbody tr td')?.textContent",
        )
        .await;
        assert_eq!(id, json!("1"));
        let bots = until(
            client,
            "document.getElementById('bots-note').textContent.includes('no bots run in this process')",
        )
        .await;
        assert_eq!(bots, json!(true));
        // An account added through the gateway is logged in step by step from the page.
        let added = from_page(
            client,
            json!({"action": "add_account", "userbot_id": 2, "backend": "sandbox"}),
            Some(ADMIN),
        )
        .await;
        assert_eq!(added["status"], json!(200), "{added}");
        until(client, "document.querySelector(\"#accounts button.log-in[data-account='2']\")").await;
        click(client, "#accounts button.log-in[data-account='2']").await;
        for (typed, step, then) in [
            ("+15550001234", "login_start", "wait_code"),
            ("12345", "login_code", "wait_password"),
            ("sandbox", "login_password", "ready"),
        ] {
            let button = until(client, "document.getElementById('account-login-send').textContent").await;
            assert_eq!(button, json!(step));
            type_into(client, "#account-login-value", typed).await;
            click(client, "#account-login-send").await;
            until(
                client,
                &format!("document.getElementById('account-login-state').textContent.includes('state: {then}')"),
            )
            .await;
        }
        let error = until(client, "document.getElementById('account-login-error').textContent === '' && 'none'").await;
        assert_eq!(error, json!("none"));
        let state = until(
            client,
            "[...document.querySelectorAll('#accounts tbody tr')].find(r => r.cells[0].textContent === '2')?.cells[2].textContent === 'ready' && 'ready'",
        )
        .await;
        assert_eq!(state, json!("ready"));
        assert!(!shown(client, "account-login-step").await, "no step is left");

        let url = client.current_url().await.expect("url");
        assert!(!url.as_str().contains(ADMIN), "the token is never in the address: {url}");

        // Kept for the tab's session: a reload stays logged in.
        client.refresh().await.expect("reload");
        until(client, "!document.getElementById('operations').hidden").await;
        assert!(!shown(client, "login").await);

        // The reference: every builtin from the same metadata as `tgscript docs`, filtered.
        client.goto(&format!("{home}#reference")).await.expect("reference");
        let count = until(
            client,
            "document.querySelectorAll('#builtins .builtin').length > 20 && document.querySelectorAll('#builtins .builtin').length",
        )
        .await;
        let filter = client.find(Locator::Id("filter")).await.expect("filter");
        filter.send_keys("tg_chat_permission").await.expect("type");
        let names = until(
            client,
            "(() => { const n = [...document.querySelectorAll('#builtins .builtin h3')].map(h => h.textContent); \
             return n.length > 0 && n.length < 5 && n; })()",
        )
        .await;
        assert!(
            names
                .as_array()
                .is_some_and(|n| n.iter().all(|s| s.as_str().is_some_and(|s| s.starts_with("tg_chat_permission")))),
            "{names} of {count}"
        );

        only_its_own_origin(client, &home).await;
        browser.client.clone().close().await.expect("close the browser");
    });
    let finished = served.bot.terminate();
    for secret in [TOKEN, ADMIN] {
        assert!(!finished.stderr.contains(secret), "a token was logged");
    }
}

#[test]
fn the_page_is_served_with_a_policy_that_allows_only_its_own_origin() {
    let served = served();
    let get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&served.addr).expect("connect");
        use std::io::{Read, Write};
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            served.addr
        )
        .expect("request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        answer
    };
    let page = get("/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let lower = page.to_ascii_lowercase();
    assert!(
        lower.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{page}"
    );
    assert!(lower.contains("content-type: text/html"), "{page}");
    assert!(page.contains("<form id=\"login\""), "{page}");
    assert!(!page.contains(TOKEN) && !page.contains(ADMIN));
    let script = get("/console/console.js");
    assert!(
        script
            .to_ascii_lowercase()
            .contains("content-type: text/javascript")
    );
    assert!(
        script.contains("sessionStorage"),
        "the token is kept for the session"
    );
    // A request from another origin's page is still refused, token or not.
    let mut stream = std::net::TcpStream::connect(&served.addr).expect("connect");
    use std::io::{Read, Write};
    let body = r#"{"action":"list_accounts"}"#;
    write!(
        stream,
        "POST /command HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://elsewhere.example\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
        addr = served.addr
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
}

/// A scenario that fails on "boom" until it is mended.
const BOOM: &str =
    "fn on_message(msg) {\n    if msg.text == \"boom\" { throw \"not ready yet\"; }\n}\n";

/// `tgscript run` on the sandbox with the example scenarios (and [`BOOM`]), the gateway on a
/// free loopback port; stdin stays open (its end would stop the run).
fn playground() -> (TestDir, crate::util::Background, String) {
    let dir = TestDir::new();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    for entry in std::fs::read_dir(&examples).expect("scripts/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
        dir.write(
            &format!("scripts/{name}"),
            &std::fs::read_to_string(&path).expect("read"),
        );
    }
    dir.write("scripts/boom.rhai", BOOM);
    dir.write(
        "tgscript.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\nadmin_token = \"{ADMIN}\"\n"
        ),
    );
    let run = dir.spawn_with_input(&["run", "scripts"], &[], Stdio::piped());
    let addr = run.gateway_address();
    (dir, run, addr)
}

/// Send `line` from the chat pane and wait until the gateway answered it (the field empties).
async fn say(client: &Client, line: &str) {
    type_into(client, "#pg-line", line).await;
    click(client, "#pg-send").await;
    until(
        client,
        "document.getElementById('pg-line').value === '' && !document.getElementById('pg-send').disabled",
    )
    .await;
}

/// Replace the editor's text by typing `source`, then save and wait for the save note to
/// start with `outcome`.
async fn edit_and_save(client: &Client, source: &str, outcome: &str) -> String {
    let editor = client.find(Locator::Id("pg-source")).await.expect("editor");
    editor.clear().await.expect("clear the editor");
    editor.send_keys(source).await.expect("type the scenario");
    click(client, "#pg-save").await;
    until_text(
        client,
        &format!(
            "(() => {{ const t = document.getElementById('pg-save-note').textContent; return t.startsWith({}) && t; }})()",
            json!(outcome)
        ),
    )
    .await
}

#[test]
fn the_playground_chats_edits_with_inline_problems_and_retries_a_parked_update() {
    let (_dir, run, addr) = playground();
    let home = format!("http://{addr}/");
    runtime().block_on(async {
        let browser = browser().await;
        let client = &browser.client;
        client.goto(&home).await.expect("open the console");
        until(client, "!document.getElementById('login').hidden").await;
        log_in(client, ADMIN).await;
        until(client, "!document.getElementById('operations').hidden").await;
        client.goto(&format!("{home}#playground")).await.expect("playground");
        until(client, "document.getElementById('pg-bot').value === 'default'").await;
        until(client, &has_text("#pg-file option", "anti_spam.rhai")).await;

        // The anti-spam flow typed in the chat pane: two warnings, then the mute.
        for line in ["hello everyone", "free crypto here!", "CASINO bonus", "earn $$$ now"] {
            say(client, line).await;
        }
        wait_for_text(client, "#pg-chat li.msg.bot", "Warning 1/3: no spam here.", 1).await;
        wait_for_text(client, "#pg-chat li.msg.bot", "Warning 2/3: no spam here.", 1).await;
        wait_for_text(client, "#pg-chat li.msg.bot", "Alice is muted after 3 warnings.", 1).await;
        wait_for_text(client, "#pg-chat li.msg.system", "→ restrictChatMember", 1).await;
        // The live pane has the call with its JSON.
        let call = until(
            client,
            "[...document.querySelectorAll('#pg-activity li.act-call')].map(e => e.textContent).find(t => t.includes('restrictChatMember'))",
        )
        .await;
        let call = call.as_str().unwrap_or_default();
        assert!(call.contains(r#""can_send_messages": false"#), "{call}");
        assert!(call.contains(r#""user_id": 1001"#), "alice is 1001: {call}");
        // The scenario at work beside its chat, for the README.
        choose(client, "pg-file", "anti_spam.rhai").await;
        until(client, "document.getElementById('pg-source').value.includes('MAX_WARNINGS')").await;
        client.set_window_size(1280, 1250).await.expect("a taller window");
        screenshot(client, "console-playground").await;
        client.set_window_size(1280, 900).await.expect("the usual window");

        // A new scenario typed in the editor and saved takes effect on the next message.
        type_into(client, "#pg-new-name", "greet").await;
        click(client, "#pg-new").await;
        until(client, "document.getElementById('pg-file').value === 'greet.rhai'").await;
        let v1 = "fn on_message(msg) {\n    if msg.text == \"ping\" {\n        print(`ping from ${msg.from.first_name}`);\n        reply(\"pong 1\");\n    }\n}\n";
        let note = edit_and_save(client, v1, "loaded").await;
        assert!(note.contains("greet.rhai: ok, handlers [on_message]"), "{note}");
        choose(client, "pg-user", "bob").await;
        say(client, "ping").await;
        wait_for_text(client, "#pg-chat li.msg.bot", "pong 1", 1).await;
        // What the script printed (in its worker process) shows in the live pane.
        wait_for_text(client, "#pg-activity li.act-print", "ping from Bob", 1).await;
        let v2 = v1.replace("pong 1", "pong 2");
        edit_and_save(client, &v2, "reloaded").await;
        say(client, "ping").await;
        wait_for_text(client, "#pg-chat li.msg.bot", "pong 2", 1).await;

        // A syntax error shows inline at its line as it is typed, the save is refused, and
        // the last good version keeps running.
        let broken = "fn on_message(msg) {\n    if msg.text == \"ping\" {\n        reply(\"pong 3\");\n        let = 5;\n    }\n}\n";
        let editor = client.find(Locator::Id("pg-source")).await.expect("editor");
        editor.clear().await.expect("clear");
        editor.send_keys(broken).await.expect("type");
        let marked = until(
            client,
            "(() => { const p = document.querySelector('#pg-highlight .problem'); return p && [p.dataset.line, p.querySelector('.diag')?.textContent]; })()",
        )
        .await;
        assert_eq!(marked[0], json!("4"), "{marked}");
        assert!(
            marked[1].as_str().is_some_and(|d| d.contains("← 4:13 ")),
            "{marked}"
        );
        wait_for_text(client, "#pg-problems li", "line 4", 1).await;
        click(client, "#pg-save").await;
        let refused = until_text(
            client,
            "(() => { const t = document.getElementById('pg-save-note').textContent; return t.startsWith('not saved') && t; })()",
        )
        .await;
        assert!(
            refused.contains("greet.rhai:4:13") && refused.contains("keeps running"),
            "{refused}"
        );
        say(client, "ping").await;
        wait_for_text(client, "#pg-chat li.msg.bot", "pong 2", 2).await;
        assert!(
            !client
                .execute(&format!("return {};", has_text("#pg-chat li.msg.bot", "pong 3")), vec![])
                .await
                .expect("script")
                .as_bool()
                .unwrap_or(true),
            "the broken version never ran"
        );

        // A failing update is parked; mended in the editor, it is retried from the inbox page.
        say(client, "boom").await;
        // The failure in the live pane, at its file:line:col.
        wait_for_text(client, "#pg-activity li.act-error", "boom.rhai:2:", 1).await;
        client.goto(&format!("{home}#operations")).await.expect("operations");
        let parked = until_text(
            client,
            "(() => { const r = [...document.querySelectorAll('#inbox tbody tr')].find(r => r.textContent.includes('parked')); return r && r.textContent; })()",
        )
        .await;
        assert!(
            parked.contains("not ready yet") && parked.contains("boom.rhai"),
            "{parked}"
        );
        until(client, &has_text("#reloads li.reload.ok", "greet.rhai")).await;
        until(client, &has_text("#reloads li.reload", "loaded")).await;
        let bot = until(client, "document.querySelector('#bots tbody tr td')?.textContent").await;
        assert_eq!(bot, json!("default"));
        screenshot(client, "console-operations").await;

        client.goto(&format!("{home}#playground")).await.expect("playground");
        until(client, &has_text("#pg-file option", "boom.rhai")).await;
        choose(client, "pg-file", "boom.rhai").await;
        until(client, "document.getElementById('pg-source').value.includes('not ready yet')").await;
        let mended = BOOM.replace("throw \"not ready yet\";", "reply(\"boom handled\");");
        edit_and_save(client, &mended, "reloaded").await;

        client.goto(&format!("{home}#operations")).await.expect("operations");
        until(client, "document.querySelector('#inbox button.retry')").await;
        click(client, "#inbox button.retry").await;
        let queued = until_text(client, "document.getElementById('inbox-note').textContent").await;
        assert!(queued.contains("queued for another try"), "{queued}");
        until(
            client,
            "![...document.querySelectorAll('#inbox tbody tr')].some(r => r.textContent.includes('parked') || r.textContent.includes('retry'))",
        )
        .await;
        client.goto(&format!("{home}#playground")).await.expect("playground");
        wait_for_text(client, "#pg-chat li.msg.bot", "boom handled", 1).await;
        only_its_own_origin(client, &home).await;
        browser.client.clone().close().await.expect("close the browser");
    });
    let finished = run.interrupt();
    for secret in [TOKEN, ADMIN] {
        assert!(
            !finished.all_output().contains(secret),
            "a token was logged"
        );
    }
}

const TENANT: &str = "console-tenant-token";

/// `tgscript run` on the sandbox with the tutorial's scenario (and [`BOOM`]), the gateway on
/// a free loopback port with the user, admin and a tenant's token; stdin closed (the gateway
/// keeps the sandbox on).
fn tutorial() -> (TestDir, crate::util::Background, String) {
    let dir = TestDir::new();
    let welcome =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tutorial/welcome.rhai");
    dir.write(
        "scripts/welcome.rhai",
        &std::fs::read_to_string(welcome).expect("the tutorial's scenario"),
    );
    dir.write("scripts/boom.rhai", BOOM);
    dir.write(
        "tgscript.toml",
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\nadmin_token = \"{ADMIN}\"\n\n\
             [[tenant]]\nname = \"acme\"\ntoken_env = \"CONSOLE_TENANT\"\n"
        ),
    );
    let run = dir.spawn(&["run", "scripts"], &[("CONSOLE_TENANT", TENANT)]);
    let addr = run.gateway_address();
    (dir, run, addr)
}

#[test]
fn the_console_serves_the_tutorial_with_private_chats_join_charts_and_a_rendered_reference() {
    let (_dir, run, addr) = tutorial();
    let home = format!("http://{addr}/");
    runtime().block_on(async {
        let browser = browser().await;
        let client = &browser.client;
        client.goto(&home).await.expect("open the console");
        until(client, "!document.getElementById('login').hidden").await;

        // The gateway's token: the Playground says what it needs instead of logging out.
        log_in(client, TOKEN).await;
        until(client, "!document.getElementById('operations').hidden").await;
        client.goto(&format!("{home}#playground")).await.expect("playground");
        let needs = until_text(
            client,
            "!document.getElementById('pg-needs').hidden && document.getElementById('pg-needs').textContent",
        )
        .await;
        assert!(needs.contains("admin token") && needs.contains("tenant's token"), "{needs}");
        let said = until_text(client, "document.getElementById('pg-needs-said').textContent").await;
        assert!(said.contains("activity needs the admin token or a tenant's"), "{said}");
        assert!(!shown(client, "login").await, "still logged in");
        assert!(!shown(client, "pg-main").await);
        click(client, "#logout").await;

        // A tenant's token: the Playground opens and keeps polling; the sandbox chat is the
        // admin's, and the pane says so.
        // (The address still names the Playground: a login opens it.)
        log_in(client, TENANT).await;
        until(client, "!document.getElementById('playground').hidden").await;
        until(client, "!document.getElementById('pg-main').hidden").await;
        until(client, "document.getElementById('pg-note').textContent.includes('no bots')").await;
        type_into(client, "#pg-line", "hello").await;
        click(client, "#pg-send").await;
        let refused = until_text(client, "document.getElementById('pg-chat-error').textContent").await;
        assert!(refused.contains("sandbox_chat needs the admin token"), "{refused}");
        assert!(!shown(client, "login").await, "the tenant's token stays logged in");
        assert!(!shown(client, "pg-needs").await);
        click(client, "#logout").await;

        // The admin token: the tutorial in the chat pane.
        log_in(client, ADMIN).await;
        until(client, "!document.getElementById('playground').hidden").await;
        until(client, &has_text("#pg-file option", "welcome.rhai")).await;
        choose(client, "pg-file", "welcome.rhai").await;
        until(client, "document.getElementById('pg-source').value.includes('on_command')").await;
        for line in ["/start", "Hi there!", "How does this work?"] {
            say(client, line).await;
        }
        wait_for_text(client, "#pg-chat li.msg.bot", "Hello, Alice! Write anything and I will count it.", 1).await;
        wait_for_text(client, "#pg-chat li.msg.bot", "That is message number 2 from you.", 1).await;
        client.set_window_size(1280, 1000).await.expect("a taller window");
        screenshot_for_docs(client, "tutorial").await;
        client.set_window_size(1280, 900).await.expect("the usual window");

        // Join offers who is not a member; who joined is then one to send as.
        let offered = until(client, "[...document.getElementById('pg-join-who').options].map(o => o.value)").await;
        assert!(offered.as_array().is_some_and(|o| !o.is_empty() && !o.contains(&json!("alice"))), "{offered}");
        choose(client, "pg-join-who", "dave").await;
        click(client, "#pg-join").await;
        wait_for_text(client, "#pg-chat li.msg.user", "dave joined the group", 1).await;
        until(client, &has_text("#pg-user option", "dave")).await;
        until(client, "![...document.getElementById('pg-join-who').options].some(o => o.value === 'dave')").await;
        assert_eq!(
            client.execute("return document.getElementById('pg-chat-error').textContent;", vec![]).await.expect("script"),
            json!("")
        );

        // A private chat with the bot, from the pane.
        choose(client, "pg-user", "dave").await;
        choose(client, "pg-chat-in", "in a private chat with the bot").await;
        say(client, "hello in private").await;
        wait_for_text(client, "#pg-chat li.msg.user.private", "dave (private): hello in private", 1).await;
        wait_for_text(client, "#pg-chat li.msg.bot.private", "→ dave (private): That is message number 1 from you.", 1).await;

        // Traffic for the charts, until the figures show it over at least six steps: handled
        // messages, and now and then one that fails and is parked.
        choose(client, "pg-chat-in", "in the group").await;
        let busy_steps = "(figures) => figures.updates_per_second.filter(v => v > 0).length";
        for n in 0.. {
            let line = match n % 12 {
                11 => "boom".to_string(),
                _ => format!("message {n}"),
            };
            say(client, &line).await;
            let bots = from_page(client, json!({"action": "list_bots"}), Some(ADMIN)).await;
            let figures = &bots["body"]["data"]["bots"][0]["figures"];
            let busy = client
                .execute(&format!("return ({busy_steps})(arguments[0]);"), vec![figures.clone()])
                .await
                .expect("script");
            if busy.as_u64().is_some_and(|steps| steps >= 6) && n >= 24 {
                break;
            }
            assert!(n < 600, "the figures never showed six busy steps: {figures}");
        }
        wait_for_text(client, "#pg-activity li.act-error", "boom.rhai:2:", 2).await;

        // Operations: four charts per bot, drawn as SVG from the figures the process keeps.
        client.goto(&format!("{home}#operations")).await.expect("operations");
        until(client, "document.querySelectorAll('#charts .bot-charts svg.chart').length === 4").await;
        let drawn = until(
            client,
            "(() => { const c = document.querySelector('#charts .bot-charts'); \
               const line = c.querySelector('svg.chart-updates_per_second polyline'); \
               const latency = c.querySelector('svg.chart-latency_ms polyline'); \
               const failed = c.querySelectorAll('svg.chart-failures rect.bar').length; \
               const parked = c.querySelectorAll('svg.chart-parked rect.bar').length; \
               return line && latency && failed > 0 && parked > 0 && [c.querySelector('h3').textContent, failed, parked]; })()",
        )
        .await;
        assert_eq!(drawn[0], json!("default"), "{drawn}");
        let rate = until_text(
            client,
            "document.querySelector('#charts svg.chart-updates_per_second title')?.textContent",
        )
        .await;
        assert!(rate.starts_with("updates per second: max "), "{rate}");
        client.set_window_size(1280, 1100).await.expect("a taller window");
        screenshot_for_docs(client, "operations").await;
        client.set_window_size(1280, 900).await.expect("the usual window");

        // The Reference: one card per builtin, its overloads together, Markdown rendered.
        let reference = from_page(client, json!({"action": "reference"}), Some(ADMIN)).await;
        let builtins = reference["body"]["data"]["builtins"].as_array().cloned().unwrap_or_default();
        let names: std::collections::BTreeSet<&str> =
            builtins.iter().filter_map(|b| b["name"].as_str()).collect();
        assert!(builtins.len() > names.len(), "some builtins have overloads");
        client.goto(&format!("{home}#reference")).await.expect("reference");
        let cards = until(
            client,
            &format!("document.querySelectorAll('#builtins .builtin').length === {} && document.querySelectorAll('#builtins .builtin h3').length", names.len()),
        )
        .await;
        assert_eq!(cards, json!(names.len()));
        let overloads = until(
            client,
            "[...document.querySelectorAll('#builtins .builtin')].find(c => c.querySelector('h3').textContent === 'edit_message_text')?.querySelectorAll('ul.overloads li').length",
        )
        .await;
        let expected = builtins.iter().filter(|b| b["name"] == "edit_message_text").count();
        assert_eq!(overloads, json!(expected));
        let rendered = client
            .execute(
                "const prose = [...document.querySelectorAll('#builtins .builtin > :not(pre)')].map(e => e.innerText); \
                 return {raw: prose.flatMap(t => t.split('\\n')).filter(l => /^\\s*#/.test(l) || l.includes('```')).length, \
                         headings: document.querySelectorAll('#builtins .builtin h4').length, \
                         code: document.querySelectorAll('#builtins .builtin pre.code').length, \
                         inline: document.querySelectorAll('#builtins .builtin p code').length, \
                         height: document.documentElement.scrollHeight};",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(rendered["raw"], json!(0), "no raw Markdown: {rendered}");
        for rendered_as in ["headings", "code", "inline"] {
            assert!(rendered[rendered_as].as_u64().is_some_and(|n| n > 0), "{rendered_as}: {rendered}");
        }
        only_its_own_origin(client, &home).await;
        browser.client.clone().close().await.expect("close the browser");
    });
    let finished = run.terminate();
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    for secret in [TOKEN, ADMIN, TENANT] {
        assert!(
            !finished.all_output().contains(secret),
            "a token was logged"
        );
    }
}
