//! Only what can change is tried again: a refusal (4xx) or a script error is parked after one
//! try; a server error (5xx) is tried again with backoff, and goes through once the server
//! is back. Against the local Bot API server.

use crate::util::{TOKEN, TestDir};
use std::time::Duration;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, Refusal, World};

const WAIT: Duration = Duration::from_secs(30);
const ALICE: i64 = 1001;

const SCENARIO: &str = r#"
fn on_message(msg) {
    if msg.text == "refused" { tg_ban_chat_member(msg.chat.id, 7000000001); }
    if msg.text == "flaky" { send_message(msg.chat.id, "after"); }
}
"#;

#[test]
fn a_refusal_is_parked_after_one_try_and_a_server_error_is_tried_again() {
    let mut world = World::new();
    world.add_user(ALICE, "Alice");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("server");
    let t = TestDir::new();
    t.write("scripts/s.rhai", SCENARIO);
    let url = server.url();
    let bot = t.spawn(
        &["run", "scripts"],
        &[("TELOXIDE_TOKEN", TOKEN), ("TELOXIDE_API_URL", &url)],
    );
    bot.wait_stderr("loaded scripts/s.rhai: ok", 1, WAIT);
    server.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, "refused", None));
    bot.wait_stderr("parked after one try", 1, WAIT);
    assert_eq!(
        server.calls_of("banChatMember").len(),
        1,
        "a refusal is not asked again"
    );

    // Telegram's 502 for the first try's sendMessage: tried again with backoff.
    server.world(|w| {
        w.fail_next("sendMessage", Refusal::bad_gateway());
        w.user_message(SANDBOX_CHAT_ID, ALICE, "flaky", None);
    });
    bot.wait_stderr("try 1 failed; trying again", 1, WAIT);
    let after = server.wait_for(WAIT, |calls| {
        calls.iter().filter(|c| c.params["text"] == "after").count() >= 2
    });
    assert!(after.is_ok(), "{}", bot.stderr_so_far());
    let done = bot.interrupt();
    assert_eq!(
        done.stderr.matches("parked").count(),
        1,
        "only the refusal is parked:\n{}",
        done.stderr
    );
}
