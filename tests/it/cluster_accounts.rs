//! Accounts in a cluster on a real NATS server and PostgreSQL: each account (a sandbox one and
//! a real offline libtdjson one, from `[[account]]`, and one added over the gateway) is opened
//! by one instance only, any instance's gateway reaches it there, its events reach subscribers
//! on the other instances, and when its instance is killed another opens it.

use crate::account_events::request;
use crate::accounts::{API_HASH, tdlib_data_dir};
use crate::cluster::{ClusterBot, WAIT, bots, config_of, instance_with};
use crate::gateway::{connect, runtime};
use crate::nats::Nats;
use crate::protocol::command;
use crate::util::{Background, TestDir};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tgscript::cluster::assign;

const ADMIN: &str = "cluster-accounts-admin-token";

/// The accounts of the config: a sandbox one (the default) and a TDLib one whose database
/// is in the folder every instance shares.
const ACCOUNTS: &str = "default_account = 7\n\n[gateway]\nlisten = \"127.0.0.1:0\"\nadmin_token = \"cluster-accounts-admin-token\"\n\n[[account]]\nid = 7\nbackend = \"sandbox\"\n\n[[account]]\nid = 8\nbackend = \"tdlib\"\napi_id = 12345\napi_hash_env = \"TEST_API_HASH\"\ndata_dir = \"account-8\"\n\n";

/// The instance the cluster `live` gives account `id` to.
fn owner_of(id: i64, live: &[String]) -> String {
    assign::owner(&format!("account:{id}"), live)
        .expect("an owner")
        .to_string()
}

/// Ask `addr` for `request` until it is answered with something else than 503 (nobody ran
/// the account while it moved), within [`WAIT`].
fn answered(addr: &str, token: Option<&str>, request: &Value) -> (u16, Value) {
    let started = Instant::now();
    loop {
        let (status, event) = command(addr, token, request);
        if status != 503 || started.elapsed() > WAIT {
            return (status, event);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `list_accounts` on `addr` once it shows `expected` (id → state), within [`WAIT`].
fn listed(addr: &str, expected: &BTreeMap<i64, &str>) -> BTreeMap<i64, String> {
    let started = Instant::now();
    loop {
        let (status, list) = command(addr, Some(ADMIN), &json!({"action": "list_accounts"}));
        assert_eq!(status, 200, "{list}");
        let got: BTreeMap<i64, String> = list["data"]["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .map(|a| {
                let state = a["authorization_state"]["state"].as_str().unwrap_or("?");
                (a["userbot_id"].as_i64().unwrap_or(-1), state.to_string())
            })
            .collect();
        let wanted: BTreeMap<i64, String> =
            expected.iter().map(|(k, v)| (*k, v.to_string())).collect();
        if got == wanted || started.elapsed() > WAIT {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How many times `run` said it opened account `id`.
fn opened(run: &Background, id: i64) -> usize {
    run.stderr_so_far()
        .matches(&format!("account {id}: running on instance"))
        .count()
}

/// Whether account `id` is open on `run` now: opened once more than closed (an instance
/// that saw only part of the cluster as it started may have opened it, and closed it as
/// the others joined).
fn open_now(run: &Background, id: i64) -> bool {
    let closed = run
        .stderr_so_far()
        .matches(&format!("account {id}: closed here"))
        .count();
    opened(run, id) == closed + 1
}

#[test]
fn each_account_runs_on_one_instance_is_reached_from_every_gateway_and_moves_when_its_instance_dies()
 {
    let data = tdlib_data_dir();
    let nats = Nats::start();
    let store = crate::pg::database_url();
    let bots: Vec<ClusterBot> = bots(1);
    let t = TestDir::new();
    config_of(&t, &bots, "polling", ACCOUNTS);
    let names = ["a", "b", "c"];
    let env = [("TGSCRIPT_DATA_DIR", data), ("TEST_API_HASH", API_HASH)];
    let mut running: BTreeMap<&str, Background> = names
        .iter()
        .map(|n| (*n, instance_with(&t, n, &nats, &store, &bots, &env)))
        .collect();
    let addrs: BTreeMap<&str, String> = running
        .iter()
        .map(|(name, run)| (*name, run.gateway_address()))
        .collect();
    let all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let (owner7, owner8) = (owner_of(7, &all), owner_of(8, &all));
    for (id, owner) in [(7, &owner7), (8, &owner8)] {
        running[owner.as_str()].wait_stderr(
            &format!("account {id}: running on instance {owner}"),
            1,
            WAIT,
        );
    }

    // Every gateway reaches both accounts on their owners: the sandbox account's sessions,
    // and TDLib's own 401 from the offline client (relayed, not a relay error).
    for name in names {
        let sessions = json!({"action": "get_active_sessions", "userbot_id": 7});
        let (status, event) = answered(&addrs[name], None, &sessions);
        assert_eq!(status, 200, "via {name}: {event}");
        assert_eq!(event["data"]["sessions"][0]["id"], json!(1001), "{event}");
        let tdlib = json!({"action": "get_active_sessions", "userbot_id": 8});
        let (status, event) = answered(&addrs[name], None, &tdlib);
        assert_eq!(event["code"], json!(401), "via {name}: {status} {event}");
        assert!(
            event["error"]
                .as_str()
                .is_some_and(|e| e.ends_with("Unauthorized")),
            "{event}"
        );
    }
    let expected = BTreeMap::from([(7, "ready"), (8, "wait_phone_number")]);
    for name in names {
        assert_eq!(
            listed(&addrs[name], &expected),
            expected.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            "list_accounts on {name}"
        );
    }
    // Open on its owner only, and the TDLib database is the shared folder's.
    for name in names {
        assert_eq!(open_now(&running[name], 7), owner7 == name, "{name}");
        assert_eq!(open_now(&running[name], 8), owner8 == name, "{name}");
    }
    assert!(t.path().join("account-8").is_dir());

    // An account added through one instance runs on its owner; its login steps, asked on a
    // third instance, are pushed to a subscriber on a fourth (or the same) one.
    let owner9 = owner_of(9, &all);
    let adder = names.iter().find(|n| **n != owner9).expect("another");
    let add = json!({"action": "add_account", "userbot_id": 9, "backend": "sandbox", "phone": "+15550001234"});
    let (status, added) = command(&addrs[adder], Some(ADMIN), &add);
    assert_eq!(status, 200, "{added}");
    assert_eq!(
        added["data"]["authorization_state"]["state"],
        json!("wait_phone_number"),
        "{added}"
    );
    running[owner9.as_str()].wait_stderr("account 9: running on instance", 1, WAIT);
    let watcher = *names
        .iter()
        .find(|n| **n != owner9 && *n != adder)
        .unwrap_or(adder);
    let pushed = runtime().block_on(async {
        let mut ws = connect(&addrs[watcher], Some(ADMIN))
            .await
            .expect("connect");
        let mut pushed = Vec::new();
        let subscribe = json!({"action": "subscribe", "request_id": 1, "userbot_ids": [9]});
        let subscribed = request(&mut ws, &mut pushed, subscribe).await;
        assert_eq!(subscribed["event"], json!("subscribe"), "{subscribed}");
        let mut asker = connect(&addrs[adder], Some(ADMIN)).await.expect("connect");
        let start = json!({"action": "login_start", "userbot_id": 9});
        let step = request(&mut asker, &mut Vec::new(), start).await;
        assert_eq!(step["data"]["state"], json!("wait_code"), "{step}");
        let deadline = Instant::now() + WAIT;
        while !pushed
            .iter()
            .any(|e: &Value| e["data"]["state"] == "wait_code")
        {
            assert!(Instant::now() < deadline, "no wait_code event: {pushed:?}");
            let event = tokio::time::timeout(WAIT, crate::account_events::next_event(&mut ws))
                .await
                .expect("an event");
            pushed.push(event);
        }
        pushed
    });
    assert!(
        pushed
            .iter()
            .all(|e| e["event"] != json!("authorization_state") || e["userbot_id"] == json!(9)),
        "{pushed:?}"
    );
    // A sandbox act on the account's owner, asked elsewhere.
    let from = json!({"action": "sandbox_login_from", "userbot_id": 7, "location": "Lisbon"});
    let (status, logged) = command(&addrs[watcher], Some(ADMIN), &from);
    assert_eq!(status, 200, "{logged}");
    let session = logged["data"]["session_id"].clone();
    let sessions = json!({"action": "get_active_sessions", "userbot_id": 7});
    let (_, listed_sessions) = command(&addrs[adder], None, &sessions);
    assert!(
        listed_sessions["data"]["sessions"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["id"] == session)),
        "{listed_sessions}"
    );

    // Five times, the owner of account 7 dies: the survivor rendezvous picks opens it (after
    // the claim went with the connection) and every survivor's gateway reaches it there;
    // then the killed instance comes back and takes it back (the survivor closes it first).
    let mut addrs = addrs;
    for round in 1..=5 {
        let killed = *names.iter().find(|n| **n == owner7).expect("owner");
        let killed_at = Instant::now();
        running.remove(killed).expect("running").kill9();
        let survivors: Vec<String> = all.iter().filter(|n| **n != killed).cloned().collect();
        let next7 = owner_of(7, &survivors);
        let next = *names.iter().find(|n| **n == next7).expect("a survivor");
        let before = opened(&running[next], 7);
        running[next].wait_stderr(
            &format!("account 7: running on instance {next7}"),
            before + 1,
            Duration::from_secs(60),
        );
        eprintln!(
            "round {round}: account 7 reopened on {next7} {} ms after the kill of {killed}",
            killed_at.elapsed().as_millis()
        );
        for name in &survivors {
            let (status, event) = answered(&addrs[name.as_str()], None, &sessions);
            assert_eq!(status, 200, "round {round}, via {name}: {event}");
            assert!(event["data"]["sessions"].is_array(), "{event}");
        }
        let back = instance_with(&t, killed, &nats, &store, &bots, &env);
        addrs.insert(killed, back.gateway_address());
        back.wait_stderr(
            &format!("account 7: running on instance {killed}"),
            1,
            Duration::from_secs(60),
        );
        running.insert(killed, back);
        running[next].wait_stderr("account 7: closed here", round, WAIT);
    }
    let survivors: Vec<String> = all.iter().filter(|n| **n != owner7).cloned().collect();

    // Removed through a survivor: gone from every instance's list.
    let remover = survivors[0].as_str();
    let remove = json!({"action": "remove_account", "userbot_id": 9});
    let (status, removed) = command(&addrs[remover], Some(ADMIN), &remove);
    assert_eq!(status, 200, "{removed}");
    let without9 = BTreeMap::from([(7, "ready"), (8, "wait_phone_number")]);
    // And every other account's state followed across the moves (a stand-in whose owner
    // closed it answers again from the next owner, not after a timeout).
    for name in &survivors {
        let got = listed(&addrs[name.as_str()], &without9);
        let wanted: BTreeMap<i64, String> =
            without9.iter().map(|(k, v)| (*k, v.to_string())).collect();
        assert_eq!(got, wanted, "list_accounts on {name}");
    }
    let deleting = json!({"action": "remove_account", "userbot_id": 9, "delete_data": true});
    let (status, refused) = command(&addrs[remover], Some(ADMIN), &deleting);
    assert_eq!(status, 400, "{refused}");
    for (_, run) in running {
        let finished = run.terminate();
        assert!(
            !finished.stderr.contains(API_HASH),
            "the api_hash is never logged"
        );
    }
}
