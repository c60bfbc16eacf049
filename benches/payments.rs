//! Payments benchmark: how long a pre-checkout query waits behind a busy queue. `tgscript run`
//! (release binary) against the local Bot API server, the inbox on, scripts in worker
//! processes: 1,000 messages over 100 chats, each handled in about 5 ms, are queued, then a
//! user pays an invoice. Timed from the moment the bot polls: until the pre-checkout query is
//! answered (a build that does not ask for pre-checkout queries never gets one), and until the
//! last message is answered. Median of 5 rounds. With `BENCH_BASELINE=<another build>` that
//! build runs too, round by round in alternation.
//!
//!   cargo bench --bench payments   (BENCH_TGSCRIPT=<another build> to measure that one)

#[path = "common/binary.rs"]
mod binary;
#[path = "common/polling.rs"]
mod polling;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, World};

const MESSAGES: usize = 1000;
const CHATS: i64 = 100;
const ROUNDS: usize = 5;
const TOKEN: &str = "123456789:AAHbenchTokenForThePaymentsBench_xyz";
const USER: i64 = 1001;

/// Slow messages, and a yes to each pre-checkout query (through `bot_api`, so that builds
/// before `answer_pre_checkout_query` run it too).
const SHOP: &str = r#"
fn on_message(msg) {
    sleep(0.005);
    reply(msg.text);
}
fn on_update(update) {
    if "pre_checkout_query" in update {
        bot_api("answerPreCheckoutQuery", #{pre_checkout_query_id: update.pre_checkout_query.id, ok: true});
    }
}
"#;

/// One round with `binary`: seconds until the pre-checkout query was answered, and until
/// the last message was.
fn round(binary: &Path) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("scripts")).expect("scripts dir");
    std::fs::write(dir.path().join("scripts/shop.rhai"), SHOP).expect("scenario");
    let mut world = World::empty();
    world.add_user(USER, "Alice");
    world.add_chat(USER, ChatKind::Private, "Alice");
    for c in 0..CHATS {
        world.add_chat(-1_002_000_000_000 - c, ChatKind::Supergroup, "bench");
    }
    for i in 0..MESSAGES {
        let chat = -1_002_000_000_000 - (i as i64 % CHATS);
        world.user_message(chat, USER, &format!("m{i}"), None);
    }
    let invoice = json!({"chat_id": USER, "title": "Pro", "description": "All", "payload": "pro",
        "currency": "XTR", "prices": [{"label": "Pro", "amount": 100}]});
    if let Value::Object(invoice) = invoice {
        world.call("sendInvoice", &invoice).expect("an invoice");
    }
    world.pay(USER, USER, None).expect("a payment");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("server");
    let mut child = polling::start(binary, dir.path(), &server, TOKEN);
    let started = Instant::now();
    let answered = |calls: &[tgscript::sandbox::Recorded]| {
        calls
            .iter()
            .any(|c| c.method.eq_ignore_ascii_case("answerPreCheckoutQuery"))
    };
    server
        .wait_for(Duration::from_secs(300), |calls| {
            calls
                .iter()
                .filter(|c| c.method.eq_ignore_ascii_case("sendMessage"))
                .count()
                >= MESSAGES
        })
        .expect("every message answered");
    // A build that does not ask for pre-checkout queries (allowed_updates) never gets it.
    let done = server
        .wait_for(Duration::from_secs(5), answered)
        .unwrap_or_else(|calls| calls);
    let _ = child.kill();
    let _ = child.wait();
    let at = |method: &str| {
        done.iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .map(|c| c.at.duration_since(started).as_secs_f64())
            .reduce(f64::max)
    };
    (
        at("answerPreCheckoutQuery").unwrap_or(f64::INFINITY),
        at("sendMessage").unwrap_or(f64::INFINITY),
    )
}

fn main() {
    let mut builds: Vec<(String, PathBuf)> = vec![("this build".into(), binary::tgscript())];
    if let Some(base) = std::env::var_os("BENCH_BASELINE") {
        builds.push(("baseline".into(), base.into()));
    }
    println!(
        "payments benchmark: {MESSAGES} messages (~5 ms each) over {CHATS} chats, then a payment; median of {ROUNDS} rounds"
    );
    let mut times = vec![(Vec::new(), Vec::new()); builds.len()];
    for _ in 0..ROUNDS {
        for (i, (_, binary)) in builds.iter().enumerate() {
            let (answered, all) = round(binary);
            times[i].0.push(answered);
            times[i].1.push(all);
        }
    }
    for ((name, _), (answered, all)) in builds.iter().zip(times) {
        let (answered, all) = (polling::median(answered), polling::median(all));
        let query = match answered.is_finite() {
            true => format!(
                "answered after {:.0} ms ({:.0}% of the way)",
                answered * 1000.0,
                100.0 * answered / all
            ),
            false => "never answered (not in its allowed_updates)".to_string(),
        };
        println!(
            "{name:>10}: the {MESSAGES} messages answered after {:.0} ms; the pre-checkout query {query}",
            all * 1000.0
        );
    }
}
