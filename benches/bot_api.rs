//! Bot API client per call, as a Criterion micro-benchmark: `BotClient::call` (its layers and
//! teloxide's HTTP client) against the local Bot API server in this process, over loopback
//! HTTP. What a script's Bot API call costs tgscript before Telegram's own latency:
//! `sendMessage` with flood control off, and `getMe` with flood control on (a read, which it
//! lets through at once).
//!
//!   cargo bench --bench bot_api

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use tgscript::sandbox::world::ChatKind;
use tgscript::sandbox::{BotApiServer, World};
use tgscript::telegram::{BotClient, FloodConfig};

const TOKEN: &str = "123456789:AAHbenchTokenForTheBotApiBenchmark_xy";
const CHAT: i64 = -1_001_000_000_000;

fn bot_api(c: &mut Criterion) {
    let mut world = World::empty();
    world.add_chat(CHAT, ChatKind::Supergroup, "bench");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("server");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let off = FloodConfig {
        enabled: false,
        ..FloodConfig::default()
    };
    let plain = BotClient::new(TOKEN, Some(&server.url()))
        .expect("client")
        .with_flood(&off);
    let flood = BotClient::new(TOKEN, Some(&server.url()))
        .expect("client")
        .with_flood(&FloodConfig::default());
    let send = json!({"chat_id": CHAT, "text": "hello"});
    let me = json!({});
    runtime
        .block_on(plain.call("sendMessage", &send))
        .expect("the server takes the message");
    runtime
        .block_on(flood.call("getMe", &me))
        .expect("the server answers getMe");
    c.bench_function(
        "sendMessage through BotClient::call, flood control off",
        |b| b.iter(|| runtime.block_on(plain.call("sendMessage", black_box(&send)))),
    );
    c.bench_function("getMe through BotClient::call, flood control on", |b| {
        b.iter(|| runtime.block_on(flood.call("getMe", black_box(&me))))
    });
}

criterion_group!(benches, bot_api);
criterion_main!(benches);
