//! Inbox benchmark: what keeping every update in the database costs, and what running scripts
//! in worker processes costs. `tgscript run` (release binary) against the local Bot API
//! server; 2,000 updates over 20 chats are queued at once and timed from the queueing until
//! the last reply arrived, for `[inbox] enabled` true and false and `[scripts] isolation`
//! process and inline, in alternation (5 rounds each, side by side). Two scenarios: a bare
//! reply, and a reply that also counts messages in chat state (a durable write per update
//! either way).
//!
//!   cargo bench --bench inbox   (BENCH_TGSCRIPT=<another build> to measure that one)

#[path = "common/binary.rs"]
mod binary;
#[path = "common/polling.rs"]
mod polling;

use std::sync::mpsc;
use std::time::{Duration, Instant};
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, World};

const UPDATES: usize = 2000;
const CHATS: i64 = 20;
const ROUNDS: usize = 5;
const TOKEN: &str = "123456789:AAHbenchTokenForTheInboxBenchmark_xyz";
const USER: i64 = 1001;

const REPLY: &str = "fn on_message(msg) {\n    reply(msg.text);\n}\n";
const COUNT_AND_REPLY: &str = "fn on_message(msg) {\n    let n = (chat_get(\"n\") ?? 0) + 1;\n    chat_set(\"n\", n);\n    reply(`${msg.text} #${n}`);\n}\n";

/// One round: a fresh server and data dir; seconds from queueing to the last reply.
fn round(script: &str, inbox: bool, isolation: &str) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("scripts")).expect("scripts dir");
    std::fs::write(dir.path().join("scripts/bench.rhai"), script).expect("scenario");
    std::fs::write(
        dir.path().join("tgscript.toml"),
        format!("[inbox]\nenabled = {inbox}\n[scripts]\nisolation = \"{isolation}\"\n"),
    )
    .expect("config");
    let mut world = World::empty();
    world.add_user(USER, "Alice");
    for c in 0..CHATS {
        world.add_chat(-1_002_000_000_000 - c, ChatKind::Supergroup, "bench");
    }
    let server = BotApiServer::start(world, Some(TOKEN)).expect("server");
    let mut child = polling::start(&binary::tgscript(), dir.path(), &server, TOKEN);
    let (tx, rx) = mpsc::channel();
    server.observe(Box::new(move |call, _| {
        if call.method.eq_ignore_ascii_case("sendMessage") {
            let _ = tx.send(());
        }
    }));
    let started = Instant::now();
    server.world(|w| {
        for i in 0..UPDATES {
            let chat = -1_002_000_000_000 - (i as i64 % CHATS);
            w.user_message(chat, USER, &format!("m{i}"), None);
        }
    });
    let mut seen = 0;
    while seen < UPDATES {
        rx.recv_timeout(Duration::from_secs(120))
            .expect("replies keep coming");
        seen += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn main() {
    println!(
        "inbox benchmark: {UPDATES} updates over {CHATS} chats, median of {ROUNDS} rounds each, alternating"
    );
    let per_update = |seconds: f64| seconds * 1e6 / UPDATES as f64;
    for (name, script) in [("reply", REPLY), ("chat_set + reply", COUNT_AND_REPLY)] {
        let configs = [
            (true, "process"),
            (true, "inline"),
            (false, "process"),
            (false, "inline"),
        ];
        let mut times = vec![Vec::new(); configs.len()];
        for _ in 0..ROUNDS {
            for (i, (inbox, isolation)) in configs.iter().enumerate() {
                times[i].push(round(script, *inbox, isolation));
            }
        }
        let medians: Vec<f64> = times.into_iter().map(polling::median).collect();
        for (i, (inbox, isolation)) in configs.iter().enumerate() {
            println!(
                "{name:>18}: inbox {:<3} isolation {isolation:<7} {:>7.0} updates/s ({:.0} µs/update)",
                if *inbox { "on" } else { "off" },
                UPDATES as f64 / medians[i],
                per_update(medians[i]),
            );
        }
        println!(
            "{name:>18}: inbox cost {:.0} µs/update (process), isolation cost {:.0} µs/update with the inbox, {:.0} without",
            per_update(medians[0] - medians[2]),
            per_update(medians[0] - medians[1]),
            per_update(medians[2] - medians[3]),
        );
    }
}
