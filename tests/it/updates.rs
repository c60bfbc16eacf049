//! Every kind of update the Bot API sends reaches its named handler through the real binary,
//! polling and webhook alike, and both ask Telegram for every kind (`allowed_updates`, read
//! from what the local Bot API server was sent). A scenario without the named handlers still
//! gets the kinds `on_update` always got.

use crate::bots::{config_with, free_port, post, sent, start, token, webhook};
use crate::util::{NO_FLOOD_CONTROL, TOKEN, TestDir};
use serde_json::{Value, json};
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, World};

/// A scenario with every named handler; each sends `<handler> <its argument as JSON>`.
const NAMED: &str = r#"const CHAT = -1001234567890;
fn seen(name, payload) { send_message(global::CHAT, `${name} ${payload.to_json()}`); }
fn on_message(msg) { seen("on_message", msg); }
fn on_command(cmd, args, msg) { seen("on_command", msg); }
fn on_successful_payment(msg) { seen("on_successful_payment", msg); }
fn on_edited_message(msg) { seen("on_edited_message", msg); }
fn on_channel_post(msg) { seen("on_channel_post", msg); }
fn on_edited_channel_post(msg) { seen("on_edited_channel_post", msg); }
fn on_business_connection(connection) { seen("on_business_connection", connection); }
fn on_business_message(msg) { seen("on_business_message", msg); }
fn on_edited_business_message(msg) { seen("on_edited_business_message", msg); }
fn on_deleted_business_messages(deleted) { seen("on_deleted_business_messages", deleted); }
fn on_message_reaction(reaction) { seen("on_message_reaction", reaction); }
fn on_message_reaction_count(reactions) { seen("on_message_reaction_count", reactions); }
fn on_inline_query(query) { seen("on_inline_query", query); }
fn on_chosen_inline_result(result) { seen("on_chosen_inline_result", result); }
fn on_callback_query(query) { seen("on_callback_query", query); }
fn on_shipping_query(query) { seen("on_shipping_query", query); }
fn on_pre_checkout_query(query) { seen("on_pre_checkout_query", query); }
fn on_purchased_paid_media(purchase) { seen("on_purchased_paid_media", purchase); }
fn on_poll(poll) { seen("on_poll", poll); }
fn on_poll_answer(answer) { seen("on_poll_answer", answer); }
fn on_chat_member(update) { seen("on_chat_member", update); }
fn on_chat_join_request(request) { seen("on_chat_join_request", request); }
fn on_chat_boost(boost) { seen("on_chat_boost", boost); }
fn on_removed_chat_boost(removed) { seen("on_removed_chat_boost", removed); }
fn on_managed_bot(update) { seen("on_managed_bot", update); }
"#;

/// A scenario written before the named handlers: everything reaches it in `on_update`, raw.
const LEGACY: &str = r#"fn on_update(update) {
    let key = update.keys().filter(|k| k != "update_id")[0];
    send_message(-1001234567890, `on_update ${key}`);
}
"#;

fn user(id: i64, name: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": name})
}

fn alice() -> Value {
    user(1001, "Alice")
}

fn group() -> Value {
    json!({"id": SANDBOX_CHAT_ID, "type": "supergroup", "title": "Sandbox Group"})
}

fn channel() -> Value {
    json!({"id": -1009876543210_i64, "type": "channel", "title": "Announcements"})
}

fn bobs_chat() -> Value {
    json!({"id": 1002, "type": "private", "first_name": "Bob"})
}

fn message(id: i64, chat: Value, from: Value, text: &str) -> Value {
    json!({"message_id": id, "date": 1_790_000_000, "chat": chat, "from": from, "text": text})
}

fn with(mut value: Value, fields: Value) -> Value {
    if let (Some(value), Some(fields)) = (value.as_object_mut(), fields.as_object()) {
        value.extend(fields.clone());
    }
    value
}

fn member(user: Value, status: &str) -> Value {
    json!({"user": user, "status": status})
}

/// Every kind of update of Bot API 9.6: its key, the handler it must reach, and a payload
/// shaped as the Bot API documents it.
fn every_kind() -> Vec<(&'static str, &'static str, Value)> {
    let edited = json!({"edit_date": 1_790_000_100});
    let business = json!({"business_connection_id": "BCx7"});
    let post = with(
        message(40, channel(), Value::Null, "We open at nine"),
        json!({"sender_chat": channel()}),
    );
    let bob_asks = with(
        message(3, bobs_chat(), user(1002, "Bob"), "Open today?"),
        business.clone(),
    );
    let source = json!({"source": "premium", "user": alice()});
    let bot = json!({"id": 7_100_000_002_i64, "is_bot": true, "first_name": "Shop", "username": "alice_shop_bot"});
    vec![
        (
            "message",
            "on_message",
            message(1, group(), alice(), "hello"),
        ),
        (
            "edited_message",
            "on_edited_message",
            with(message(1, group(), alice(), "hello!"), edited.clone()),
        ),
        ("channel_post", "on_channel_post", post.clone()),
        (
            "edited_channel_post",
            "on_edited_channel_post",
            with(post, edited.clone()),
        ),
        (
            "business_connection",
            "on_business_connection",
            json!({"id": "BCx7", "user": alice(), "user_chat_id": 1001, "date": 1_790_000_000,
                "rights": {"can_reply": true}, "is_enabled": true}),
        ),
        ("business_message", "on_business_message", bob_asks.clone()),
        (
            "edited_business_message",
            "on_edited_business_message",
            with(bob_asks, edited),
        ),
        (
            "deleted_business_messages",
            "on_deleted_business_messages",
            with(
                json!({"chat": bobs_chat(), "message_ids": [3, 4]}),
                business,
            ),
        ),
        (
            "message_reaction",
            "on_message_reaction",
            json!({"chat": group(), "message_id": 1, "user": alice(), "date": 1_790_000_200,
                "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "❤"}]}),
        ),
        (
            "message_reaction_count",
            "on_message_reaction_count",
            json!({"chat": channel(), "message_id": 40, "date": 1_790_000_200,
                "reactions": [{"type": {"type": "emoji", "emoji": "🎉"}, "total_count": 5}]}),
        ),
        (
            "inline_query",
            "on_inline_query",
            json!({"id": "iq-1", "from": alice(), "query": "cats", "offset": ""}),
        ),
        (
            "chosen_inline_result",
            "on_chosen_inline_result",
            json!({"result_id": "cat-3", "from": alice(), "query": "cats"}),
        ),
        (
            "callback_query",
            "on_callback_query",
            json!({"id": "cq-1", "from": alice(), "chat_instance": "-77", "data": "yes",
                "message": message(2, group(), Value::Null, "Sure?")}),
        ),
        (
            "shipping_query",
            "on_shipping_query",
            json!({"id": "sq-1", "from": alice(), "invoice_payload": "cart-9",
                "shipping_address": {"country_code": "FR", "state": "", "city": "Lyon",
                    "street_line1": "1 rue de la Paix", "street_line2": "", "post_code": "69001"}}),
        ),
        (
            "pre_checkout_query",
            "on_pre_checkout_query",
            json!({"id": "pq-1", "from": alice(), "currency": "XTR", "total_amount": 5,
                "invoice_payload": "cart-9"}),
        ),
        (
            "purchased_paid_media",
            "on_purchased_paid_media",
            json!({"from": alice(), "paid_media_payload": "photos-2"}),
        ),
        (
            "poll",
            "on_poll",
            json!({"id": "po-1", "question": "Tea or coffee?", "options": [
                {"text": "Tea", "voter_count": 1}, {"text": "Coffee", "voter_count": 0}],
                "total_voter_count": 1, "is_closed": false, "is_anonymous": false,
                "type": "regular", "allows_multiple_answers": false}),
        ),
        (
            "poll_answer",
            "on_poll_answer",
            json!({"poll_id": "po-1", "user": alice(), "option_ids": [0]}),
        ),
        (
            "my_chat_member",
            "on_chat_member",
            json!({"chat": group(), "from": user(1000, "owner"), "date": 1_790_000_300,
                "old_chat_member": member(bot.clone(), "member"),
                "new_chat_member": member(bot.clone(), "administrator")}),
        ),
        (
            "chat_member",
            "on_chat_member",
            json!({"chat": group(), "from": alice(), "date": 1_790_000_300,
                "old_chat_member": member(alice(), "left"),
                "new_chat_member": member(alice(), "member")}),
        ),
        (
            "chat_join_request",
            "on_chat_join_request",
            json!({"chat": group(), "from": user(1004, "Dave"), "user_chat_id": 1004,
                "date": 1_790_000_400}),
        ),
        (
            "chat_boost",
            "on_chat_boost",
            json!({"chat": channel(), "boost": {"boost_id": "bo-1", "add_date": 1_790_000_000,
                "expiration_date": 1_792_000_000, "source": source.clone()}}),
        ),
        (
            "removed_chat_boost",
            "on_removed_chat_boost",
            json!({"chat": channel(), "boost_id": "bo-1", "remove_date": 1_790_000_500,
                "source": source}),
        ),
        (
            "managed_bot",
            "on_managed_bot",
            json!({"user": alice(), "bot": bot}),
        ),
    ]
}

/// Messages that are messages but go elsewhere: a payment, a command.
fn special_messages() -> Vec<(&'static str, Value)> {
    let paid = json!({"currency": "XTR", "total_amount": 5, "invoice_payload": "cart-9",
        "telegram_payment_charge_id": "stx-91", "provider_payment_charge_id": ""});
    let mut payment = message(5, bobs_chat(), user(1002, "Bob"), "");
    if let Some(fields) = payment.as_object_mut() {
        fields.remove("text");
        fields.insert("successful_payment".into(), paid);
    }
    vec![
        ("on_successful_payment", payment),
        ("on_command", message(6, group(), alice(), "/start now")),
    ]
}

/// What `handler` was given, by the texts the named scenario sent (one per call).
fn given(texts: &[String], handler: &str) -> Vec<Value> {
    let prefix = format!("{handler} ");
    texts
        .iter()
        .filter_map(|text| text.strip_prefix(&prefix))
        .map(|json| serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}")))
        .collect()
}

/// The keys of every kind, sorted.
fn every_key() -> Vec<String> {
    let mut keys: Vec<String> = every_kind().iter().map(|(k, _, _)| k.to_string()).collect();
    keys.sort();
    keys
}

fn sorted(list: &Value) -> Vec<String> {
    let mut keys: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    keys.sort();
    keys
}

#[test]
fn every_update_kind_reaches_its_named_handler_and_polling_asks_for_every_kind() {
    let server = BotApiServer::start(World::new(), Some(TOKEN)).expect("a local Bot API server");
    let t = TestDir::new();
    t.write("scripts/named.rhai", NAMED);
    t.write("scripts/legacy.rhai", LEGACY);
    // `check` knows every handler's name and parameters.
    t.run(&["check", "scripts"]).expect_code(0);
    let kinds = every_kind();
    let specials = special_messages();
    server.world(|w| {
        for (key, _, payload) in &kinds {
            w.push_update(json!({ *key: payload }));
        }
        for (_, payload) in &specials {
            w.push_update(json!({ "message": payload }));
        }
    });
    let url = server.url();
    let mut env = vec![
        ("TELOXIDE_TOKEN", TOKEN),
        ("TELOXIDE_API_URL", url.as_str()),
    ];
    env.extend(NO_FLOOD_CONTROL);
    let bot = t.spawn(&["run", "scripts"], &env);

    // The legacy scenario gets every kind but the four that always had their own handler.
    let own = ["message", "callback_query", "chat_member", "my_chat_member"];
    let legacy: Vec<String> = kinds
        .iter()
        .filter(|(key, _, _)| !own.contains(key))
        .map(|(key, _, _)| format!("on_update {key}"))
        .collect();
    let expected = kinds.len() + specials.len() + legacy.len();
    sent(&server, expected);
    let done = bot.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    let texts = sent(&server, expected);
    assert_eq!(texts.len(), expected, "{texts:#?}");

    for (key, handler, payload) in &kinds {
        assert!(
            given(&texts, handler).contains(payload),
            "{key} did not reach {handler} whole: {texts:#?}"
        );
    }
    for (handler, payload) in &specials {
        assert_eq!(
            given(&texts, handler),
            std::slice::from_ref(payload),
            "{texts:#?}"
        );
    }
    assert_eq!(
        given(&texts, "on_message").len(),
        1,
        "payment and command are not messages"
    );
    let mut got: Vec<&String> = texts
        .iter()
        .filter(|t| t.starts_with("on_update "))
        .collect();
    got.sort();
    let mut want: Vec<&String> = legacy.iter().collect();
    want.sort();
    assert_eq!(got, want);

    let asked = server.world(|w| w.allowed_updates().map(<[String]>::to_vec));
    let mut asked = asked.expect("getUpdates named the kinds it wants");
    asked.sort();
    assert_eq!(asked, every_key());
}

#[test]
fn a_webhook_bot_asks_for_every_kind_and_its_updates_reach_their_handlers() {
    let server = BotApiServer::start(World::new(), Some(&token("hook"))).expect("a server");
    let t = TestDir::new();
    let port = free_port();
    // Beside the bots tests' counter, which takes messages only (none are posted here).
    config_with(
        &t,
        port,
        &[("hook", "webhook", &server)],
        "[flood]\nenabled = false\n",
    );
    t.write("hook/named.rhai", NAMED);
    let bot = start(&t, &["hook"]);
    let (url, secret) = webhook(&server, 1);
    let set = server.calls_of("setWebhook");
    assert_eq!(sorted(&set[0].params["allowed_updates"]), every_key());

    let some = [
        "business_message",
        "pre_checkout_query",
        "chat_boost",
        "poll",
        "edited_message",
        "managed_bot",
    ];
    let kinds: Vec<_> = every_kind()
        .into_iter()
        .filter(|(key, _, _)| some.contains(key))
        .collect();
    for (n, (key, _, payload)) in kinds.iter().enumerate() {
        let update = json!({"update_id": 100 + n, *key: payload});
        assert_eq!(post(&url, Some(&secret), &update.to_string()), 200, "{key}");
    }
    let texts = sent(&server, kinds.len());
    let done = bot.terminate();
    assert_eq!(done.code, Some(0), "{}", done.all_output());
    for (key, handler, payload) in &kinds {
        assert_eq!(
            given(&texts, handler),
            std::slice::from_ref(payload),
            "{key}: {texts:#?}"
        );
    }
}
