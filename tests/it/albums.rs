//! Albums through the real binary: a sandbox user's album reaches `on_album` once with every
//! part (and the chat's next message after it), while a scenario without `on_album` still
//! gets each part; against the local Bot API server an album is whole after a `kill -9`
//! between its parts.

use crate::crash::{USER, chat_id, sent, server};
use crate::inbox::{bot_env, refs};
use crate::util::TestDir;
use serde_json::Value;
use std::time::Duration;
use tgscript::sandbox::Recorded;
use tgscript::sandbox::world::Post;

const WAIT: Duration = Duration::from_secs(120);

/// Says what album it got: `album of N: [ids]`.
const GALLERY: &str = r#"
fn on_album(messages) {
    let ids = messages.map(|m| m.message_id);
    send_message(messages[0].chat.id, `album of ${messages.len()}: ${ids}`);
}

fn on_message(msg) {
    send_message(msg.chat.id, `message ${msg.text}`);
}
"#;

/// Has no `on_album`: gets each part as a message.
const LOG: &str = r#"
fn on_message(msg) {
    if msg.photo != () {
        send_message(msg.chat.id, `part ${msg.message_id}`);
    }
}
"#;

#[test]
fn a_sandbox_album_reaches_on_album_once_whole_and_the_next_message_after_it() {
    let t = TestDir::new();
    t.write("scripts/gallery.rhai", GALLERY);
    t.write("scripts/log.rhai", LOG);
    let done = t.run_chat("/album 5 Our new flat\nafter\n/album 11\n");
    let out = done.all_output();
    let bot_says = |what: &str| {
        out.lines()
            .filter(|l| l.contains("🤖 bot:") && l.contains(what))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(
        out.contains("#1–#5 alice: [album of 5 photos] Our new flat"),
        "{out}"
    );
    assert_eq!(bot_says("album of").len(), 1, "one album:\n{out}");
    assert!(
        bot_says("album of")[0].ends_with("album of 5: [1, 2, 3, 4, 5]"),
        "{out}"
    );
    assert_eq!(bot_says("part ").len(), 5, "each part to log.rhai:\n{out}");
    let position = |what: &str| out.find(what).unwrap_or(usize::MAX);
    assert!(
        position("album of 5") < position("bot: message after"),
        "the chat's next message waited for the album:\n{out}"
    );
    assert!(out.contains("an album has 2 to 10 parts, not 11"), "{out}");
}

/// A photo of album `group` from the user in chat 0, queued on the server.
fn part(server: &tgscript::sandbox::BotApiServer, group: &str) -> i64 {
    server.world(|w| {
        let post = Post {
            photo: true,
            album: Some(group),
            ..Post::default()
        };
        let message = w.post(chat_id(0), USER, &post).expect("a part");
        message["message_id"].as_i64().unwrap_or_default()
    })
}

#[test]
fn an_album_is_whole_when_the_process_is_killed_between_its_parts() {
    let t = TestDir::new();
    t.write("scripts/gallery.rhai", GALLERY);
    t.write("scripts/log.rhai", LOG);
    let server = server(1);
    server
        .world(|w| w.user_joins(chat_id(0), USER))
        .expect("alice joins");
    let first: Vec<i64> = (0..2).map(|_| part(&server, "g1")).collect();
    let mut vars = bot_env(&server).to_vec();
    // Long enough that the kill lands before the album is complete.
    vars.push(("TGSCRIPT_SCRIPTS_ALBUM_WAIT_MS", "4000".to_string()));
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let seen = |calls: &[Recorded]| sent(calls).iter().any(|(_, text)| text.starts_with("part"));
    let handled = server.wait_for(WAIT, seen);
    assert!(
        handled.is_ok(),
        "the first part was never handled\n{}",
        bot.stderr_so_far()
    );
    let killed = bot.kill9();
    assert!(
        !sent(&server.calls())
            .iter()
            .any(|(_, text)| text.starts_with("album")),
        "killed before the album was complete\n{}",
        killed.stderr
    );
    let rest: Vec<i64> = (0..3).map(|_| part(&server, "g1")).collect();
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let albums = |calls: &[Recorded]| {
        sent(calls)
            .into_iter()
            .filter(|(_, text)| text.starts_with("album"))
            .map(|(_, text)| text)
            .collect::<Vec<_>>()
    };
    let whole = server.wait_for(WAIT, |calls| !albums(calls).is_empty());
    assert!(whole.is_ok(), "no album\n{}", bot.stderr_so_far());
    // The chat's next message is answered after the album: a second album would be before.
    server.world(|w| w.user_message(chat_id(0), USER, "end", None));
    let ended = server.wait_for(WAIT, |calls| {
        sent(calls).iter().any(|(_, text)| text == "message end")
    });
    let last = bot.interrupt();
    assert!(ended.is_ok(), "{}", last.stderr);
    let ids: Vec<String> = first.iter().chain(&rest).map(i64::to_string).collect();
    assert_eq!(
        albums(&server.calls()),
        [format!("album of 5: [{}]", ids.join(", "))],
        "{}",
        last.stderr
    );
}

#[test]
fn send_media_group_uploads_its_files_as_parts_of_one_multipart_call() {
    use base64::Engine;
    use tgscript::sandbox::params::as_telegram_reads;
    use tgscript::sandbox::world::SANDBOX_CHAT_ID;
    use tgscript::sandbox::{BotApiServer, World};
    let server = BotApiServer::start(World::new(), Some(crate::util::TOKEN)).expect("a server");
    let t = TestDir::new();
    let front: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    std::fs::write(t.path().join("front.jpg"), &front).expect("a photo");
    let c = SANDBOX_CHAT_ID;
    t.write(
        "s.rhai",
        &format!(
            r#"
        let sent = send_media_group({c}, [
            #{{type: "photo", media: asset("front.jpg"), caption: "Our new flat"}},
            #{{type: "photo", media: blob(3, 66)}},
            #{{type: "video", media: "https://example.com/tour.mp4"}},
        ], #{{disable_notification: true}});
        sent.map(|m| [m.message_id, m.media_group_id])
        "#
        ),
    );
    let url = server.url();
    let run = t.run_with_env(
        &["exec", "s.rhai", "--json"],
        &[
            ("TELOXIDE_TOKEN", crate::util::TOKEN),
            ("TELOXIDE_API_URL", &url),
        ],
    );
    run.expect_code(0);
    let sent: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let sent = sent.as_array().cloned().unwrap_or_default();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(
        sent.iter().all(|m| m[1] == sent[0][1] && m[1].is_string()),
        "{sent:?}"
    );
    let calls = server.calls();
    let call = calls
        .iter()
        .find(|c| c.method == "sendMediaGroup")
        .expect("a sendMediaGroup call");
    assert!(
        call.content_type.starts_with("multipart/form-data"),
        "{}",
        call.content_type
    );
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let params = call.params.as_object().cloned().unwrap_or_default();
    assert_eq!(
        Value::Object(as_telegram_reads(params)),
        serde_json::json!({
            "chat_id": c,
            "disable_notification": true,
            "file0": {"base64": b64(&front), "filename": "front.jpg"},
            "file1": {"base64": b64(b"BBB"), "filename": "media"},
            "media": [
                {"type": "photo", "media": "attach://file0", "caption": "Our new flat"},
                {"type": "photo", "media": "attach://file1"},
                {"type": "video", "media": "https://example.com/tour.mp4"},
            ],
        })
    );
    let without_files = t.write(
        "urls.rhai",
        &format!(
            r#"send_media_group({c}, [#{{type: "photo", media: "a"}}, #{{type: "photo", media: "b"}}]).len()"#
        ),
    );
    t.run_with_env(
        &["exec", without_files.to_str().unwrap_or_default(), "--json"],
        &[
            ("TELOXIDE_TOKEN", crate::util::TOKEN),
            ("TELOXIDE_API_URL", &url),
        ],
    )
    .expect_code(0)
    .expect_stdout("2\n");
    let last = server.calls().pop().expect("a call");
    assert_eq!(last.content_type, "application/json", "no files, no form");
}
