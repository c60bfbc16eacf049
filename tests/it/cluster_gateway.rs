//! The gateway of a cluster on a real NATS server and PostgreSQL: any instance takes a request
//! for any bot and the instance running the bot carries it out (NATS request/reply); while a
//! killed instance's bots move, requests wait for their new owners, and every request is
//! answered once — carried out once when it succeeded, never when nobody took it.

use crate::bots::{COUNTER, token};
use crate::cluster::{ClusterBot, WAIT, bots, busiest, config_of, instance_with, owners, texts};
use crate::crash::GATEWAY_TEXT;
use crate::nats::Nats;
use crate::protocol::command;
use crate::util::{Background, TestDir};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tgscript::cluster::View;
use tgscript::cluster::assign;
use tgscript::cluster::relay::{Owned, Relay};
use tgscript::cluster::seal::Seal;
use tgscript::sandbox::BotApiServer;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tokio::sync::watch;

const ADMIN: &str = "cluster-admin-token-for-the-tests";

/// `send_message` of `text` to `chat` through bot `bot` (`None`: the only one) to instance
/// `addr`'s gateway: the status and event.
fn send(addr: &str, bot: Option<&str>, chat: i64, text: &str, request_id: usize) -> (u16, Value) {
    let mut request = json!({
        "action": "send_message",
        "request_id": request_id,
        "chat_id": chat,
        "text": text,
    });
    if let Some(bot) = bot {
        request["bot_id"] = json!(bot);
    }
    command(addr, None, &request)
}

/// How many times `server` got each text sent over the gateway.
pub(crate) fn relayed(server: &BotApiServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for call in server.calls_of("sendMessage") {
        if let Some(text) = call.params["text"].as_str()
            && text.starts_with(GATEWAY_TEXT)
        {
            *counts.entry(text.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// One gateway request of a run and its answer.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The bot it was for (`None`: the only one).
    pub(crate) bot: Option<String>,
    /// The text it sent.
    pub(crate) text: String,
    /// The HTTP status.
    pub(crate) status: u16,
    /// The event.
    pub(crate) event: Value,
}

/// Ask `addr`'s gateway to send a message to `chat` through `bots[k % len]`, one request
/// after another (the `k`-th with `request_id` `k`), until `enough` (or 3,000 requests).
pub(crate) fn keep_asking(
    addr: &str,
    bots: &[Option<String>],
    chat: i64,
    mut enough: impl FnMut(&[Answer]) -> bool,
) -> Vec<Answer> {
    let mut answers = Vec::new();
    for k in 0..3000 {
        let bot = bots[k % bots.len()].clone();
        let text = format!("{GATEWAY_TEXT}{k}");
        let (status, event) = send(addr, bot.as_deref(), chat, &text, k);
        answers.push(Answer {
            bot,
            text,
            status,
            event,
        });
        if enough(&answers) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    answers
}

/// Every request answered once, by its own answer: a success carried out exactly once
/// (`carried` says how many times a request's text reached its bot), a 503 (nobody ran the
/// bot) never, a 504 (its owner took it and died) at most once. The successes, and the
/// error events by status.
pub(crate) fn check_answers(
    answers: &[Answer],
    carried: impl Fn(&Answer) -> usize,
) -> (usize, BTreeMap<u16, usize>) {
    let (mut done, mut refused) = (0, BTreeMap::new());
    for (k, answer) in answers.iter().enumerate() {
        let (text, event) = (&answer.text, &answer.event);
        assert_eq!(
            event["request_id"], k,
            "the answer is the request's: {event}"
        );
        let times = carried(answer);
        match answer.status {
            200 => {
                assert_eq!(times, 1, "{text}: a success was carried out once");
                done += 1;
            }
            503 => assert_eq!(times, 0, "{text}: {event}"),
            504 => assert!(times <= 1, "{text}: {event}"),
            other => panic!("{text}: status {other}: {event}"),
        }
        if answer.status != 200 {
            *refused.entry(answer.status).or_insert(0) += 1;
        }
    }
    assert!(done > 0, "{answers:?}");
    (done, refused)
}

#[test]
fn any_instance_relays_a_gateway_request_to_the_bots_owner_and_answers_each_once_across_a_kill() {
    let nats = Nats::start();
    let store = crate::pg::database_url();
    let bots = bots(4);
    let t = TestDir::new();
    let head = format!("[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"{ADMIN}\"\n\n");
    config_of(&t, &bots, "polling", &head);
    let names = ["a", "b", "c"];
    let env = [("TGSCRIPT_CLUSTER_GATEWAY_TIMEOUT_MS", "5000")];
    let mut running: BTreeMap<&str, Background> = names
        .iter()
        .map(|n| (*n, instance_with(&t, n, &nats, &store, &bots, &env)))
        .collect();
    let addrs: BTreeMap<&str, String> = running
        .iter()
        .map(|(name, run)| (*name, run.gateway_address()))
        .collect();
    let all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let before = owners(&bots, &all);
    for (bot, owner) in &before {
        running[owner].wait_stderr(&format!("bot {bot}: running on instance {owner}"), 1, WAIT);
    }

    // Every bot through every instance's gateway: carried out once, through the bot.
    for bot in &bots {
        for name in names {
            let text = format!("{GATEWAY_TEXT}{} via {name}", bot.id);
            let (status, event) = send(&addrs[name], Some(&bot.id), SANDBOX_CHAT_ID, &text, 1);
            assert_eq!(status, 200, "bot {} via {name}: {event}", bot.id);
            assert_eq!(event["data"]["text"], text, "{event}");
        }
        let counts = relayed(&bot.server);
        assert_eq!(counts.len(), 3, "bot {}: {counts:?}", bot.id);
        assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    }
    // Every bot of the cluster, with its owner (as soon as instance a's view has settled).
    let expected: BTreeMap<String, String> = before
        .iter()
        .map(|(bot, owner)| (bot.clone(), owner.to_string()))
        .collect();
    let started = std::time::Instant::now();
    let listed = loop {
        let list = json!({"action": "list_bots"});
        let (status, listed) = command(&addrs["a"], Some(ADMIN), &list);
        assert_eq!(status, 200, "{listed}");
        let listed: BTreeMap<String, String> = listed["data"]["bots"]
            .as_array()
            .expect("bots")
            .iter()
            .map(|b| {
                let field = |key: &str| b[key].as_str().unwrap_or("?").to_string();
                (field("id"), field("instance"))
            })
            .collect();
        if listed == expected || started.elapsed() > WAIT {
            break listed;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(listed, expected);
    let (status, unknown) = send(&addrs["b"], Some("nobody"), SANDBOX_CHAT_ID, "x", 2);
    assert_eq!(status, 400, "{unknown}");
    let error = unknown["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("no bot \"nobody\" in the cluster") && error.contains("bot1"),
        "{unknown}"
    );
    // A script action of a bot another instance runs.
    let elsewhere = bots
        .iter()
        .find(|b| before[&b.id] != "a")
        .expect("a bot not on a");
    let get = json!({"action": "get_script", "bot_id": elsewhere.id, "name": "count.rhai"});
    let (status, script) = command(&addrs["a"], Some(ADMIN), &get);
    assert_eq!(status, 200, "{script}");
    assert_eq!(script["data"]["source"], COUNTER);

    // A bot added through one instance's gateway runs on its owner, whichever that is;
    // removed through another's, it stops there and every instance forgets it.
    let added = ClusterBot::new("g");
    t.write("g/count.rhai", COUNTER);
    let add = json!({"action": "add_bot", "id": "g", "token": token("g"), "scripts": "g",
        "api_url": added.server.url()});
    let (status, event) = command(&addrs["a"], Some(ADMIN), &add);
    assert_eq!(status, 200, "{event}");
    let owner = assign::owner("g", &all).expect("an owner");
    running[owner].wait_stderr(&format!("bot g: running on instance {owner}"), 1, WAIT);
    added.say("one");
    assert_eq!(added.sent(1), ["one: 1 1"]);
    let (status, event) = command(
        &addrs["b"],
        Some(ADMIN),
        &json!({"action": "remove_bot", "id": "g"}),
    );
    assert_eq!(status, 200, "{event}");
    for name in ["a", "c"] {
        let forgot = "bot g: removed through the gateway of another instance";
        running[name].wait_stderr(forgot, 1, WAIT);
        let (_, listed) = command(&addrs[name], Some(ADMIN), &json!({"action": "list_bots"}));
        let listed = listed["data"]["bots"].as_array().map(Vec::len);
        assert_eq!(listed, Some(bots.len()), "instance {name}");
    }
    let polls = added.server.calls_of("getUpdates").len();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        added.server.calls_of("getUpdates").len(),
        polls,
        "bot g polled by nobody"
    );

    // kill -9 the busiest instance while a survivor takes requests for its bots, one after
    // another, and every bot gets a message.
    let victim = busiest(&names, &before);
    let moving: Vec<&ClusterBot> = bots.iter().filter(|b| before[&b.id] == victim).collect();
    let survivor = *names.iter().find(|n| **n != victim).expect("a survivor");
    let taken_over = AtomicBool::new(false);
    let moving_ids: Vec<Option<String>> = moving.iter().map(|b| Some(b.id.clone())).collect();
    let (answers, killed) = std::thread::scope(|scope| {
        let asker = scope.spawn(|| {
            // Enough once every moving bot answered a request sent after they were taken over.
            let mut since = None;
            let enough = |answers: &[Answer]| {
                if !taken_over.load(Ordering::SeqCst) {
                    return false;
                }
                let from = *since.get_or_insert(answers.len());
                let answered: BTreeSet<&Option<String>> = answers[from..]
                    .iter()
                    .filter(|a| a.status == 200)
                    .map(|a| &a.bot)
                    .collect();
                answered.len() == moving_ids.len()
            };
            keep_asking(&addrs[survivor], &moving_ids, SANDBOX_CHAT_ID, enough)
        });
        std::thread::sleep(Duration::from_millis(300));
        let killed = running.remove(victim).expect("the victim").kill9();
        for bot in &bots {
            bot.say("one");
        }
        for bot in &bots {
            assert_eq!(bot.sent(1), ["one: 1 1"], "bot {}", bot.id);
        }
        taken_over.store(true, Ordering::SeqCst);
        (asker.join().expect("the asker"), killed)
    });
    let counts: BTreeMap<String, BTreeMap<String, usize>> = bots
        .iter()
        .map(|b| (b.id.clone(), relayed(&b.server)))
        .collect();
    let (done, refused) = check_answers(&answers, |a| {
        let bot = a.bot.as_deref().unwrap_or_default();
        counts[bot].get(&a.text).copied().unwrap_or(0)
    });
    eprintln!(
        "cluster gateway: {} requests during the kill, {done} carried out, error events by status {refused:?}",
        answers.len()
    );
    let mut logs = killed.stderr;
    for (name, run) in running {
        let finished = run.interrupt();
        assert_eq!(
            finished.code,
            Some(0),
            "instance {name}: {}",
            finished.all_output()
        );
        logs.push_str(&finished.stderr);
    }
    for bot in &bots {
        assert_eq!(texts(&bot.server.calls()), ["one: 1 1"], "bot {}", bot.id);
    }
    assert!(
        !logs.contains("getUpdates refused"),
        "two pollers at once:\n{logs}"
    );
}

/// An owner letting go of a bot (it stops, or moves) drains what it took: the requests it
/// had already taken come out and are answered; those that come after are answered "not
/// here", asked again and go to the next owner once the askers' view names it. None is lost to
/// the askers' timeout, and none is carried out twice.
#[test]
fn requests_on_their_way_when_an_owner_lets_go_are_answered_by_it_or_the_next() {
    const ASKS: usize = 200;
    let nats = Nats::start();
    crate::gateway::runtime().block_on(async {
        let connect = || async {
            async_nats::connect(nats.url())
                .await
                .expect("connect to NATS")
        };
        let view = |live: &str| View {
            held: true,
            live: vec![live.to_owned()],
        };
        let (views, seen) = watch::channel(view("owner"));
        // A lost request fails with TimedOut after 5 s; an answered one comes back at once.
        let seal = std::sync::Arc::new(Seal::new(crate::cluster::KEY.as_bytes()));
        let relay = |client, instance| {
            let patience = Duration::from_secs(10);
            let timeout = Duration::from_secs(5);
            Relay::new(
                client,
                seal.clone(),
                instance,
                seen.clone(),
                patience,
                timeout,
            )
        };
        let owner = relay(connect().await, "owner");
        let next_owner = relay(connect().await, "next");
        let asker = relay(connect().await, "asker");
        let bot = Owned::Bot("moving".into());
        let mut requests = owner.take(&bot).await.expect("take the requests");
        // The next owner's subscription is there already: it answers "not here" until it takes.
        let not_yet = next_owner.take(&Owned::Bot("another".into())).await;
        drop(not_yet.expect("take another bot"));
        let asks: Vec<_> = (0..ASKS)
            .map(|n| {
                let (asker, bot) = (asker.clone(), bot.clone());
                tokio::spawn(async move { asker.ask(&bot, Bytes::from(n.to_string())).await })
            })
            .collect();
        // The owner answers one, then lets go with the rest on their way.
        let first = requests.next().await.expect("a request");
        requests.drain();
        let mut answered_by_owner = 1;
        first.answer(Bytes::from_static(b"owner")).await;
        while let Some(asked) = requests.next().await {
            asked.answer(Bytes::from_static(b"owner")).await;
            answered_by_owner += 1;
        }
        // Asked of the owner meanwhile: "not here", again and again. Then the view moves the
        // bot, and the next owner takes it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        views.send_replace(view("next"));
        let mut taken = next_owner
            .take(&bot)
            .await
            .expect("the next owner takes them");
        let next = tokio::spawn(async move {
            while let Some(asked) = taken.next().await {
                asked.answer(Bytes::from_static(b"next owner")).await;
            }
        });
        let mut by = BTreeMap::new();
        for ask in asks {
            let answer = ask.await.expect("the ask ran").expect("answered, not lost");
            *by.entry(String::from_utf8_lossy(&answer).into_owned())
                .or_insert(0) += 1;
        }
        next.abort();
        assert_eq!(by.values().sum::<usize>(), ASKS, "{by:?}");
        assert_eq!(by.get("owner"), Some(&answered_by_owner), "{by:?}");
        assert!(answered_by_owner < ASKS, "the owner let go of none: {by:?}");
    });
}
