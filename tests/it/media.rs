//! The chat family, uploads and keyboards: the real binary against the local Bot API server,
//! checking the exact requests (multipart bodies parsed back to their bytes) and what the
//! sandbox world made of them.

use crate::gateway::{ask, connect, runtime, serve};
use crate::util::{TOKEN, TestDir};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, World};

/// Bytes of a tiny PNG-like file and of a PDF-like one, with every byte value in them.
fn logo() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(0..=255u8);
    bytes
}

fn server() -> BotApiServer {
    BotApiServer::start(World::new(), Some(TOKEN)).expect("start the local Bot API server")
}

fn env(server: &BotApiServer) -> [(&'static str, String); 2] {
    [
        ("TELOXIDE_TOKEN", TOKEN.to_string()),
        ("TELOXIDE_API_URL", server.url()),
    ]
}

/// Run `script` with `exec --json` in `t` against `server`; the value and the exit code.
fn exec(t: &TestDir, server: &BotApiServer, script: &str, extra: &[(&str, &str)]) -> Value {
    t.write("s.rhai", script);
    let vars = env(server);
    let mut env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    let run = t.run_with_env(&["exec", "s.rhai", "--json"], &env);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).expect("exec --json prints JSON")
}

/// The recorded parameters of each call of `method`.
fn params_of(server: &BotApiServer, method: &str) -> Vec<Value> {
    server
        .calls_of(method)
        .into_iter()
        .map(|c| c.params)
        .collect()
}

#[test]
fn the_chat_family_sends_the_exact_requests_and_the_sandbox_keeps_them() {
    let server = server();
    let t = TestDir::new();
    std::fs::write(t.path().join("logo.png"), logo()).expect("write the asset");
    t.write("docs/rules.pdf", "%PDF-1.4 rules");
    let out = exec(
        &t,
        &server,
        &format!(
            r#"
            let chat = {SANDBOX_CHAT_ID};
            let r = #{{}};
            r.title = tg_set_chat_title(chat, "Rustaceans");
            r.description = tg_set_chat_description(chat, "Be kind");
            r.photo = tg_set_chat_photo(chat, asset("logo.png"));
            r.info = bot_api("getChat", #{{chat_id: chat}});
            r.deleted = tg_delete_chat_photo(chat);
            r.ban = tg_ban_chat_sender_chat(chat, -1009876543210);
            r.unban = tg_unban_chat_sender_chat(chat, -1009876543210);
            let link = tg_create_chat_invite_link(chat, #{{name: "guests"}});
            r.revoked = tg_revoke_chat_invite_link(chat, link.invite_link);
            r.primary = tg_export_chat_invite_link(chat);
            r.commands = tg_set_my_commands(#{{rules: "Show the rules", "/report": "Report"}});
            let sent = send_message(chat, "Vote", #{{reply_markup: buttons([button("Up", "vote:up"), url_button("Rules", "https://example.com/rules")])}});
            r.edited = edit_message_text(chat, sent.message_id, "Vote, please", #{{parse_mode: "HTML"}});
            r.markup = edit_message_reply_markup(chat, sent.message_id, buttons([[button("Done", "noop")]]));
            r.bare = edit_message_reply_markup(chat, sent.message_id, #{{}});
            r.by_url = send_photo(chat, "https://example.com/a.png", #{{caption: "From a URL"}});
            r.uploaded = send_photo(chat, asset("logo.png"), #{{caption: "Logo", reply_markup: keyboard([["Yes", "No"]])}});
            r.document = send_document(chat, asset("docs/rules.pdf"));
            r.blob = send_document(chat, blob(3, 0x41));
            r
            "#
        ),
        &[],
    );
    for key in [
        "title",
        "description",
        "photo",
        "deleted",
        "ban",
        "unban",
        "commands",
    ] {
        assert_eq!(out[key], json!(true), "{key}: {out}");
    }
    assert_eq!(out["info"]["title"], json!("Rustaceans"), "{out}");
    assert_eq!(out["info"]["description"], json!("Be kind"), "{out}");
    assert!(out["info"]["photo"]["big_file_id"].is_string(), "{out}");
    assert_eq!(out["revoked"]["is_revoked"], json!(true), "{out}");
    assert_eq!(out["revoked"]["name"], json!("guests"), "{out}");
    assert!(
        out["primary"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://t.me/+")),
        "{out}"
    );
    assert_eq!(out["edited"]["text"], json!("Vote, please"), "{out}");
    assert!(
        out["edited"].get("reply_markup").is_none(),
        "an edit without markup drops the buttons: {out}"
    );
    assert_eq!(
        out["markup"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        json!("noop")
    );
    assert!(out["bare"].get("reply_markup").is_none(), "{out}");
    assert_eq!(out["by_url"]["caption"], json!("From a URL"), "{out}");
    assert_eq!(
        out["uploaded"]["photo"][0]["file_size"],
        json!(logo().len()),
        "{out}"
    );
    assert_eq!(
        out["document"]["document"]["file_name"],
        json!("rules.pdf"),
        "{out}"
    );
    assert_eq!(out["blob"]["document"]["file_size"], json!(3), "{out}");

    // The exact requests.
    let chat = json!(SANDBOX_CHAT_ID);
    let logo_upload = json!({"base64": STANDARD.encode(logo()), "filename": "logo.png"});
    assert_eq!(
        params_of(&server, "setChatTitle"),
        [json!({"chat_id": chat, "title": "Rustaceans"})]
    );
    assert_eq!(
        params_of(&server, "setChatDescription"),
        [json!({"chat_id": chat, "description": "Be kind"})]
    );
    // Uploads go as multipart: every field a string, the file a file part with its name.
    assert_eq!(
        params_of(&server, "setChatPhoto"),
        [json!({"chat_id": SANDBOX_CHAT_ID.to_string(), "photo": logo_upload})]
    );
    assert_eq!(
        params_of(&server, "deleteChatPhoto"),
        [json!({"chat_id": chat})]
    );
    for method in ["banChatSenderChat", "unbanChatSenderChat"] {
        assert_eq!(
            params_of(&server, method),
            [json!({"chat_id": chat, "sender_chat_id": -1009876543210i64})]
        );
    }
    let link = out["revoked"]["invite_link"].clone();
    assert_eq!(
        params_of(&server, "revokeChatInviteLink"),
        [json!({"chat_id": chat, "invite_link": link})]
    );
    assert_eq!(
        params_of(&server, "exportChatInviteLink"),
        [json!({"chat_id": chat})]
    );
    let commands = params_of(&server, "setMyCommands");
    assert_eq!(commands.len(), 1);
    let mut listed: Vec<Value> = commands[0]["commands"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    listed.sort_by_key(|c| c["command"].to_string());
    assert_eq!(
        listed,
        [
            json!({"command": "report", "description": "Report"}),
            json!({"command": "rules", "description": "Show the rules"}),
        ]
    );
    let id = out["edited"]["message_id"].clone();
    assert_eq!(
        params_of(&server, "sendMessage")[0]["reply_markup"],
        json!({"inline_keyboard": [[
            {"text": "Up", "callback_data": "vote:up"},
            {"text": "Rules", "url": "https://example.com/rules"},
        ]]})
    );
    assert_eq!(
        params_of(&server, "editMessageText"),
        [json!({"chat_id": chat, "message_id": id, "text": "Vote, please", "parse_mode": "HTML"})]
    );
    assert_eq!(
        params_of(&server, "editMessageReplyMarkup"),
        [
            json!({"chat_id": chat, "message_id": id, "reply_markup": {"inline_keyboard": [[{"text": "Done", "callback_data": "noop"}]]}}),
            json!({"chat_id": chat, "message_id": id}),
        ]
    );
    let photos = params_of(&server, "sendPhoto");
    assert_eq!(
        photos,
        [
            json!({"chat_id": chat, "photo": "https://example.com/a.png", "caption": "From a URL"}),
            json!({
                "chat_id": SANDBOX_CHAT_ID.to_string(), "photo": logo_upload, "caption": "Logo",
                "reply_markup": {"keyboard": [[{"text": "Yes"}, {"text": "No"}]], "resize_keyboard": true},
            }),
        ]
    );
    assert_eq!(
        params_of(&server, "sendDocument"),
        [
            json!({"chat_id": SANDBOX_CHAT_ID.to_string(), "document": {"base64": STANDARD.encode("%PDF-1.4 rules"), "filename": "rules.pdf"}}),
            json!({"chat_id": SANDBOX_CHAT_ID.to_string(), "document": {"base64": STANDARD.encode("AAA"), "filename": "document"}}),
        ]
    );
}

#[test]
fn bad_files_and_buttons_throw_before_any_request() {
    let server = server();
    let t = TestDir::new();
    t.write("big.bin", "0123456789abcdef");
    t.write("small.txt", "ok");
    let outside = TestDir::new();
    outside.write("secret.txt", "secret");
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), t.path().join("link.txt"))
        .expect("symlink");
    let out = exec(
        &t,
        &server,
        &format!(
            r#"
            let chat = {SANDBOX_CHAT_ID};
            let errors = [];
            let try_it = |f| {{ try {{ f.call(); errors.push("no error") }} catch (e) {{ errors.push(if type_of(e) == "map" {{ e.error }} else {{ e }}) }} }};
            try_it.call(|| tg_set_chat_photo(chat, "https://example.com/a.png"));
            try_it.call(|| asset("../secret.txt"));
            try_it.call(|| asset("/etc/passwd"));
            try_it.call(|| asset("link.txt"));
            try_it.call(|| asset("missing.png"));
            try_it.call(|| asset("big.bin"));
            try_it.call(|| asset("."));
            try_it.call(|| button("Yes", "{long}"));
            try_it.call(|| button("", "x"));
            try_it.call(|| url_button("Rules", "ftp://example.com"));
            try_it.call(|| buttons([]));
            try_it.call(|| send_message(chat, "hi", #{{reply_markup: #{{inline_keyboard: [[#{{text: "a", callback_data: "{long}"}}]]}}}}));
            try_it.call(|| tg_set_my_commands(#{{"Bad-Cmd": "x"}}));
            try_it.call(|| tg_set_my_commands([#{{command: "ok", description: ""}}]));
            try_it.call(|| tg_set_chat_title(chat, ""));
            try_it.call(|| send_photo(chat, 42));
            try_it.call(|| send_document(chat, blob(0)));
            try_it.call(|| edit_message_text(chat, 1, ""));
            errors.push(asset("small.txt").size);
            errors
            "#,
            long = "x".repeat(65)
        ),
        &[("TGSCRIPT_LIMITS_MAX_ASSET_SIZE", "10")],
    );
    let errors: Vec<String> = out
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string))
        .collect();
    let expected = [
        "photo must be an uploaded file: Telegram takes no URL or file_id here",
        "asset \"../secret.txt\" refused: '..' may not leave the scenario folder",
        "asset \"/etc/passwd\" refused: absolute paths are not allowed",
        "asset \"link.txt\" refused: it links outside the scenario folder",
        "asset \"missing.png\" not found",
        "asset \"big.bin\" is larger than 10 bytes ([limits] max_asset_size)",
        "asset \".\" is not a file",
        "data must be 1–64 bytes (Telegram's limit), got 65 bytes",
        "a button's text may not be empty",
        "url must start with https://, http:// or tg://",
        "buttons: no buttons given",
        "a button's callback_data must be 1–64 bytes",
        "command \"Bad-Cmd\" must be 1–32 lowercase letters",
        "the description of /ok must be 1–256 characters",
        "title must be 1–128 characters, got 0",
        "photo must be a URL, a file_id or a file",
        "document is an empty file",
        "text is required and may not be empty",
    ];
    assert_eq!(errors.len(), expected.len() + 1, "{errors:#?}");
    for (error, expected) in errors.iter().zip(expected) {
        assert!(
            error.contains(expected),
            "{error:?} should say {expected:?}"
        );
    }
    assert_eq!(errors.last().map(String::as_str), Some("2"));
    assert!(
        server.calls().is_empty(),
        "nothing was sent: {:#?}",
        server.calls()
    );
}

#[test]
fn the_gateway_takes_the_chat_family_with_uploads_as_base64() {
    let server = server();
    let vars = env(&server);
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let served = serve("", &env);
    runtime().block_on(async {
        let mut ws = connect(&served.addr, None).await.expect("connect");
        let photo = json!({"base64": STANDARD.encode(logo()), "filename": "logo.png"});
        let event = ask(
            &mut ws,
            json!({"action": "tg_set_chat_photo", "chat_id": SANDBOX_CHAT_ID, "photo": photo, "request_id": 1})
                .to_string(),
        )
        .await;
        assert_eq!(event["event"], json!("tg_set_chat_photo"), "{event}");
        assert_eq!(event["data"], json!(true), "{event}");
        let event = ask(
            &mut ws,
            json!({"action": "send_document", "chat_id": SANDBOX_CHAT_ID, "document": {"base64": "not base64!"}})
                .to_string(),
        )
        .await;
        assert_eq!(event["event"], json!("send_document_error"), "{event}");
        assert!(
            event["error"]
                .as_str()
                .is_some_and(|e| e.contains("not valid base64")),
            "{event}"
        );
        let event = ask(
            &mut ws,
            json!({"action": "tg_set_chat_title", "chat_id": SANDBOX_CHAT_ID, "title": "Over the gateway"})
                .to_string(),
        )
        .await;
        assert_eq!(event["data"], json!(true), "{event}");
    });
    assert_eq!(
        params_of(&server, "setChatPhoto"),
        [
            json!({"chat_id": SANDBOX_CHAT_ID.to_string(), "photo": {"base64": STANDARD.encode(logo()), "filename": "logo.png"}})
        ]
    );
    assert!(params_of(&server, "sendDocument").is_empty());
    assert_eq!(
        server.world(|w| w.chats[&SANDBOX_CHAT_ID].title.clone()),
        "Over the gateway"
    );
}
