//! An authenticated cluster: two instances on a real nats-server that requires TLS with
//! client certificates and a user and password, and the cluster key. A NATS client without
//! credentials is refused by the server; one with the credentials but not the key (the tests'
//! own async-nats client) forges relayed requests — read and write a script, log an account
//! out, terminate its session, retry a parked update — an account event and a notice, and
//! replays a genuine request: none is carried out (each counted as dropped by the instance
//! that got it), and what it sniffs of a genuine script read does not hold the script; a
//! lease it writes makes no instance live.

use crate::bots::{get, token};
use crate::certs::{Certs, make};
use crate::cluster::{ClusterBot, KEY, KEY_VAR, WAIT, bots, config_of, instance_with};
use crate::nats::Nats;
use crate::protocol::command;
use crate::util::{Background, TestDir};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tgscript::cluster::assign;

const ADMIN: &str = "cluster-auth-admin-token";
const USER: &str = "tgscript";
const PASSWORD: &str = "n4ts-pa55word-of-the-tests";
/// In a script of the bot: read over the gateway, never seen on the wire.
const MARKER: &str = "zq8-sniffed-never";
/// The gateway and a sandbox account 7, before `[cluster]`.
const HEAD: &str = "[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"cluster-auth-admin-token\"\n\n[[account]]\nid = 7\nbackend = \"sandbox\"\n\n";

/// What the intruder saw on NATS: subject and payload of each message.
type Sniffed = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A nats-server that takes TLS connections only, with a client certificate of `certs`'
/// authority, from user [`USER`] with [`PASSWORD`].
fn secured(certs: &Certs) -> Nats {
    Nats::start_with(&format!(
        "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  ca_file: \"{}\"\n  verify: true\n}}\nauthorization {{\n  users: [ {{ user: \"{USER}\", password: \"{PASSWORD}\" }} ]\n}}\n",
        certs.server_cert.display(),
        certs.server_key.display(),
        certs.ca.display()
    ))
}

/// The variables an instance needs for NATS's TLS and user (the cluster key comes from
/// `instance_with`).
fn credentials(certs: &Certs) -> Vec<(String, String)> {
    [
        (
            "TGSCRIPT_CLUSTER_NATS_CA_FILE",
            certs.ca.display().to_string(),
        ),
        (
            "TGSCRIPT_CLUSTER_NATS_CERT_FILE",
            certs.client_cert.display().to_string(),
        ),
        (
            "TGSCRIPT_CLUSTER_NATS_KEY_FILE",
            certs.client_key.display().to_string(),
        ),
        ("TGSCRIPT_CLUSTER_NATS_USER", USER.to_string()),
        (
            "TGSCRIPT_CLUSTER_NATS_PASSWORD_ENV",
            "NATS_PASSWORD".to_string(),
        ),
        ("NATS_PASSWORD", PASSWORD.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A client of `nats` over TLS with `certs`' client certificate, as `user` (none: without
/// a user).
async fn client(
    nats: &Nats,
    certs: &Certs,
    user: Option<(&str, &str)>,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    let mut options = async_nats::ConnectOptions::new()
        .add_root_certificates(certs.ca.clone())
        .add_client_certificate(certs.client_cert.clone(), certs.client_key.clone())
        .require_tls(true)
        .connection_timeout(Duration::from_secs(5));
    if let Some((user, password)) = user {
        options = options.user_and_password(user.into(), password.into());
    }
    options.connect(nats.url()).await
}

/// The messages `instance` dropped unopened so far, by reason (from its `/metrics`).
fn dropped(instance: &Background) -> BTreeMap<String, u64> {
    let (status, metrics) = get(&format!("http://{}/metrics", instance.gateway_address()));
    assert_eq!(status, 200, "{metrics}");
    metrics
        .lines()
        .filter_map(|line| line.strip_prefix("tgscript_cluster_messages_dropped_total{reason=\""))
        .filter_map(|rest| {
            let (reason, count) = rest.split_once("\"} ")?;
            Some((reason.to_string(), count.trim().parse().ok()?))
        })
        .collect()
}

/// Wait until `instance` has dropped one more message for `reason` than `before` says.
fn one_more_dropped(instance: &Background, before: &BTreeMap<String, u64>, reason: &str) {
    let wanted = before.get(reason).copied().unwrap_or(0) + 1;
    let started = Instant::now();
    loop {
        let now = dropped(instance);
        if now.get(reason).copied().unwrap_or(0) >= wanted {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "never dropped a {reason} message: {now:?}\n{}",
            instance.stderr_so_far()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the intruder forges: a request on `subject` (no answer comes; someone took it)
/// with `body`, then the dropped count of `receiver` grows by one.
fn forge(
    rt: &tokio::runtime::Runtime,
    intruder: &async_nats::Client,
    receiver: &Background,
    subject: &str,
    body: Vec<u8>,
    reason: &str,
) {
    let before = dropped(receiver);
    let asked = rt.block_on(async {
        let request = async_nats::Request::new()
            .payload(body.into())
            .timeout(Some(Duration::from_secs(2)));
        intruder.send_request(subject.to_string(), request).await
    });
    match asked {
        Err(e) if e.kind() == async_nats::RequestErrorKind::TimedOut => {}
        other => panic!("{subject}: taken and left unanswered, not {other:?}"),
    }
    one_more_dropped(receiver, &before, reason);
}

/// `inbox_list` of `bot` (with the done ones) through `addr`: update id → status.
fn inbox(addr: &str, bot: &str) -> BTreeMap<i64, String> {
    let list = json!({"action": "inbox_list", "bot_id": bot, "all": true});
    let (status, listed) = command(addr, Some(ADMIN), &list);
    assert_eq!(status, 200, "{listed}");
    listed["data"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let status = e["status"].as_str().unwrap_or("?").to_string();
            (e["update_id"].as_i64().unwrap_or(-1), status)
        })
        .collect()
}

/// Account 7's session ids through `addr`.
fn sessions(addr: &str) -> Vec<Value> {
    let request = json!({"action": "get_active_sessions", "userbot_id": 7});
    let (status, event) = command(addr, None, &request);
    assert_eq!(status, 200, "{event}");
    event["data"]["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["id"].clone())
        .collect()
}

/// What both tests run on: a folder with certificates, the secured NATS server, a store and
/// one bot, in a config of the bot after `head`.
struct Setup {
    t: TestDir,
    certs: Certs,
    nats: Nats,
    store: String,
    bots: Vec<ClusterBot>,
}

impl Setup {
    fn new(head: &str) -> Setup {
        let t = TestDir::new();
        let certs = make(t.path());
        let nats = secured(&certs);
        let bots = bots(1);
        config_of(&t, &bots, "polling", head);
        Setup {
            t,
            certs,
            nats,
            store: crate::pg::database_url(),
            bots,
        }
    }
}

#[test]
fn clients_of_nats_without_the_key_neither_read_nor_drive_nor_forge_anything() {
    let Setup {
        t,
        certs,
        nats,
        store,
        bots,
    } = Setup::new(HEAD);
    t.write(
        "bot1/secret.rhai",
        &format!("// {MARKER}\nfn on_message(msg) {{ }}\n"),
    );
    let mut env = credentials(&certs);
    // Nothing here fails over: a long lease keeps bot1 where it is on a loaded machine (with
    // 2 s, a late renewal moved it to the asker, which then read it without NATS).
    env.push(("TGSCRIPT_CLUSTER_LEASE_MS".into(), "20000".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let running: BTreeMap<&str, Background> = ["a", "b"]
        .into_iter()
        .map(|n| (n, instance_with(&t, n, &nats, &store, &bots, &env)))
        .collect();
    let live = vec!["a".to_string(), "b".to_string()];
    let bot_owner = assign::owner("bot1", &live).expect("an owner");
    let account_owner = assign::owner("account:7", &live).expect("an owner");
    running[bot_owner].wait_stderr(
        &format!("bot bot1: running on instance {bot_owner}"),
        1,
        WAIT,
    );
    running[account_owner].wait_stderr(
        &format!("account 7: running on instance {account_owner}"),
        1,
        WAIT,
    );
    let asker = live
        .iter()
        .find(|n| *n != bot_owner)
        .expect("another instance");
    let addr = running[asker.as_str()].gateway_address();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");

    // The server refuses a client without credentials, over TLS or not.
    rt.block_on(async {
        let refused = client(&nats, &certs, None).await.expect_err("no user");
        assert_eq!(
            refused.kind(),
            async_nats::ConnectErrorKind::AuthorizationViolation,
            "{refused}"
        );
        let wrong = client(&nats, &certs, Some((USER, "not-the-password"))).await;
        assert!(wrong.is_err(), "a wrong password is refused");
        let plain = async_nats::ConnectOptions::new()
            .user_and_password(USER.into(), PASSWORD.into())
            .connection_timeout(Duration::from_secs(5))
            .connect(nats.url())
            .await;
        assert!(plain.is_err(), "no TLS, no connection");
    });

    // The cluster works: a relayed script read, a bot's reply, a parked update.
    bots[0].say("hello");
    assert_eq!(bots[0].sent(1), ["hello: 1 1"]);
    bots[0].say("boom");
    let started = Instant::now();
    let parked = loop {
        let listed = inbox(&addr, "bot1");
        if let Some((id, _)) = listed.iter().find(|(_, s)| *s == "parked") {
            break *id;
        }
        assert!(started.elapsed() < WAIT, "never parked: {listed:?}");
        std::thread::sleep(Duration::from_millis(100));
    };

    // A client with the credentials but not the key sniffs everything while the asker reads
    // the script through the owner.
    let intruder = rt
        .block_on(client(&nats, &certs, Some((USER, PASSWORD))))
        .expect("the credentials are the server's");
    let sniffed: Sniffed = Arc::default();
    let mut all = rt
        .block_on(intruder.subscribe(">"))
        .expect("subscribe to everything");
    rt.block_on(intruder.flush()).expect("flushed");
    let sink = sniffed.clone();
    rt.spawn(async move {
        use futures::StreamExt;
        while let Some(message) = all.next().await {
            let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
            sink.push((message.subject.to_string(), message.payload.to_vec()));
        }
    });
    let read = json!({"action": "get_script", "bot_id": "bot1", "name": "secret.rhai"});
    let (status, script) = command(&addr, Some(ADMIN), &read);
    assert_eq!(status, 200, "{script}");
    assert!(
        script["data"]["source"]
            .as_str()
            .is_some_and(|s| s.contains(MARKER)),
        "{script}"
    );
    let request_subject = format!("tgscript.gw.{bot_owner}.bot.bot1");
    let started = Instant::now();
    let (request, answers) = loop {
        let seen = sniffed.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let request = seen.iter().find(|(s, _)| *s == request_subject).cloned();
        let answers = seen
            .iter()
            .filter(|(s, _)| s.starts_with("_INBOX."))
            .count();
        if let Some(request) = request.filter(|_| answers > 0) {
            break (request, answers);
        }
        assert!(
            started.elapsed() < WAIT,
            "the relayed read was not seen; bots: {}\n{}",
            command(&addr, Some(ADMIN), &json!({"action": "list_bots"})).1,
            running
                .values()
                .map(Background::stderr_so_far)
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(answers > 0);
    for (subject, payload) in sniffed.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        assert!(
            !payload
                .windows(MARKER.len())
                .any(|w| w == MARKER.as_bytes()),
            "the script crossed NATS readable, on {subject}"
        );
    }

    // Replayed as it was: dropped by the owner as seen before.
    let owner = &running[bot_owner];
    forge(
        &rt,
        &intruder,
        owner,
        &request_subject,
        request.1.clone(),
        "replayed",
    );

    // Forged relayed requests, written as an instance writes them but not sealed.
    let relayed =
        |action: &str, request: Value| json!({"action": action, "request": request, "scope": null});
    let evil = "fn on_message(msg) { send_message(msg.chat.id, \"owned\"); }";
    let account = &running[account_owner];
    let account_subject = format!("tgscript.gw.{account_owner}.account.7");
    let to_bot = |body: Value| (owner, request_subject.as_str(), body);
    let to_account = |body: Value| (account, account_subject.as_str(), body);
    let forged = [
        to_bot(relayed(
            "get_script",
            json!({"bot_id": "bot1", "name": "secret.rhai"}),
        )),
        to_bot(relayed(
            "put_script",
            json!({"bot_id": "bot1", "name": "evil.rhai", "source": evil}),
        )),
        to_bot(relayed(
            "inbox_retry",
            json!({"bot_id": "bot1", "update_id": parked}),
        )),
        to_account(json!({"Login": {"step": "Logout", "within_ms": 1000}})),
        to_account(json!({"Call": {"TerminateSession": 1002}})),
        to_account(json!({"Call": {"Raw": {"@type": "sendMessage", "chat_id": 1}}})),
    ];
    for (receiver, subject, body) in forged {
        let body = body.to_string().into_bytes();
        forge(&rt, &intruder, receiver, subject, body, "unsealed");
    }

    // A forged account event and notice reach every instance, and each drops them.
    let follower = &running[live
        .iter()
        .find(|n| *n != account_owner)
        .expect("another")
        .as_str()];
    let closed = json!({"from": "x", "userbot_id": 7, "update": {"@type": "updateAuthorizationState", "authorization_state": {"@type": "authorizationStateClosed"}}});
    for (subject, payload) in [
        ("tgscript.ev.account.7", closed.to_string()),
        ("tgscript.bots.changed", String::new()),
    ] {
        let before = dropped(follower);
        rt.block_on(async {
            intruder
                .publish(subject, payload.into())
                .await
                .expect("published");
            intruder.flush().await.expect("flushed");
        });
        one_more_dropped(follower, &before, "unsealed");
    }

    // A lease written by the intruder (an instance "ghost" that would win bots): each
    // instance drops its value as it lists the live ones, and never counts it.
    let before = dropped(follower);
    rt.block_on(async {
        let js = async_nats::jetstream::new(intruder.clone());
        let bucket = js
            .get_key_value(tgscript::cluster::BUCKET)
            .await
            .expect("the lease bucket");
        bucket
            .put("ghost", "a lease".into())
            .await
            .expect("written");
    });
    one_more_dropped(follower, &before, "unsealed");

    // Nothing was done: the script is not there, the update still parked, the account
    // logged in with its sessions (through either instance), the bot did not reload.
    assert!(
        !t.path().join("bot1/evil.rhai").exists(),
        "evil.rhai was written"
    );
    assert_eq!(
        inbox(&addr, "bot1").get(&parked).map(String::as_str),
        Some("parked")
    );
    for name in &live {
        let addr = running[name.as_str()].gateway_address();
        assert_eq!(
            sessions(&addr),
            [json!(1001), json!(1002), json!(1003)],
            "via {name}"
        );
        let (status, list) = command(&addr, Some(ADMIN), &json!({"action": "list_accounts"}));
        assert_eq!(status, 200, "{list}");
        assert_eq!(
            list["data"]["accounts"][0]["authorization_state"]["state"], "ready",
            "{list}"
        );
    }
    for run in running.values() {
        let log = run.stderr_so_far();
        let listed = log
            .lines()
            .filter(|l| l.contains("cluster: live instances"));
        assert!(listed.clone().count() > 0, "{log}");
        assert!(listed.clone().all(|l| !l.contains("ghost")), "{log}");
    }
    let log = owner.stderr_so_far();
    assert!(!log.contains("queued for another round"), "{log}");
    assert!(
        log.contains(&format!(
            "cluster: dropped a NATS message on {request_subject}"
        )),
        "{log}"
    );
    for run in running.values() {
        let log = run.stderr_so_far();
        assert!(
            !log.contains(PASSWORD) && !log.contains(KEY),
            "a secret in the log:\n{log}"
        );
    }
}

#[test]
fn the_cluster_key_and_the_nats_credentials_are_checked_before_anything_starts() {
    let Setup {
        t,
        certs,
        nats,
        store,
        bots,
    } = Setup::new("");
    let password = "the-wrong-pa55word-never-shown";
    let run = |extra: &[(&str, &str)], without: &[&str]| {
        let mut env: Vec<(String, String)> = credentials(&certs);
        env.push(("TOKEN_bot1".into(), token("bot1")));
        env.push(("TGSCRIPT_CLUSTER_NATS_URL".into(), nats.url()));
        env.push(("TGSCRIPT_STORE_URL".into(), store.clone()));
        env.push((KEY_VAR.into(), KEY.into()));
        env.retain(|(k, _)| !without.contains(&k.as_str()));
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        t.run_with_env(&["run"], &env)
    };
    run(&[], &[KEY_VAR])
        .expect_code(2)
        .expect_stderr_contains("cluster.key_env")
        .expect_stderr_contains("CLUSTER_KEY is unset or empty");
    run(&[(KEY_VAR, "too-short")], &[])
        .expect_code(2)
        .expect_stderr_contains("9 bytes, fewer than 32: make one with `openssl rand -hex 32`");
    run(&[("TGSCRIPT_CLUSTER_NATS_CA_FILE", "/nowhere/ca.pem")], &[])
        .expect_code(2)
        .expect_stderr_contains("cluster.nats_ca_file")
        .expect_stderr_contains("cannot read /nowhere/ca.pem");
    run(&[("TGSCRIPT_CLUSTER_NATS_TOKEN_ENV", "NATS_TOKEN")], &[])
        .expect_code(2)
        .expect_stderr_contains("NATS takes one way to authenticate");
    run(&[], &["NATS_PASSWORD"])
        .expect_code(2)
        .expect_stderr_contains("cluster.nats_password_env")
        .expect_stderr_contains("NATS_PASSWORD is unset or empty");
    let refused = run(&[("NATS_PASSWORD", password)], &[]);
    refused
        .expect_code(2)
        .expect_stderr_contains("refused this instance")
        .expect_stderr_contains("nats_password_env");
    assert!(!refused.stderr.contains(password), "{}", refused.stderr);

    // Without key_env in the file: how to make one.
    t.write(
        "tgscript.toml",
        &std::fs::read_to_string(t.path().join("tgscript.toml"))
            .expect("the config")
            .replace(&format!("key_env = \"{KEY_VAR}\"\n"), ""),
    );
    run(&[], &[])
        .expect_code(2)
        .expect_stderr_contains("cluster.key_env")
        .expect_stderr_contains("openssl rand -hex 32");
    assert_eq!(
        bots[0].server.calls_of("getUpdates").len(),
        0,
        "nothing polled"
    );
}
