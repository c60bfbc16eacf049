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
    client
        .find(Locator::Css("#login button[type=submit]"))
        .await
        .expect("login button")
        .click()
        .await
        .expect("click");
}

/// What `POST /command` answers a request sent from the page itself (`token`, if any).
async fn from_page(client: &Client, action: &str, token: Option<&str>) -> Value {
    let script = r#"
        const [action, token, done] = arguments;
        const headers = {"Content-Type": "application/json"};
        if (token) headers.Authorization = `Bearer ${token}`;
        fetch("/command", {method: "POST", headers, body: JSON.stringify({action})})
            .then(async (r) => done({status: r.status, body: await r.json()}))
            .catch((e) => done({error: String(e)}));
    "#;
    client
        .execute_async(script, vec![json!(action), json!(token)])
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
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
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
            let answer = from_page(client, action, token).await;
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
        let note = until(
            client,
            "document.getElementById('accounts-note').textContent",
        )
        .await;
        assert!(
            note.as_str()
                .is_some_and(|n| n.contains("list_accounts needs the admin token")),
            "{note}"
        );
        client
            .find(Locator::Id("logout"))
            .await
            .expect("log out")
            .click()
            .await
            .expect("click");
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
        let url = client.current_url().await.expect("url");
        assert!(!url.as_str().contains(ADMIN), "the token is never in the address: {url}");
        std::fs::create_dir_all(&shots).expect("screenshots folder");
        let png = client.screenshot().await.expect("screenshot");
        std::fs::write(shots.join("console-operations.png"), png).expect("write screenshot");

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
                .is_some_and(|n| n.iter().all(|s| s.as_str().is_some_and(|s| s.starts_with("tg_chat_permission(")))),
            "{names} of {count}"
        );

        // Nothing but the console's own origin was ever asked for.
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
