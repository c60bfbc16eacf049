//! Salebot's `tg_*` family by name, through the real binary (`exec`) against the local Bot
//! API server: every builtin of the family sends exactly the request Telegram would get, and
//! the sandbox behind it answers with state (topics close, a poll stops, a reaction stays).

use crate::util::{TOKEN, TestDir};
use serde_json::{Value, json};
use tgscript::sandbox::params::as_telegram_reads;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, World};

const ALICE: i64 = 1001;
const BOB: i64 = 1002;
const CAROL: i64 = 1003;

/// Run `script` with `exec --json` against `server`; its result, after asserting exit 0 and
/// no token in the output.
fn exec(server: &BotApiServer, script: &str) -> Value {
    let t = TestDir::new();
    t.write("s.rhai", script);
    let url = server.url();
    let run = t.run_with_env(
        &["exec", "s.rhai", "--json"],
        &[("TELOXIDE_TOKEN", TOKEN), ("TELOXIDE_API_URL", &url)],
    );
    run.expect_code(0);
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "token leaked"
    );
    serde_json::from_str(&run.stdout).expect("the script's result as JSON")
}

/// Each recorded call as `(method, params)`, params read as Telegram reads them (a multipart
/// call's text fields as their kinds).
fn calls(server: &BotApiServer) -> Vec<(String, Value)> {
    server
        .calls()
        .into_iter()
        .map(|call| {
            let params = call.params.as_object().cloned().unwrap_or_default();
            (call.method, Value::Object(as_telegram_reads(params)))
        })
        .collect()
}

/// The id of the newest callback query the world handed out.
fn newest_query(world: &mut World) -> String {
    world
        .updates_from(0, 1000)
        .iter()
        .rev()
        .find_map(|u| u["callback_query"]["id"].as_str().map(str::to_string))
        .expect("a callback query was queued")
}

#[test]
fn every_name_of_the_family_sends_its_exact_request() {
    let server = BotApiServer::start(World::new(), Some(TOKEN)).expect("start the server");
    // A button press to answer with a URL: a message with a button, pressed by Alice.
    let query = server.world(|w| {
        let keyboard = json!({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]});
        let params = json!({"chat_id": SANDBOX_CHAT_ID, "text": "Press", "reply_markup": keyboard});
        w.call("sendMessage", params.as_object().expect("a map"))
            .expect("the bot's message");
        w.press_button(SANDBOX_CHAT_ID, ALICE, None, "go")
            .expect("a press");
        newest_query(w)
    });
    let c = SANDBOX_CHAT_ID;
    let got = exec(
        &server,
        &format!(
            r#"
        let c = {c};
        let before = now();
        let topic = tg_create_forum_topic(c, "Support", (), 7322096);
        let t = topic.message_thread_id;
        tg_edit_forum_topic(c, t, "Help desk");
        tg_close_forum_topic(c, t);
        tg_reopen_forum_topic(c, t);
        tg_unpin_topic_messages(c, t);
        tg_delete_forum_topic(c, t);
        tg_edit_general_forum_topic(c, "Lobby");
        tg_close_general_forum_topic(c);
        tg_reopen_general_forum_topic(c);
        tg_hide_general_forum_topic(c);
        tg_unhide_general_forum_topic(c);
        let photo = send_photo(c, "https://example.com/a.png", #{{caption: "Old"}});
        let p = photo.message_id;
        let copy = tg_copy_message({ALICE}, c, p);
        let forwarded = tg_forward_message({ALICE}, c, p, #{{disable_notification: true}});
        let captioned = tg_edit_message_caption(c, p, "New");
        let replaced = tg_edit_message_media(c, p, #{{type: "video", media: "https://example.com/b.mp4"}});
        let uploaded = tg_edit_message_media(c, p, #{{type: "document", media: blob(3, 65)}});
        tg_set_my_description("I keep order");
        let description = tg_get_my_description();
        tg_set_my_short_description("Moderator", "en");
        let short = tg_get_my_short_description("en");
        let commands = tg_get_my_commands();
        tg_delete_my_commands(#{{scope: #{{type: "all_group_chats"}}}});
        let count = tg_get_chat_member_count(c);
        tg_promote_chat_member(c, {ALICE}, #{{can_pin_messages: true}});
        tg_set_administrator_title(c, {ALICE}, "Keeper");
        let alice = tg_get_chat_member(c, {ALICE});
        tg_send_chat_action(c, "typing");
        tg_set_message_reaction(c, p, "👍");
        tg_callback_url_open("{query}", "https://t.me/sandbox_bot?start=go", 5);
        tg_send_animation(c, "https://example.com/a.gif");
        tg_send_audio(c, "https://example.com/a.mp3", #{{title: "Anthem"}});
        tg_send_sticker(c, "CAACAgIAAxkBAAEB");
        tg_send_video(c, "https://example.com/v.mp4");
        tg_send_video_note(c, "DQACAgIAAxkBAAEC");
        let voice = tg_send_voice(c, blob(4, 66));
        tg_send_contact(c, "+15551234567", "Desk");
        let dice = tg_send_dice(c, "🎯");
        tg_send_location(c, 51.5, -0.125);
        tg_send_venue(c, 51.5, -0.125, "Meetup", "London");
        let poll = tg_send_poll(c, "Lunch?", ["pizza", "sushi"], false, true);
        let quiz = tg_send_quiz_poll(c, "2 + 2?", ["3", "4"], "Count again.", 2);
        let stopped = tg_stop_poll(c, poll.message_id);
        tg_unpin_all(c);
        tg_ban_chat_member(c, {BOB}, 2);
        tg_restrict_chat_member(c, {CAROL}, 3, [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]);
        #{{
            before: before, after: now(), topic: t, photo: p, copy: copy.message_id,
            forwarded: forwarded.forward_origin.type, caption: captioned.caption,
            video: replaced.video.file_id, uploaded: uploaded.document.file_id,
            description: description.description, short: short.short_description,
            commands: commands, count: count, title: alice.custom_title,
            voice: voice.voice.file_id, dice: dice.dice.value, poll: poll.message_id,
            quiz: quiz.poll.correct_option_id, stopped: stopped.is_closed,
        }}
        "#
        ),
    );
    let int = |key: &str| {
        got[key]
            .as_i64()
            .unwrap_or_else(|| panic!("{key} in {got}"))
    };
    let (t, p, poll) = (int("topic"), int("photo"), int("poll"));
    let calls = calls(&server);
    let field = |method: &str, key: &str| -> i64 {
        calls
            .iter()
            .find(|(m, _)| m == method)
            .and_then(|(_, params)| params[key].as_i64())
            .unwrap_or_else(|| panic!("{method}.{key} in {calls:#?}"))
    };
    // The lengths became until_date by the clock the script saw.
    let (ban_until, mute_until) = (
        field("banChatMember", "until_date"),
        field("restrictChatMember", "until_date"),
    );
    assert!(
        (int("before")..=int("after")).contains(&(ban_until - 2 * 3600)),
        "2 hours from the call: {ban_until} in {got}"
    );
    assert!(
        (int("before")..=int("after")).contains(&(mute_until - 3 * 60)),
        "3 minutes from the call: {mute_until} in {got}"
    );
    // Salebot's all-zero flags, as tg_chat_permission maps them (tested on their own).
    let all_false = tgscript::telegram::permissions::from_flag_lists(
        &json!([0, 0, 0, 0, 0, 0, 0, 0, 0]),
        &json!([0, 0, 0, 0, 0, 0]),
    )
    .expect("valid flags");
    let upload = |bytes: &str, name: &str| json!({"base64": bytes, "filename": name});
    let expected: Vec<(&str, Value)> = vec![
        (
            "createForumTopic",
            json!({"chat_id": c, "name": "Support", "icon_color": 7322096}),
        ),
        (
            "editForumTopic",
            json!({"chat_id": c, "message_thread_id": t, "name": "Help desk"}),
        ),
        (
            "closeForumTopic",
            json!({"chat_id": c, "message_thread_id": t}),
        ),
        (
            "reopenForumTopic",
            json!({"chat_id": c, "message_thread_id": t}),
        ),
        (
            "unpinAllForumTopicMessages",
            json!({"chat_id": c, "message_thread_id": t}),
        ),
        (
            "deleteForumTopic",
            json!({"chat_id": c, "message_thread_id": t}),
        ),
        (
            "editGeneralForumTopic",
            json!({"chat_id": c, "name": "Lobby"}),
        ),
        ("closeGeneralForumTopic", json!({"chat_id": c})),
        ("reopenGeneralForumTopic", json!({"chat_id": c})),
        ("hideGeneralForumTopic", json!({"chat_id": c})),
        ("unhideGeneralForumTopic", json!({"chat_id": c})),
        (
            "sendPhoto",
            json!({"chat_id": c, "photo": "https://example.com/a.png", "caption": "Old"}),
        ),
        (
            "copyMessage",
            json!({"chat_id": ALICE, "from_chat_id": c, "message_id": p}),
        ),
        (
            "forwardMessage",
            json!({"chat_id": ALICE, "from_chat_id": c, "message_id": p, "disable_notification": true}),
        ),
        (
            "editMessageCaption",
            json!({"chat_id": c, "message_id": p, "caption": "New"}),
        ),
        (
            "editMessageMedia",
            json!({"chat_id": c, "message_id": p, "media": {"type": "video", "media": "https://example.com/b.mp4"}}),
        ),
        (
            "editMessageMedia",
            json!({"chat_id": c, "message_id": p, "file": upload("QUFB", "media"), "media": {"type": "document", "media": "attach://file"}}),
        ),
        ("setMyDescription", json!({"description": "I keep order"})),
        ("getMyDescription", json!({})),
        (
            "setMyShortDescription",
            json!({"short_description": "Moderator", "language_code": "en"}),
        ),
        ("getMyShortDescription", json!({"language_code": "en"})),
        ("getMyCommands", json!({})),
        (
            "deleteMyCommands",
            json!({"scope": {"type": "all_group_chats"}}),
        ),
        ("getChatMemberCount", json!({"chat_id": c})),
        (
            "promoteChatMember",
            json!({"chat_id": c, "user_id": ALICE, "can_pin_messages": true}),
        ),
        (
            "setChatAdministratorCustomTitle",
            json!({"chat_id": c, "user_id": ALICE, "custom_title": "Keeper"}),
        ),
        ("getChatMember", json!({"chat_id": c, "user_id": ALICE})),
        ("sendChatAction", json!({"chat_id": c, "action": "typing"})),
        (
            "setMessageReaction",
            json!({"chat_id": c, "message_id": p, "reaction": [{"type": "emoji", "emoji": "👍"}]}),
        ),
        (
            "answerCallbackQuery",
            json!({"callback_query_id": query, "url": "https://t.me/sandbox_bot?start=go", "cache_time": 5}),
        ),
        (
            "sendAnimation",
            json!({"chat_id": c, "animation": "https://example.com/a.gif"}),
        ),
        (
            "sendAudio",
            json!({"chat_id": c, "audio": "https://example.com/a.mp3", "title": "Anthem"}),
        ),
        (
            "sendSticker",
            json!({"chat_id": c, "sticker": "CAACAgIAAxkBAAEB"}),
        ),
        (
            "sendVideo",
            json!({"chat_id": c, "video": "https://example.com/v.mp4"}),
        ),
        (
            "sendVideoNote",
            json!({"chat_id": c, "video_note": "DQACAgIAAxkBAAEC"}),
        ),
        (
            "sendVoice",
            json!({"chat_id": c, "voice": upload("QkJCQg==", "voice")}),
        ),
        (
            "sendContact",
            json!({"chat_id": c, "phone_number": "+15551234567", "first_name": "Desk"}),
        ),
        ("sendDice", json!({"chat_id": c, "emoji": "🎯"})),
        (
            "sendLocation",
            json!({"chat_id": c, "latitude": 51.5, "longitude": -0.125}),
        ),
        (
            "sendVenue",
            json!({"chat_id": c, "latitude": 51.5, "longitude": -0.125, "title": "Meetup", "address": "London"}),
        ),
        (
            "sendPoll",
            json!({"chat_id": c, "question": "Lunch?", "options": [{"text": "pizza"}, {"text": "sushi"}], "is_anonymous": false, "allows_multiple_answers": true}),
        ),
        (
            "sendPoll",
            json!({"chat_id": c, "question": "2 + 2?", "options": [{"text": "3"}, {"text": "4"}], "type": "quiz", "correct_option_id": 1, "explanation": "Count again."}),
        ),
        ("stopPoll", json!({"chat_id": c, "message_id": poll})),
        ("unpinAllChatMessages", json!({"chat_id": c})),
        (
            "banChatMember",
            json!({"chat_id": c, "user_id": BOB, "until_date": ban_until}),
        ),
        (
            "restrictChatMember",
            json!({"chat_id": c, "user_id": CAROL, "permissions": all_false, "use_independent_chat_permissions": true, "until_date": mute_until}),
        ),
    ];
    let expected: Vec<(String, Value)> = expected
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    for (i, (want, sent)) in expected.iter().zip(&calls).enumerate() {
        assert_eq!(want, sent, "call #{i}");
    }
    assert_eq!(calls.len(), expected.len(), "{calls:#?}");

    // What the sandbox answered, from the state the calls made.
    assert_eq!(got["forwarded"], json!("user"));
    assert_eq!(got["caption"], json!("New"));
    assert_eq!(got["video"], json!("https://example.com/b.mp4"));
    assert!(
        got["uploaded"]
            .as_str()
            .is_some_and(|id| id.starts_with("sandbox-file-"))
    );
    assert!(
        got["voice"]
            .as_str()
            .is_some_and(|id| id.starts_with("sandbox-file-"))
    );
    assert_eq!(got["description"], json!("I keep order"));
    assert_eq!(got["short"], json!("Moderator"));
    assert_eq!(got["commands"], json!([]));
    assert_eq!(
        got["count"],
        json!(5),
        "the owner, the bot and three members"
    );
    assert_eq!(got["title"], json!("Keeper"));
    assert!((1..=6).contains(&int("dice")), "{got}");
    assert_eq!(got["quiz"], json!(1));
    assert_eq!(got["stopped"], json!(true));
    let copy = int("copy");
    server.world(|w| {
        let copied = w.message(ALICE, copy).expect("the copy is in Alice's chat");
        assert_eq!(copied["caption"], json!("Old"), "{copied}");
        assert!(
            copied.get("forward_origin").is_none(),
            "a copy, not a forward"
        );
        assert_eq!(
            w.reactions(c, p),
            Some(&json!([{"type": "emoji", "emoji": "👍"}]))
        );
        let forum = w.forum(c).expect("the sandbox group is a forum");
        assert!(forum.topics.is_empty(), "the topic was deleted: {forum:?}");
        assert_eq!(forum.general.name, "Lobby");
        // Hiding closed it; showing it again does not reopen it, as on Telegram.
        assert!(!forum.general.hidden && forum.general.closed, "{forum:?}");
    });
}

#[test]
fn the_sandbox_refuses_what_telegram_refuses_and_nothing_bad_is_sent() {
    let server = BotApiServer::start(World::new(), Some(TOKEN)).expect("start the server");
    let c = SANDBOX_CHAT_ID;
    let got = exec(
        &server,
        &format!(
            r#"
        let c = {c};
        let errors = [];
        let t = tg_create_forum_topic(c, "Once").message_thread_id;
        tg_close_forum_topic(c, t);
        try {{ tg_close_forum_topic(c, t) }} catch (e) {{ errors.push(e.error) }}
        tg_delete_forum_topic(c, t);
        try {{ tg_reopen_forum_topic(c, t) }} catch (e) {{ errors.push(e.error) }}
        let poll = tg_send_poll(c, "Again?", ["yes", "no"]);
        tg_stop_poll(c, poll.message_id);
        try {{ tg_stop_poll(c, poll.message_id) }} catch (e) {{ errors.push(e.error) }}
        try {{ tg_set_administrator_title(c, {BOB}, "Boss") }} catch (e) {{ errors.push(e.error) }}
        try {{ tg_create_forum_topic({ALICE}, "Private") }} catch (e) {{ errors.push(e.error) }}
        // Refused before sending: no request for these.
        try {{ tg_send_poll(c, "One?", ["only"]) }} catch (e) {{ errors.push(e.error) }}
        try {{ tg_send_dice(c, "🐸") }} catch (e) {{ errors.push(e.command) }}
        try {{ tg_send_location(c, 91, 0) }} catch (e) {{ errors.push(e.error) }}
        try {{ tg_ban_chat_member(c, {BOB}, -1) }} catch (e) {{ errors.push(e.error) }}
        errors
        "#
        ),
    );
    assert_eq!(
        got,
        json!([
            "Bad Request: TOPIC_NOT_MODIFIED",
            "Bad Request: message thread not found",
            "Bad Request: poll has already been closed",
            "Bad Request: user is not an administrator",
            "Bad Request: the chat is not a forum",
            "options must hold 2–12 answers, got 1",
            "tg_send_dice",
            "latitude must be within -90 and 90, got 91",
            "hours must be a whole number, 0 or more",
        ])
    );
    let methods: Vec<String> = server.calls().into_iter().map(|c| c.method).collect();
    assert_eq!(
        methods,
        [
            "createForumTopic",
            "closeForumTopic",
            "closeForumTopic",
            "deleteForumTopic",
            "reopenForumTopic",
            "sendPoll",
            "stopPoll",
            "stopPoll",
            "setChatAdministratorCustomTitle",
            "createForumTopic",
        ],
        "nothing refused by validation reached the server"
    );
}
