//! `tgscript backup` while `run` handles a stream of updates: the copy opens, passes its
//! check, and holds every update the bot had acknowledged (and so answered) before it began.

use crate::util::{TOKEN, TestDir};
use std::time::Duration;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, World};

const ALICE: i64 = 1001;

fn replies(server: &BotApiServer) -> usize {
    server
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage")
        .count()
}

#[test]
fn a_backup_under_load_holds_every_update_acknowledged_before_it_began() {
    let mut world = World::new();
    world.add_user(ALICE, "Alice");
    let server = BotApiServer::start(world, Some(TOKEN)).expect("start the local Bot API server");
    let t = TestDir::new();
    t.write(
        "scripts/echo.rhai",
        "fn on_message(msg) { chat_set(\"last\", msg.text); send_message(msg.chat.id, msg.text); }\n",
    );
    let url = server.url();
    let env = [
        ("TELOXIDE_TOKEN", TOKEN),
        ("TELOXIDE_API_URL", url.as_str()),
    ];
    let run = t.spawn(&["run", "scripts"], &env);
    let total = 600;
    for n in 0..total {
        server.world(|w| w.user_message(SANDBOX_CHAT_ID, ALICE, &format!("m{n}"), None));
    }
    server
        .wait_for(Duration::from_secs(20), |calls| {
            calls.iter().filter(|c| c.method == "sendMessage").count() >= 50
        })
        .unwrap_or_else(|calls| panic!("no replies: {calls:#?}"));
    // Every update answered by now was kept (and acknowledged) before it was handled.
    let answered = replies(&server);
    let copy = t.path().join("copy.db");
    t.run(&["backup", "copy.db"])
        .expect_code(0)
        .expect_stderr_contains("backed up");
    t.run(&["backup", "copy.db"])
        .expect_code(2)
        .expect_stderr_contains("pass --force");
    server
        .wait_for(Duration::from_secs(30), |calls| {
            calls.iter().filter(|c| c.method == "sendMessage").count() >= total
        })
        .unwrap_or_else(|calls| panic!("the run stopped answering: {} calls", calls.len()));
    let done = run.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());

    let db = rusqlite::Connection::open(&copy).expect("the copy opens");
    let kept: usize = db
        .query_row(
            "SELECT COUNT(*) FROM inbox WHERE bot = 'default'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as usize)
        .expect("the copy has the inbox");
    assert!(
        kept >= answered && kept <= total,
        "{kept} kept, {answered} answered before the backup"
    );
    let version: i64 = db
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .expect("schema version");
    assert!(version >= 5, "schema {version}");
    let last: Option<String> = db
        .query_row("SELECT value FROM state WHERE key = 'last'", [], |r| {
            r.get(0)
        })
        .ok();
    assert!(last.is_some(), "script state is in the copy too");
}
