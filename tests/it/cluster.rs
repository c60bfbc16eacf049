//! `[cluster]`: instances of one cluster on a real NATS server (JetStream) and a real
//! PostgreSQL store, each polling bot run by one instance at a time — taken over when its
//! instance dies, stopped when its instance loses NATS — and never by two at once, checked
//! from the instances' logs: as on Telegram, the local Bot API server answers a `getUpdates`
//! that a newer one overtook with 409, so two live pollers of one bot would see it and say so.

use crate::bots::{ALICE, COUNTER, post, server, token, update};
use crate::cluster_gateway::{check_answers, keep_asking, relayed};
use crate::crash::{GATEWAY_TEXT, Load, Rng, chat_id};
use crate::nats::Nats;
use crate::util::{Background, TestDir};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tgscript::cluster::assign;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, Recorded};

pub(crate) const WAIT: Duration = Duration::from_secs(30);
/// The cluster key every instance of the tests gets, in [`KEY_VAR`].
pub(crate) const KEY: &str = "a-cluster-key-of-the-tests-0123456789abcdef";
/// The variable `[cluster] key_env` names in the tests' config.
pub(crate) const KEY_VAR: &str = "CLUSTER_KEY";
/// How long the load of the crash test may take, on a busy machine.
const LOAD_WAIT: Duration = Duration::from_secs(300);

/// One bot of the cluster and its own Bot API server.
pub(crate) struct ClusterBot {
    pub(crate) id: String,
    pub(crate) server: BotApiServer,
}

impl ClusterBot {
    pub(crate) fn new(id: &str) -> ClusterBot {
        ClusterBot {
            id: id.to_string(),
            server: server(id),
        }
    }

    pub(crate) fn say(&self, text: &str) {
        self.server
            .world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, text, None));
    }

    /// The texts the bot sent, once at least `n` were.
    pub(crate) fn sent(&self, n: usize) -> Vec<String> {
        match self.server.wait_for(WAIT, |calls| texts(calls).len() >= n) {
            Ok(calls) => texts(&calls),
            Err(calls) => panic!("bot {}: expected {n} message(s), got {calls:#?}", self.id),
        }
    }
}

/// The texts a bot's scenario sent (not those sent over the gateway: [`GATEWAY_TEXT`]).
pub(crate) fn texts(calls: &[Recorded]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.method == "sendMessage")
        .filter_map(|c| c.params["text"].as_str().map(str::to_string))
        .filter(|text| !text.starts_with(GATEWAY_TEXT))
        .collect()
}

/// The config every instance reads: `bots`, polling, leases of 2 s, one try per update.
fn config(t: &TestDir, bots: &[ClusterBot]) {
    config_of(t, bots, "polling", "");
}

/// The same with the bots in `mode`, after `head`.
pub(crate) fn config_of(t: &TestDir, bots: &[ClusterBot], mode: &str, head: &str) {
    let mut text = format!(
        "{head}[cluster]\nlease_ms = 2000\nkey_env = \"{KEY_VAR}\"\n\n[inbox]\nmax_attempts = 1\n"
    );
    for bot in bots {
        t.write(&format!("{}/count.rhai", bot.id), COUNTER);
        text += &format!(
            "\n[[bot]]\nid = \"{id}\"\ntoken_env = \"TOKEN_{id}\"\nscripts = \"{id}\"\nmode = \"{mode}\"\napi_url = \"{}\"\n",
            bot.server.url(),
            id = bot.id,
        );
    }
    t.write("tgscript.toml", &text);
}

/// `tgscript run` as instance `name` of the cluster on `nats` and `store`.
fn instance(t: &TestDir, name: &str, nats: &Nats, store: &str, bots: &[ClusterBot]) -> Background {
    instance_with(t, name, nats, store, bots, &[])
}

/// The same with `extra` variables.
pub(crate) fn instance_with(
    t: &TestDir,
    name: &str,
    nats: &Nats,
    store: &str,
    bots: &[ClusterBot],
    extra: &[(&str, &str)],
) -> Background {
    let mut env: Vec<(String, String)> = bots
        .iter()
        .map(|b| (format!("TOKEN_{}", b.id), token(&b.id)))
        .collect();
    env.push(("TGSCRIPT_CLUSTER_INSTANCE".into(), name.into()));
    env.push(("TGSCRIPT_CLUSTER_NATS_URL".into(), nats.url()));
    env.push(("TGSCRIPT_STORE_URL".into(), store.into()));
    env.push((KEY_VAR.into(), KEY.into()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    t.spawn(&["run"], &env)
}

pub(crate) fn bots(n: usize) -> Vec<ClusterBot> {
    (1..=n)
        .map(|i| ClusterBot::new(&format!("bot{i}")))
        .collect()
}

#[test]
fn a_cluster_needs_a_shared_store_and_a_reachable_nats() {
    let bots = bots(1);
    let t = TestDir::new();
    config(&t, &bots);
    let alone = [("TOKEN_bot1", token("bot1")), (KEY_VAR, KEY.to_string())];
    let env = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        alone
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect()
    };
    let run = |env: Vec<(String, String)>| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        t.run_with_env(&["run"], &env)
    };
    let nowhere = format!("nats://127.0.0.1:{}", crate::bots::free_port());
    run(env(&[("TGSCRIPT_CLUSTER_NATS_URL", &nowhere)]))
        .expect_code(2)
        .expect_stderr_contains("cluster.nats_url")
        .expect_stderr_contains("set [store] url");

    let store = crate::pg::database_url();
    let unreachable = format!(
        "nats://user:n4tsS3cret@127.0.0.1:{}",
        crate::bots::free_port()
    );
    let refused = run(env(&[
        ("TGSCRIPT_CLUSTER_NATS_URL", &unreachable),
        ("TGSCRIPT_STORE_URL", &store),
    ]));
    refused
        .expect_code(2)
        .expect_stderr_contains("[cluster] cannot reach NATS at nats://127.0.0.1:");
    assert!(!refused.stderr.contains("n4tsS3cret"), "{}", refused.stderr);

    run(env(&[
        ("TGSCRIPT_CLUSTER_NATS_URL", &nowhere),
        ("TGSCRIPT_STORE_URL", &store),
        ("TGSCRIPT_CLUSTER_INSTANCE", "not a name"),
    ]))
    .expect_code(2)
    .expect_stderr_contains("cluster.instance");
    run(env(&[
        ("TGSCRIPT_CLUSTER_NATS_URL", &nowhere),
        ("TGSCRIPT_STORE_URL", &store),
        ("TGSCRIPT_CLUSTER_GATEWAY_TIMEOUT_MS", "10"),
    ]))
    .expect_code(2)
    .expect_stderr_contains("cluster.gateway_timeout_ms");
    assert_eq!(
        bots[0].server.calls_of("getUpdates").len(),
        0,
        "nothing polled"
    );
}

/// The one of `names` that owns the most bots in `owners`.
pub(crate) fn busiest<'a>(names: &[&'a str], owners: &BTreeMap<String, &str>) -> &'a str {
    names
        .iter()
        .copied()
        .max_by_key(|n| owners.values().filter(|o| **o == *n).count())
        .expect("an instance")
}

/// Which of `instances` runs each bot, as every instance computes it.
pub(crate) fn owners<'a>(
    bots: &[ClusterBot],
    instances: &'a [String],
) -> BTreeMap<String, &'a str> {
    bots.iter()
        .map(|b| {
            (
                b.id.clone(),
                assign::owner(&b.id, instances).expect("an owner"),
            )
        })
        .collect()
}

#[test]
fn the_bots_of_a_killed_instance_are_taken_over_and_no_bot_is_ever_polled_twice_at_once() {
    let nats = Nats::start();
    let store = crate::pg::database_url();
    let bots = bots(6);
    let t = TestDir::new();
    config(&t, &bots);
    let names = ["a", "b", "c"];
    let mut running: BTreeMap<&str, Background> = BTreeMap::new();
    for name in names {
        running.insert(name, instance(&t, name, &nats, &store, &bots));
    }
    let all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let before = owners(&bots, &all);
    for (bot, owner) in &before {
        let needle = format!("bot {bot}: running on instance {owner}");
        running[owner].wait_stderr(&needle, 1, WAIT);
    }
    for bot in &bots {
        bot.say("one");
    }
    for bot in &bots {
        assert_eq!(bot.sent(1), ["one: 1 1"], "bot {}", bot.id);
    }

    // kill -9 the instance with the most bots: the others take them over once its lease
    // expires (its claims went with its connection to PostgreSQL).
    let victim = busiest(&names, &before);
    let killed = running.remove(victim).expect("the victim").kill9();
    for (bot, owner) in &before {
        if *owner == victim {
            assert!(
                killed
                    .stderr
                    .contains(&format!("bot {bot}: running on instance {victim}")),
                "{}",
                killed.stderr
            );
        }
    }
    let survivors: Vec<String> = all.iter().filter(|n| *n != victim).cloned().collect();
    for run in running.values() {
        run.wait_stderr(
            &format!("cluster: live instances: {}", survivors.join(", ")),
            1,
            WAIT,
        );
    }
    // Each bot's new owner has taken it up (a survivor may still be handing a bot over that
    // the start-up's changing membership gave it) before the next message.
    let after = owners(&bots, &survivors);
    for (bot, owner) in &after {
        running[owner].wait_stderr(&format!("bot {bot}: running on instance {owner}"), 1, WAIT);
    }
    for bot in &bots {
        bot.say("two");
    }
    for bot in &bots {
        assert_eq!(bot.sent(2), ["one: 1 1", "two: 2 2"], "bot {}", bot.id);
    }
    let mut finished = Vec::new();
    for (name, run) in running {
        let done = run.interrupt();
        assert_eq!(done.code, Some(0), "instance {name}: {}", done.all_output());
        assert!(
            done.stderr
                .contains(&format!("cluster: instance {name} left")),
            "{}",
            done.stderr
        );
        finished.push((name, done));
    }
    for bot in &bots {
        let owner = after[&bot.id];
        let (_, done) = finished
            .iter()
            .find(|(name, _)| *name == owner)
            .expect("the owner is a survivor");
        assert!(
            done.stderr
                .contains(&format!("bot {}: running on instance {owner}", bot.id)),
            "bot {} runs on {owner} after the kill: {}",
            bot.id,
            done.stderr
        );
        assert_eq!(
            texts(&bot.server.calls()),
            ["one: 1 1", "two: 2 2"],
            "bot {}: each message handled once",
            bot.id
        );
    }
    for (name, done) in &finished {
        assert!(
            !done.stderr.contains("getUpdates refused"),
            "instance {name}: never two pollers of one bot at once: {}",
            done.stderr
        );
    }
}

#[test]
fn an_instance_that_loses_nats_stops_its_bots_and_takes_them_up_again_when_it_is_back() {
    let mut nats = Nats::start();
    let store = crate::pg::database_url();
    let bots = bots(2);
    let t = TestDir::new();
    config(&t, &bots);
    let run = instance(&t, "solo", &nats, &store, &bots);
    for bot in &bots {
        run.wait_stderr(
            &format!("bot {}: running on instance solo", bot.id),
            1,
            WAIT,
        );
        bot.say("one");
        assert_eq!(bot.sent(1), ["one: 1 1"]);
    }

    nats.stop();
    run.wait_stderr("has no renewed lease: stopping its bots", 1, WAIT);
    for bot in &bots {
        run.wait_stderr(&format!("bot {}: stopped here", bot.id), 1, WAIT);
    }
    let polls: Vec<usize> = bots
        .iter()
        .map(|b| b.server.calls_of("getUpdates").len())
        .collect();
    for bot in &bots {
        bot.say("two");
    }
    // Renewals fail for a while: nothing is polled meanwhile.
    run.wait_stderr("cannot renew the lease of instance solo", 1, WAIT);
    std::thread::sleep(Duration::from_secs(2));
    for (bot, polls) in bots.iter().zip(polls) {
        assert_eq!(
            bot.server.calls_of("getUpdates").len(),
            polls,
            "bot {}: not polled without a lease",
            bot.id
        );
    }

    nats.resume();
    for bot in &bots {
        assert_eq!(bot.sent(2), ["one: 1 1", "two: 2 2"], "bot {}", bot.id);
    }
    run.wait_stderr("bot bot1: running on instance solo", 2, WAIT);
    let done = run.interrupt();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    assert!(
        !done.stderr.contains("getUpdates refused"),
        "{}",
        done.stderr
    );
}

#[test]
fn the_local_bot_api_server_answers_an_overtaken_get_updates_with_409_as_telegram_does() {
    let bot = ClusterBot::new("solo");
    let url = format!("{}bot{}/getUpdates", bot.server.url(), token("solo"));
    let statuses = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let client = reqwest::Client::new();
            let first = client
                .post(&url)
                .json(&serde_json::json!({"timeout": 20}))
                .send();
            let second = async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let second = client.post(&url).json(&serde_json::json!({"timeout": 0}));
                second.send().await
            };
            let (first, second) = tokio::join!(first, second);
            let first = first.expect("the first answered");
            let body: serde_json::Value = first.json().await.expect("JSON");
            (body, second.expect("the second answered").status().as_u16())
        });
    let (first, second) = statuses;
    assert_eq!(second, 200);
    assert_eq!(first["error_code"], 409, "{first}");
    assert!(
        first["description"]
            .as_str()
            .is_some_and(|d| d.contains("terminated by other getUpdates request")),
        "{first}"
    );
}

/// The one bot's owner (of three instances) killed at five random points while 6,000
/// updates over 20 chats flow, and started again each time: a survivor takes the bot over
/// once the lease expires and hands it back when the owner is back; every update handled,
/// each handler's message sent once (twice only for a call logged as without an answer), in
/// order per chat, and never two pollers at once; gateway requests sent to the stand-in all
/// the while are each answered once (carried out once, or an error event). Prints the
/// failover times (kill → first message from the new owner): the benchmark's figure, not
/// asserted.
#[test]
fn killing_the_owner_at_five_points_under_load_loses_and_repeats_nothing() {
    let nats = Nats::start();
    let store = crate::pg::database_url();
    let mut rng = Rng::new();
    let t = TestDir::new();
    let load = Load::queue(&t, 20, 6000, &mut rng);
    let config = format!(
        "[cluster]\nlease_ms = 2000\nkey_env = \"{KEY_VAR}\"\n\n[gateway]\nlisten = \"127.0.0.1:0\"\n"
    );
    t.write("tgscript.toml", &config);
    let api = load.server.url();
    let spawn = |name: &str| {
        let env = [
            ("TELOXIDE_TOKEN", crate::util::TOKEN),
            ("TELOXIDE_API_URL", api.as_str()),
            ("TGSCRIPT_CLUSTER_INSTANCE", name),
            ("TGSCRIPT_CLUSTER_NATS_URL", &nats.url()),
            ("TGSCRIPT_STORE_URL", store.as_str()),
            ("TGSCRIPT_CLUSTER_GATEWAY_TIMEOUT_MS", "5000"),
            (KEY_VAR, KEY),
        ];
        t.spawn(&["run", "scripts"], &env)
    };
    let names = ["a", "b", "c"];
    let all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let owner = assign::owner("default", &all)
        .expect("an owner")
        .to_string();
    let survivors: Vec<String> = all.iter().filter(|n| **n != owner).cloned().collect();
    let stand_in = assign::owner("default", &survivors).expect("a stand-in");
    let mut running: BTreeMap<&str, Background> = names.iter().map(|n| (*n, spawn(n))).collect();
    let mut logs = String::new();
    let (mut failovers, mut kills) = (Vec::new(), Vec::new());
    // Meanwhile gateway requests for the bot go to the stand-in (never killed), one after
    // another: relayed to the owner, or carried out there while it runs the bot.
    let gateway = running[stand_in].gateway_address();
    let handled = AtomicBool::new(false);
    let (finished, answers) = std::thread::scope(|scope| {
        let asker = scope.spawn(|| {
            let the_only_bot = [None];
            keep_asking(&gateway, &the_only_bot, chat_id(0), |_| {
                handled.load(Ordering::SeqCst)
            })
        });
        for round in 0..5 {
            let runs_it = format!("bot default: running on instance {owner}");
            running[owner.as_str()].wait_stderr(&runs_it, 1, WAIT);
            let target = load.sent() + 50 + rng.below(250) as usize;
            assert!(
                load.wait_sent(target, WAIT),
                "round {round}: stuck before {target}"
            );
            std::thread::sleep(Duration::from_micros(rng.below(20_000)));
            let killed = running.remove(owner.as_str()).expect("the owner").kill9();
            let (killed_at, sent_then) = (std::time::Instant::now(), load.sent());
            kills.push(sent_then);
            logs.push_str(&killed.stderr);
            assert!(
                load.wait_sent(sent_then + 1, WAIT),
                "round {round}: never taken over"
            );
            failovers.push(killed_at.elapsed());
            let took = format!("bot default: running on instance {stand_in}");
            running[stand_in].wait_stderr(&took, round + 1, WAIT);
            running.insert(
                names[all.iter().position(|n| *n == owner).unwrap_or(0)],
                spawn(&owner),
            );
        }
        let finished = load.wait_all_handled(LOAD_WAIT);
        handled.store(true, Ordering::SeqCst);
        (finished, asker.join().expect("the asker"))
    });
    for (name, run) in running {
        let done = run.interrupt();
        assert_eq!(done.code, Some(0), "instance {name}: {}", done.all_output());
        logs.push_str(&done.stderr);
    }
    assert!(finished, "not every update was handled:\n{logs}");
    assert!(
        logs.contains("left unfinished or queued for a retry; handling them first"),
        "a new owner found the updates a kill interrupted:\n{logs}"
    );
    assert!(
        !logs.contains("getUpdates refused"),
        "two pollers at once:\n{logs}"
    );
    let (doubt, repeated) = load.assert_handled_once(&logs);
    let list = t.run_with_env(
        &["inbox", "list", "--json"],
        &[("TGSCRIPT_STORE_URL", &store)],
    );
    list.expect_code(0);
    assert_eq!(
        list.stdout.trim(),
        "[]",
        "nothing left unfinished or parked"
    );
    let carried = relayed(&load.server);
    let (done, refused) = check_answers(&answers, |a| carried.get(&a.text).copied().unwrap_or(0));
    failovers.sort();
    eprintln!(
        "cluster crash test: kills after {kills:?} messages; failover (kill -9 → first message from {stand_in}) median {:?}, max {:?}, all {failovers:?}; {doubt} call(s) without an answer, {repeated} made again; {} gateway requests, {done} carried out, error events by status {refused:?}",
        failovers[failovers.len() / 2],
        failovers[failovers.len() - 1],
        answers.len(),
    );
}

/// The secret every `setWebhook` of `bot` gave (the same from every owner).
fn webhook_secret(bot: &ClusterBot, sets: usize) -> String {
    let calls = bot
        .server
        .wait_for(WAIT, |calls| {
            calls.iter().filter(|c| c.method == "setWebhook").count() >= sets
        })
        .unwrap_or_else(|calls| panic!("bot {}: {sets} setWebhook: {calls:#?}", bot.id));
    let secrets: Vec<String> = calls
        .iter()
        .filter(|c| c.method == "setWebhook")
        .map(|c| {
            c.params["secret_token"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        secrets.iter().all(|s| *s == secrets[0] && !s.is_empty()),
        "bot {}: one secret from every owner: {secrets:?}",
        bot.id
    );
    secrets[0].clone()
}

#[test]
fn a_webhook_delivery_to_any_instance_is_kept_in_jetstream_and_handled_once_by_the_owner() {
    let nats = Nats::start();
    let store = crate::pg::database_url();
    let bots = bots(3);
    let t = TestDir::new();
    let head = "[webhook]\npublic_url = \"https://bots.example/\"\n\n";
    config_of(&t, &bots, "webhook", head);
    let names = ["a", "b", "c"];
    let mut running: BTreeMap<&str, Background> = BTreeMap::new();
    for name in names {
        // Each instance's listener on a port of its own, read from its log.
        let env = [("TGSCRIPT_WEBHOOK_LISTEN", "127.0.0.1:0")];
        running.insert(name, instance_with(&t, name, &nats, &store, &bots, &env));
    }
    let addresses: BTreeMap<&str, String> = running
        .iter()
        .map(|(name, run)| (*name, run.webhook_address()))
        .collect();
    let url = |name: &str, bot: &str| format!("http://{}/webhook/{bot}", addresses[name]);
    let all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let before = owners(&bots, &all);
    for (bot, owner) in &before {
        running[owner].wait_stderr(&format!("bot {bot}: running on instance {owner}"), 1, WAIT);
    }
    // Each update posted to two instances (Telegram delivering again): handled once.
    for (i, bot) in bots.iter().enumerate() {
        let secret = webhook_secret(bot, 1);
        let body = update(&bot.server, 1, "one").to_string();
        for name in [names[i % 3], names[(i + 1) % 3]] {
            assert_eq!(post(&url(name, &bot.id), Some(&secret), &body), 200);
        }
        assert_eq!(post(&url(names[i % 3], &bot.id), Some("wrong"), &body), 401);
        let broken = post(&url(names[i % 3], &bot.id), Some(&secret), "not an update");
        assert_eq!(
            broken, 400,
            "a broken body is refused, not put in the stream"
        );
    }
    // An unknown bot is answered as a wrong secret is: which bots exist is not told.
    assert_eq!(post(&url("a", "nobody"), Some("x"), "{}"), 401);
    for bot in &bots {
        assert_eq!(bot.sent(1), ["one: 1 1"], "bot {}", bot.id);
    }

    // The owner of the most bots is killed; their next updates go to a survivor at once and
    // wait in the stream until a new owner takes them.
    let victim = busiest(&names, &before);
    let killed = running.remove(victim).expect("the victim").kill9();
    let survivor = *running.keys().next().expect("a survivor");
    for bot in &bots {
        let secret = webhook_secret(bot, 1);
        let body = update(&bot.server, 2, "two").to_string();
        assert_eq!(post(&url(survivor, &bot.id), Some(&secret), &body), 200);
    }
    for bot in &bots {
        assert_eq!(bot.sent(2), ["one: 1 1", "two: 2 2"], "bot {}", bot.id);
    }
    let mut logs = killed.stderr;
    for (name, run) in running {
        let done = run.interrupt();
        assert_eq!(done.code, Some(0), "instance {name}: {}", done.all_output());
        logs.push_str(&done.stderr);
    }
    for bot in &bots {
        assert_eq!(
            texts(&bot.server.calls()),
            ["one: 1 1", "two: 2 2"],
            "bot {}",
            bot.id
        );
        if before[&bot.id] == victim {
            webhook_secret(bot, 2);
        }
    }
    assert!(!logs.contains("cannot take webhook updates"), "{logs}");
}
