//! The sandbox behaves like Telegram where a script can tell the difference: each point is
//! checked through the sandbox's Bot API server with the production client (teloxide over
//! HTTP), and through the sandbox chat's lines a user types.

use serde_json::{Value, json};
use tgscript::sandbox::lines::{Input, Users, apply_line};
use tgscript::sandbox::world::{BOT_ID, OWNER_ID, SANDBOX_CHAT_ID};
use tgscript::sandbox::{BotApiServer, World};
use tgscript::telegram::{BotClient, BotError};

const TOKEN: &str = "42:sandbox-world-test";
const ALICE: i64 = 1001;
const BOB: i64 = 1002;
const CAROL: i64 = 1003;

/// The sandbox server, a client for it, a runtime, and the sandbox chat's users.
struct Sandbox {
    server: BotApiServer,
    client: BotClient,
    runtime: tokio::runtime::Runtime,
    users: Users,
}

impl Sandbox {
    fn new() -> Self {
        let server = BotApiServer::start(World::new(), Some(TOKEN)).expect("start the sandbox");
        let client = BotClient::new(TOKEN, Some(&server.url())).expect("client");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        Self {
            server,
            client,
            runtime,
            users: Users::default(),
        }
    }

    fn call(&self, method: &str, params: Value) -> Result<Value, BotError> {
        self.runtime.block_on(self.client.call(method, &params))
    }

    fn ok(&self, method: &str, params: Value) -> Value {
        self.call(method, params.clone())
            .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
    }

    /// The refusal `method` gets: (code, description).
    fn refused(&self, method: &str, params: Value) -> (i64, String) {
        match self.call(method, params) {
            Err(BotError::Api {
                code, description, ..
            }) => (code, description),
            other => panic!("{method}: expected a refusal, got {other:?}"),
        }
    }

    fn status(&self, user: i64) -> String {
        let member = self.ok(
            "getChatMember",
            json!({"chat_id": SANDBOX_CHAT_ID, "user_id": user}),
        );
        member["status"].as_str().unwrap_or_default().to_string()
    }

    /// Type `line` into the sandbox chat.
    fn line(&mut self, line: &str) -> Input {
        let users = &mut self.users;
        self.server.world(|w| apply_line(w, users, line))
    }

    fn accepted(&mut self, line: &str) -> String {
        match self.line(line) {
            Input::Queued(echo) => echo,
            Input::Invalid(why) => panic!("{line:?} refused: {why}"),
        }
    }

    fn rejected(&mut self, line: &str) -> String {
        match self.line(line) {
            Input::Invalid(why) => why,
            Input::Queued(echo) => panic!("{line:?} accepted: {echo}"),
        }
    }

    /// The updates queued so far, oldest first.
    fn updates(&self) -> Vec<Value> {
        self.server.world(|w| w.updates_from(0, 100))
    }

    fn last_update(&self) -> Value {
        self.updates().pop().expect("an update was queued")
    }

    fn advance(&self, seconds: i64) {
        self.server.world(|w| w.advance(seconds));
    }

    fn now(&self) -> i64 {
        self.server.world(|w| w.now())
    }
}

fn chat_user(user: i64) -> Value {
    json!({"chat_id": SANDBOX_CHAT_ID, "user_id": user})
}

#[test]
fn mutes_and_bans_end_at_their_until_date_and_short_or_far_ones_are_forever() {
    let mut s = Sandbox::new();
    let muted = json!({"chat_id": SANDBOX_CHAT_ID, "user_id": BOB, "until_date": s.now() + 600,
        "permissions": {"can_send_messages": false}});
    s.ok("restrictChatMember", muted);
    assert_eq!(s.status(BOB), "restricted");
    assert!(s.rejected("/as bob hi").contains("cannot send messages"));
    s.advance(601);
    assert_eq!(s.status(BOB), "member", "the mute ended");
    s.accepted("/as bob free again");

    let mut ban = chat_user(CAROL);
    ban["until_date"] = json!(s.now() + 3_600);
    s.ok("banChatMember", ban);
    assert_eq!(s.status(CAROL), "kicked");
    s.advance(3_601);
    assert_eq!(s.status(CAROL), "left", "the ban ended");
    s.accepted("/join carol");
    assert_eq!(s.status(CAROL), "member");

    // Telegram reads an until_date under 30 s or over 366 days away as forever.
    // Also a hostile one that would overflow the subtraction.
    for until in [s.now() + 10, s.now() + 400 * 86_400, i64::MIN] {
        let mut ban = chat_user(ALICE);
        ban["until_date"] = json!(until);
        s.ok("banChatMember", ban);
        let member = s.ok("getChatMember", chat_user(ALICE));
        assert_eq!(member["until_date"], 0, "{member}");
        s.ok("unbanChatMember", chat_user(ALICE));
    }
}

#[test]
fn a_banned_user_cannot_rejoin_until_unbanned() {
    let mut s = Sandbox::new();
    s.ok("banChatMember", chat_user(BOB));
    let why = s.rejected("/join bob");
    assert!(why.contains("bob is banned"), "{why}");
    assert!(s.rejected("/as bob hello").contains("banned"));
    s.advance(10 * 366 * 86_400);
    assert!(s.rejected("/join bob").contains("banned"), "a ban for ever");
    s.ok("unbanChatMember", chat_user(BOB));
    assert_eq!(s.status(BOB), "left");
    assert_eq!(s.accepted("/join bob"), "bob joined the group");
    let update = s.last_update();
    assert_eq!(update["chat_member"]["old_chat_member"]["status"], "left");
    assert_eq!(update["chat_member"]["new_chat_member"]["status"], "member");
}

#[test]
fn non_members_cannot_post_and_members_exist_from_the_start() {
    let mut s = Sandbox::new();
    for user in [ALICE, BOB, CAROL] {
        assert_eq!(s.status(user), "member");
    }
    assert_eq!(s.status(OWNER_ID), "creator");
    // So the REPL and the gateway have someone to restrict.
    s.ok(
        "restrictChatMember",
        json!({"chat_id": SANDBOX_CHAT_ID, "user_id": CAROL, "permissions": {"can_send_photos": false}}),
    );
    let before = s.updates().len();
    let why = s.rejected("/as dave hi");
    assert!(
        why.contains("dave is not a member") && why.contains("/join dave"),
        "{why}"
    );
    assert_eq!(s.updates().len(), before, "a refused line changes nothing");
    s.accepted("/join dave");
    assert_eq!(s.accepted("/as dave hi"), "#1 dave: hi");
    s.accepted("/leave dave");
    assert_eq!(s.status(1004), "left");
    assert!(s.rejected("/as dave still here?").contains("not a member"));
}

#[test]
fn a_callback_query_takes_one_answer_and_press_checks_the_data() {
    let mut s = Sandbox::new();
    let markup = json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"},
        {"text": "No", "callback_data": "no"}]]});
    let sent = s.ok(
        "sendMessage",
        json!({"chat_id": SANDBOX_CHAT_ID, "text": "Sure?", "reply_markup": markup}),
    );
    assert_eq!(sent["message_id"], 1);
    s.ok(
        "sendMessage",
        json!({"chat_id": SANDBOX_CHAT_ID, "text": "no buttons"}),
    );
    let why = s.rejected("/press maybe");
    assert!(
        why.contains("no button [maybe] under #1; its buttons: [yes] [no]"),
        "{why}"
    );
    assert!(s.rejected("/press #2 yes").contains("#2 has no buttons"));
    assert!(s.rejected("/press #9 yes").contains("#9 does not exist"));
    assert_eq!(
        s.accepted("/as bob /press #1 yes"),
        "bob pressed [yes] under #1"
    );
    let query = s.last_update()["callback_query"].clone();
    assert_eq!(
        (query["data"].clone(), query["from"]["id"].clone()),
        (json!("yes"), json!(BOB))
    );
    let answer = json!({"callback_query_id": query["id"], "text": "ok"});
    s.ok("answerCallbackQuery", answer.clone());
    let (code, description) = s.refused("answerCallbackQuery", answer);
    assert_eq!(code, 400);
    assert_eq!(
        description,
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    );
    let (code, _) = s.refused("answerCallbackQuery", json!({"callback_query_id": "123"}));
    assert_eq!(code, 400, "an unknown query id");
}

#[test]
fn a_reply_to_a_deleted_message_fails_unless_allowed_and_the_sandbox_chat_checks_replies() {
    let mut s = Sandbox::new();
    s.accepted("hello");
    s.ok(
        "deleteMessage",
        json!({"chat_id": SANDBOX_CHAT_ID, "message_id": 1}),
    );
    let reply =
        json!({"chat_id": SANDBOX_CHAT_ID, "text": "re", "reply_parameters": {"message_id": 1}});
    let (code, description) = s.refused("sendMessage", reply);
    assert_eq!(
        (code, description.as_str()),
        (400, "Bad Request: message to be replied not found")
    );
    let allowed = json!({"chat_id": SANDBOX_CHAT_ID, "text": "re",
        "reply_parameters": {"message_id": 1, "allow_sending_without_reply": true}});
    let sent = s.ok("sendMessage", allowed);
    assert!(sent.get("reply_to_message").is_none(), "{sent}");
    let why = s.rejected("/reply 1 are you there?");
    assert!(why.contains("message #1 does not exist"), "{why}");
    let why = s.rejected("/reply 99 hi");
    assert!(why.contains("#99 does not exist"), "{why}");
    assert_eq!(
        s.accepted("/reply 2 thanks"),
        "#3 alice (reply to #2): thanks"
    );
}

#[test]
fn message_dates_are_the_current_time() {
    let mut s = Sandbox::new();
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    s.accepted("what time is it?");
    let user_date = s.last_update()["message"]["date"].as_i64().expect("date");
    let bot_date = s.ok(
        "sendMessage",
        json!({"chat_id": SANDBOX_CHAT_ID, "text": "now"}),
    )["date"]
        .as_i64()
        .expect("date");
    for date in [user_date, bot_date] {
        assert!((date - real).abs() < 120, "date {date}, now {real}");
    }
}

#[test]
fn unimplemented_methods_say_so_and_chat_lookups_answer() {
    let s = Sandbox::new();
    let (code, description) = s.refused("sendGame", json!({"chat_id": SANDBOX_CHAT_ID}));
    assert_eq!(code, 404);
    assert_eq!(
        description,
        "Not Found: method not implemented in the sandbox: sendGame"
    );
    let admins = s.ok("getChatAdministrators", json!({"chat_id": SANDBOX_CHAT_ID}));
    let mut found: Vec<(i64, String)> = admins
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| {
            (
                m["user"]["id"].as_i64().unwrap_or(0),
                m["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (OWNER_ID, "creator".into()),
            (BOT_ID, "administrator".into())
        ]
    );
    let chat = s.ok("getChat", json!({"chat_id": SANDBOX_CHAT_ID}));
    assert_eq!(chat["type"], "supergroup");
    assert_eq!(chat["permissions"]["can_send_messages"], true, "{chat}");
    assert_eq!(
        s.ok("getChatMemberCount", json!({"chat_id": SANDBOX_CHAT_ID})),
        5
    );
}

#[test]
fn names_are_case_insensitive_and_sandbox_commands_print_their_usage() {
    let mut s = Sandbox::new();
    for line in ["/as Bob one", "/as bob two", "/as BOB three"] {
        s.accepted(line);
        assert_eq!(s.last_update()["message"]["from"]["id"], BOB, "{line}");
    }
    for (line, usage) in [
        ("/as", "usage: /as NAME text"),
        ("/as bob", "usage: /as NAME text"),
        ("/reply", "usage: /reply N text"),
        ("/reply 1", "usage: /reply N text"),
        ("/press", "usage: /press [#N] DATA"),
        ("/edit 1", "usage: /edit N new text"),
        ("/wait", "usage: /wait DURATION"),
        ("/wait forever", "usage: /wait DURATION"),
        ("/as bot hi", "the bot's messages come from the scripts"),
    ] {
        let why = s.rejected(line);
        assert!(why.contains(usage), "{line:?}: {why}");
    }
    assert_eq!(s.updates().len(), 3, "usage errors queue nothing");
}

#[test]
fn sandbox_chat_photo_edit_join_request_and_leave_are_updates() {
    let mut s = Sandbox::new();
    assert_eq!(s.accepted("/photo my cat"), "#1 alice: [photo] my cat");
    let photo = s.last_update()["message"].clone();
    assert!(
        photo["photo"].as_array().is_some_and(|p| !p.is_empty()),
        "{photo}"
    );
    assert_eq!(photo["caption"], "my cat");
    s.accepted("first try");
    assert_eq!(
        s.accepted("/edit 2 second try"),
        "#2 alice (edited): second try"
    );
    let edited = s.last_update()["edited_message"].clone();
    assert_eq!(
        (edited["message_id"].clone(), edited["text"].clone()),
        (json!(2), json!("second try"))
    );
    assert!(edited["edit_date"].as_i64().is_some(), "{edited}");
    assert!(s.rejected("/as bob /edit 2 hijack").contains("not bob's"));

    assert_eq!(s.accepted("/request erin"), "erin asked to join the group");
    let request = s.last_update()["chat_join_request"].clone();
    assert_eq!(request["from"]["first_name"], "Erin");
    let erin = request["from"]["id"].as_i64().expect("id");
    assert!(s.rejected("/as erin hi").contains("not a member"));
    s.ok("approveChatJoinRequest", chat_user(erin));
    assert_eq!(s.status(erin), "member");
    let (code, description) = s.refused("declineChatJoinRequest", chat_user(erin));
    assert_eq!(
        (code, description.as_str()),
        (400, "Bad Request: HIDE_REQUESTER_MISSING")
    );

    assert_eq!(s.accepted("/leave bob"), "bob left the group");
    let left = s.last_update()["chat_member"]["new_chat_member"]["status"].clone();
    assert_eq!(left, "left");
    assert!(s.rejected("/as owner /leave").contains("owns the group"));
}

/// `method` of the sandbox at `url` with `token`, asked with `request` (a reqwest request
/// builder's body already set): the answer's JSON.
fn raw(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    method: &str,
    body: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Value {
    runtime.block_on(async {
        let request = reqwest::Client::new().post(format!("{url}bot{TOKEN}/{method}"));
        body(request)
            .send()
            .await
            .expect("the sandbox answers")
            .json()
            .await
            .expect("a JSON answer")
    })
}

#[test]
fn form_multipart_and_integers_as_text_are_read_as_telegram_reads_them() {
    let s = Sandbox::new();
    let url = s.server.url();
    let chat = SANDBOX_CHAT_ID.to_string();
    // A form, as python-telegram-bot sends: every value text, markup as JSON text.
    let sent = raw(&s.runtime, &url, "sendMessage", |r| {
        r.form(&[
            ("chat_id", chat.as_str()),
            ("text", "123"),
            (
                "reply_markup",
                r#"{"inline_keyboard":[[{"text":"ok","callback_data":"ok"}]]}"#,
            ),
        ])
    });
    assert_eq!(sent["ok"], true, "{sent}");
    assert_eq!(sent["result"]["text"], "123", "text stays text: {sent}");
    assert_eq!(sent["result"]["chat"]["id"], SANDBOX_CHAT_ID);
    assert_eq!(
        sent["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "ok"
    );
    // A restriction with the user, the date and the permissions as text.
    let until = (s.now() + 3600).to_string();
    let restricted = raw(&s.runtime, &url, "restrictChatMember", |r| {
        r.form(&[
            ("chat_id", chat.as_str()),
            ("user_id", "1002"),
            ("until_date", until.as_str()),
            ("permissions", r#"{"can_send_messages": false}"#),
        ])
    });
    assert_eq!(restricted, json!({"ok": true, "result": true}));
    let member = s.ok("getChatMember", chat_user(BOB));
    assert_eq!(member["status"], "restricted");
    assert_eq!(member["until_date"].to_string(), until);
    // JSON with integers as strings, as Telegram takes them.
    let unbanned = raw(&s.runtime, &url, "unbanChatMember", |r| {
        r.json(&json!({"chat_id": chat, "user_id": "1003", "only_if_banned": "true"}))
    });
    assert_eq!(unbanned, json!({"ok": true, "result": true}));
    assert_eq!(s.status(CAROL), "member", "only_if_banned read as true");
    // Multipart, as aiogram sends: text fields and a file.
    let form = reqwest::multipart::Form::new()
        .text("chat_id", chat.clone())
        .text("caption", "a file")
        .text("reply_to_message_id", "1")
        .part(
            "document",
            reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("hello.txt"),
        );
    let document = raw(&s.runtime, &url, "sendDocument", |r| r.multipart(form));
    assert_eq!(document["ok"], true, "{document}");
    assert_eq!(document["result"]["document"]["file_name"], "hello.txt");
    assert_eq!(document["result"]["reply_to_message"]["message_id"], 1);
    // What cannot be read as its kind is refused as Telegram refuses it, and changes nothing.
    let refused = raw(&s.runtime, &url, "banChatMember", |r| {
        r.form(&[("chat_id", chat.as_str()), ("user_id", "bob")])
    });
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["description"], "Bad Request: user_id is empty");
    assert_eq!(s.status(BOB), "restricted");
    let garbled = raw(&s.runtime, &url, "sendMessage", |r| {
        r.header("content-type", "application/x-www-form-urlencoded")
            .body(vec![0xff, 0xfe, b'=', 0x80])
    });
    assert_eq!(garbled["ok"], false, "{garbled}");
}

#[test]
fn get_chat_member_answers_every_field_of_each_status() {
    let s = Sandbox::new();
    s.ok(
        "restrictChatMember",
        json!({"chat_id": SANDBOX_CHAT_ID, "user_id": BOB, "permissions": {"can_send_messages": false, "can_send_photos": true}}),
    );
    let restricted = s.ok("getChatMember", chat_user(BOB));
    let mut fields: Vec<&str> = restricted
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "can_add_web_page_previews",
            "can_change_info",
            "can_edit_tag",
            "can_invite_users",
            "can_manage_topics",
            "can_pin_messages",
            "can_react_to_messages",
            "can_send_audios",
            "can_send_documents",
            "can_send_messages",
            "can_send_other_messages",
            "can_send_photos",
            "can_send_polls",
            "can_send_video_notes",
            "can_send_videos",
            "can_send_voice_notes",
            "is_member",
            "status",
            "until_date",
            "user",
        ]
    );
    assert_eq!(restricted["can_send_photos"], true);
    assert_eq!(restricted["can_send_messages"], false);
    assert_eq!(
        restricted["can_send_polls"], false,
        "what was not set is false"
    );
    let admin = s.ok("getChatMember", chat_user(BOT_ID));
    for right in [
        "can_be_edited",
        "is_anonymous",
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
    ] {
        assert!(admin[right].is_boolean(), "{right}: {admin}");
    }
    s.ok(
        "banChatMember",
        json!({"chat_id": SANDBOX_CHAT_ID, "user_id": CAROL}),
    );
    let kicked = s.ok("getChatMember", chat_user(CAROL));
    assert_eq!(kicked["status"], "kicked");
    assert_eq!(kicked["until_date"], 0);
    let owner = s.ok("getChatMember", chat_user(OWNER_ID));
    assert_eq!(owner["is_anonymous"], false);
}

#[test]
fn each_user_has_a_private_chat_with_the_bot_and_dm_lines_go_there() {
    let mut s = Sandbox::new();
    let echo = s.accepted("/dm bob hello bot");
    assert_eq!(echo, "#1 bob (private): hello bot");
    let message = s.last_update()["message"].clone();
    assert_eq!(message["chat"]["type"], "private");
    assert_eq!(message["chat"]["id"], BOB);
    assert_eq!(message["chat"]["first_name"], "Bob");
    assert_eq!(message["from"]["id"], BOB);
    // The current user, a prefix before it, and sandbox commands after it.
    s.accepted("/dm hi");
    assert_eq!(s.last_update()["message"]["chat"]["id"], ALICE);
    s.accepted("/as carol /dm /photo a cat");
    let photo = s.last_update()["message"].clone();
    assert_eq!(
        (photo["chat"]["id"].clone(), photo["caption"].clone()),
        (json!(CAROL), json!("a cat"))
    );
    // The bot answers in the private chat; a group command there is refused.
    let answer = s.ok("sendMessage", json!({"chat_id": BOB, "text": "hi Bob"}));
    assert_eq!(answer["chat"]["type"], "private");
    assert_eq!(answer["message_id"], 2, "messages are numbered per chat");
    let chat = s.ok("getChat", json!({"chat_id": BOB}));
    assert_eq!(
        (chat["type"].clone(), chat["username"].clone()),
        (json!("private"), json!("bob"))
    );
    let before = s.updates().len();
    assert!(s.rejected("/dm bob /join").contains("about the group"));
    assert!(s.rejected("/dm").starts_with("usage: /dm [NAME] text"));
    let (_, why) = s.refused(
        "restrictChatMember",
        json!({"chat_id": BOB, "user_id": BOB, "permissions": {}}),
    );
    assert_eq!(why, "Bad Request: method is available only for supergroups");
    assert_eq!(s.updates().len(), before, "refused lines queue nothing");
    // A newcomer gets a private chat on first use, and needs no /join for it.
    s.accepted("/dm dave");
    assert_eq!(
        s.last_update()["message"]["chat"]["id"],
        ALICE,
        "dave is not known yet: text from alice"
    );
    s.accepted("/as dave /dm hello");
    let dave = s.last_update()["message"]["chat"].clone();
    assert_eq!(
        (dave["type"].clone(), dave["first_name"].clone()),
        (json!("private"), json!("Dave"))
    );
    // /help lists every sandbox command with its usage.
    let help = s.accepted("/help");
    for line in tgscript::sandbox::lines::LINES {
        assert!(help.contains(line.usage), "{}: {help}", line.usage);
    }
}
