//! Proactive flood control: a raid handled against a local Bot API server that enforces
//! Telegram's limits (a `429` for any request over them), with fast rates so it runs in
//! seconds.

use crate::bots::{free_port, get, sample};
use crate::util::{TOKEN, TestDir};
use std::time::{Duration, Instant};
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, Recorded, World};
use tgscript::telegram::FloodConfig;

const RATES: FloodConfig = FloodConfig {
    enabled: true,
    per_second: 40,
    per_chat_per_second: 10,
    per_group_per_minute: 480,
};

/// The server's tolerance: what it lets through at once.
const BURST: u32 = 2;

/// Whether `times` keep to one request per `interval` with `BURST` at once (GCRA's rule, the
/// one the server enforces): any `n` of them span at least `n - BURST` intervals.
fn keeps_to(times: &[Instant], interval: Duration) -> Result<(), String> {
    for (i, first) in times.iter().enumerate() {
        for (j, last) in times.iter().enumerate().skip(i + BURST as usize) {
            let n = (j - i + 1) as u32;
            let least = interval * (n - BURST);
            let span = last.duration_since(*first);
            if span < least {
                return Err(format!(
                    "requests {i}..={j} came within {span:?}, under the {least:?} the rate allows"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn a_raid_of_fifty_mutes_and_fifty_posts_keeps_to_the_rates_and_provokes_no_429() {
    let mut world = World::new();
    for id in 5000..5050 {
        world.add_user(id, &format!("Raider {id}"));
        world
            .user_joins(SANDBOX_CHAT_ID, id)
            .expect("a raider joins");
    }
    let server = BotApiServer::start(world, Some(TOKEN)).expect("start the server");
    server.enforce_flood(&RATES);
    let t = TestDir::new();
    t.write(
        "scripts/raid.rhai",
        r#"
        fn on_message(msg) {
            if msg.text == "raid" {
                for i in 0..50 {
                    tg_chat_permission(msg.chat.id, 5000 + i, [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]);
                    send_message(msg.chat.id, `muted ${i}`);
                }
            }
        }
        "#,
    );
    let url = server.url();
    let gateway = format!("127.0.0.1:{}", free_port());
    let run = t.spawn(
        &["run", "scripts"],
        &[
            ("TELOXIDE_TOKEN", TOKEN),
            ("TELOXIDE_API_URL", &url),
            ("TGSCRIPT_FLOOD_ENABLED", "true"),
            ("TGSCRIPT_GATEWAY_LISTEN", &gateway),
            // 100 calls in one handler: exactly the default, so room to spare.
            ("TGSCRIPT_LIMITS_MAX_API_CALLS", "1000"),
            ("TGSCRIPT_FLOOD_PER_SECOND", "40"),
            ("TGSCRIPT_FLOOD_PER_CHAT_PER_SECOND", "10"),
            ("TGSCRIPT_FLOOD_PER_GROUP_PER_MINUTE", "480"),
        ],
    );
    run.wait_stderr(
        "flood control: per bot 40/s, per chat 10/s, per group 480/min",
        1,
        Duration::from_secs(30),
    );
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, 1001, "raid", None));
    let posted = |calls: &[Recorded]| calls.iter().filter(|c| c.method == "sendMessage").count();
    let calls = server
        .wait_for(Duration::from_secs(60), |calls| posted(calls) >= 50)
        .unwrap_or_else(|calls| {
            panic!(
                "50 posts expected, got {}:\n{}",
                posted(&calls),
                run.stderr_so_far()
            )
        });
    // The waits show in /metrics: nearly every post waited for its turn in the group.
    let (_, metrics) = get(&format!("http://{gateway}/metrics"));
    let waits = sample(
        &metrics,
        "tgscript_flood_waits_total",
        &[("method", "sendMessage")],
    );
    assert!(waits.is_some_and(|n| n >= 10.0), "{metrics}");
    let mutes = sample(
        &metrics,
        "tgscript_flood_waits_total",
        &[("method", "restrictChatMember")],
    );
    assert_eq!(mutes, None, "mutes are not held back");
    let waited = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tgscript_flood_wait_seconds_total "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(waited.is_some_and(|s| s > 0.0), "{metrics}");
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());

    assert_eq!(server.flood_refusals(), 0, "{}", done.stderr);
    assert!(!done.stderr.contains("rate limited"), "{}", done.stderr);
    // Nothing dropped, nothing twice: every mute and every post, in order.
    let muted: Vec<i64> = calls
        .iter()
        .filter(|c| c.method == "restrictChatMember")
        .filter_map(|c| c.params["user_id"].as_i64())
        .collect();
    assert_eq!(muted, (5000..5050).collect::<Vec<_>>());
    let posts: Vec<&Recorded> = calls.iter().filter(|c| c.method == "sendMessage").collect();
    let texts: Vec<&str> = posts
        .iter()
        .filter_map(|c| c.params["text"].as_str())
        .collect();
    let expected: Vec<String> = (0..50).map(|i| format!("muted {i}")).collect();
    assert_eq!(texts, expected);

    // Every rate kept, as the server's timestamps show; mutes are not held back.
    let times: Vec<Instant> = posts.iter().map(|c| c.at).collect();
    let second = Duration::from_secs(1);
    keeps_to(&times, second / RATES.per_second).expect("the per-bot rate");
    keeps_to(&times, second / RATES.per_chat_per_second).expect("the per-chat rate");
    keeps_to(&times, second * 60 / RATES.per_group_per_minute).expect("the per-group rate");
    let span = times[49].duration_since(times[0]);
    assert!(
        span >= Duration::from_secs(5),
        "50 posts at 8 a second take 6 s, not {span:?}"
    );
}
