//! Chat builtins (Bot API): thin adapters that turn positional Rhai arguments into a request
//! for [`crate::commands::chat`] and its result or error back into Rhai values.
//!
//! Every chat builtin acts on the current update's chat unless a leading `chat_id` (an
//! integer or `"@username"`) is given; outside a handler the `chat_id` is required.

use super::{builtin, request, throw, to_dynamic};
use crate::commands::{CommandError, chat};
use crate::engine::run;
use crate::host::Host;
use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};
use serde_json::Value;
use std::sync::Arc;

type RhaiResult = Result<Dynamic, Box<EvalAltResult>>;

/// Run chat action `name` with the given fields (unit values left out) and the entries of
/// `options` merged in.
fn act(host: &Host, name: &str, fields: &[(&str, Dynamic)], options: Option<Map>) -> RhaiResult {
    let request = request(name, fields, options, "Telegram")?;
    let context = run::current_update();
    chat::execute(host, name, &request, context.as_deref())
        .map_err(|e| throw(&e))
        .and_then(to_dynamic)
}

const TG_CHAT_PERMISSION: &str = r#"
Set what a member may do in the chat, exactly as Salebot's `tg_chat_permission`.

`permission` is 9 flags (each 0, 1, true or false), in this order: send_messages,
send_media_messages, send_polls, send_other_messages, add_web_page_previews, change_info,
invite_users, pin_messages, manage_topics. `media_permissions` is 6: audios, documents, photos,
videos, video_notes, voice_notes. Dependencies are applied: media needs messages and the media
flag; polls need messages; other messages and web page previews need media. The result is sent
as `restrictChatMember` with all 14 fields and `use_independent_chat_permissions: true`.

`user_id` may be an integer or a string of digits. Overloads: a leading `chat_id`, and a
trailing options map `#{until_date: unix_seconds}`. Returns `true`; Telegram's refusals throw
`#{command, code, error, hint}`. The bot must be an administrator with the right to restrict.

# Example
```rhai
// everything except creating topics (the seed's example)
tg_chat_permission(msg.from.id, [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]);
// read-only for ten minutes, in another chat
tg_chat_permission(-1001234567890, "42", [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0],
                   #{until_date: now() + 600});
```
"#;

const CHAT_PERMISSIONS: &str = r#"
The `ChatPermissions` map `tg_chat_permission` would send for these flags, without sending
anything: for the REPL and for debugging.

# Example
```rhai
let p = chat_permissions([1, 0, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]);
p.can_send_photos     // false: media needs send_media_messages
```
"#;

const TG_RESTRICT: &str = r#"
Restrict a member with a permission map taking any of the 16 `ChatPermissions` fields of Bot
API 10.1 (`can_send_messages`, `can_send_audios`, … `can_react_to_messages`, `can_edit_tag`);
fields left out are false. Sent with `use_independent_chat_permissions: true`. Optional
`until_date` (Unix seconds) and leading `chat_id`.

# Example
```rhai
tg_restrict_chat_member(msg.from.id, #{can_send_messages: true, can_react_to_messages: true},
                        now() + 3600);
```
"#;

const TG_BAN: &str = r#"
Ban a user from the chat (`banChatMember`). Options: `#{until_date, revoke_messages}`.
Optional leading `chat_id`.

# Example
```rhai
tg_ban_chat_member(msg.reply_to_message.from.id);
```
"#;

const TG_UNBAN: &str = r#"
Lift a ban (`unbanChatMember` with `only_if_banned: true`, so a member who is not banned is
left alone). Optional leading `chat_id`.

# Example
```rhai
tg_unban_chat_member(42);
```
"#;

const TG_PROMOTE: &str = r#"
Make a member an administrator with the given rights (`promoteChatMember`): any of
`is_anonymous`, `can_manage_chat`, `can_delete_messages`, `can_restrict_members`,
`can_pin_messages`, `can_invite_users`, `can_change_info`, `can_manage_topics`, … Rights left
out are false; all false demotes. Optional leading `chat_id`.

# Example
```rhai
tg_promote_chat_member(42, #{can_delete_messages: true, can_pin_messages: true});
```
"#;

const TG_GET_MEMBER: &str = r#"
A member of the chat as the Bot API `ChatMember` map (`status` is "creator", "administrator",
"member", "restricted", "left" or "kicked"). Optional leading `chat_id`.

# Example
```rhai
let me = tg_get_chat_member(msg.from.id);
if me.status == "administrator" || me.status == "creator" { reply("hello, admin"); }
```
"#;

const TG_DELETE: &str = r#"
Delete a message; without `message_id`, the message being handled. Optional leading `chat_id`.

# Example
```rhai
tg_delete_message();              // the current message
tg_delete_message(msg.message_id);
```
"#;

const TG_PIN: &str = r#"
Pin a message; without `message_id`, the message being handled. Optional leading `chat_id`.

# Example
```rhai
tg_pin_chat_message(msg.message_id);
```
"#;

const TG_UNPIN: &str = r#"
Unpin a message; without `message_id`, the most recent pinned message. Optional leading
`chat_id`.

# Example
```rhai
tg_unpin_chat_message();
```
"#;

const TG_APPROVE: &str = r#"
Approve a join request (`approveChatJoinRequest`); without `user_id`, the user of the
current update. Optional leading `chat_id`.

# Example
```rhai
fn on_update(update) {
    if "chat_join_request" in update { tg_approve_chat_join_request(update.chat_join_request.from.id); }
}
```
"#;

const TG_DECLINE: &str = r#"
Decline a join request (`declineChatJoinRequest`); without `user_id`, the user of the current
update. Optional leading `chat_id`.

# Example
```rhai
tg_decline_chat_join_request(42);
```
"#;

const TG_INVITE: &str = r#"
Create an invite link (`createChatInviteLink`) and return the `ChatInviteLink` map. Options:
`#{name, expire_date, member_limit, creates_join_request}`. Optional leading `chat_id`.

# Example
```rhai
let link = tg_create_chat_invite_link(#{member_limit: 1, name: "one guest"});
reply(link.invite_link);
```
"#;

const SEND_MESSAGE: &str = r#"
Send a text message to a chat (`sendMessage`) and return the sent `Message`. Options are Bot
API fields passed through (`parse_mode`, `reply_markup`, `disable_notification`, …).

# Example
```rhai
send_message(-1001234567890, "<b>Rules</b> updated", #{parse_mode: "HTML"});
```
"#;

const REPLY: &str = r#"
Reply to the message being handled, in its chat. Options are Bot API `sendMessage` fields
(`reply_markup` for buttons, `parse_mode`, …).

# Example
```rhai
reply("Press the button to get in", #{reply_markup: #{inline_keyboard: [[
    #{text: "I am human", callback_data: "human"}
]]}});
```
"#;

const ANSWER_CALLBACK: &str = r#"
Answer the button press being handled (`answerCallbackQuery`), optionally with a text.
Options: `#{show_alert, url, cache_time}`.

# Example
```rhai
fn on_callback_query(query) { answer_callback_query("Welcome!"); }
```
"#;

const BOT_API: &str = r#"
Call any Bot API method with a parameter map and return its `result`. Refusals throw
`#{command, code, error, hint}` like the other chat builtins.

# Example
```rhai
let chat = bot_api("getChat", #{chat_id: -1001234567890});
print(chat.title);
```
"#;

/// Run chat action `name` with positional `values` named after the registered parameters;
/// a parameter named `options` is the trailing options map.
fn call(host: &Host, name: &str, params: &[&'static str], values: Vec<Dynamic>) -> RhaiResult {
    let mut fields = Vec::with_capacity(values.len());
    let mut options = None;
    for (param, value) in params.iter().zip(values) {
        match *param {
            "options" => options = value.try_cast::<Map>(),
            field => fields.push((field, value)),
        }
    }
    act(host, name, &fields, options)
}

/// The field name of a documented parameter (`"user_id: INT | String"` → `user_id`).
fn field_name(param: &'static str) -> &'static str {
    param.split(':').next().unwrap_or(param).trim()
}

/// Register one overload of chat action `$name`: the parameter list (return type last) names
/// the request fields, the closure arguments carry them.
macro_rules! overload {
    ($engine:ident, $host:ident, $name:expr, $doc:expr, [$($param:literal),*] => ($($arg:ident : $ty:ty),*)) => {{
        let h = $host.clone();
        let params: &[&'static str] = &[$($param),*];
        let fields: Vec<&'static str> = params[..params.len() - 1].iter().map(|p| field_name(p)).collect();
        builtin($name, params, $doc).register_into_engine($engine, move |$($arg: $ty),*| {
            call(&h, $name, &fields, vec![$(Dynamic::from($arg)),*])
        });
    }};
}

pub(super) fn register(engine: &mut Engine, host: &Arc<Host>) {
    let doc = TG_CHAT_PERMISSION;
    let name = "tg_chat_permission";
    overload!(engine, host, name, doc, ["user_id: INT | String", "permission: Array", "media_permissions: Array", "bool"] => (a: Dynamic, b: Dynamic, c: Dynamic));
    overload!(engine, host, name, doc, ["user_id: INT | String", "permission: Array", "media_permissions: Array", "options: Map", "bool"] => (a: Dynamic, b: Dynamic, c: Dynamic, o: Map));
    overload!(engine, host, name, doc, ["chat_id: INT | String", "user_id: INT | String", "permission: Array", "media_permissions: Array", "bool"] => (a: Dynamic, b: Dynamic, c: Dynamic, d: Dynamic));
    overload!(engine, host, name, doc, ["chat_id: INT | String", "user_id: INT | String", "permission: Array", "media_permissions: Array", "options: Map", "bool"] => (a: Dynamic, b: Dynamic, c: Dynamic, d: Dynamic, o: Map));

    builtin(
        "chat_permissions",
        &["permission: Array", "media_permissions: Array", "Map"],
        CHAT_PERMISSIONS,
    )
    .with_volatility(false)
    .register_into_engine(engine, |p: Array, m: Array| -> RhaiResult {
        let to_json = |a: Array| serde_json::to_value(a).unwrap_or(Value::Null);
        crate::telegram::permissions::from_flag_lists(&to_json(p), &to_json(m))
            .map_err(|e| throw(&CommandError::invalid("chat_permissions", e)))
            .and_then(|map| to_dynamic(Value::Object(map)))
    });

    let (name, doc) = ("tg_restrict_chat_member", TG_RESTRICT);
    overload!(engine, host, name, doc, ["user_id: INT | String", "permissions: Map", "bool"] => (a: Dynamic, b: Map));
    overload!(engine, host, name, doc, ["user_id: INT | String", "permissions: Map", "until_date: INT", "bool"] => (a: Dynamic, b: Map, c: Dynamic));
    overload!(engine, host, name, doc, ["chat_id: INT | String", "user_id: INT | String", "permissions: Map", "bool"] => (a: Dynamic, b: Dynamic, c: Map));
    overload!(engine, host, name, doc, ["chat_id: INT | String", "user_id: INT | String", "permissions: Map", "until_date: INT", "bool"] => (a: Dynamic, b: Dynamic, c: Map, d: Dynamic));

    for (name, doc) in [
        ("tg_ban_chat_member", TG_BAN),
        ("tg_unban_chat_member", TG_UNBAN),
        ("tg_get_chat_member", TG_GET_MEMBER),
        ("tg_approve_chat_join_request", TG_APPROVE),
        ("tg_decline_chat_join_request", TG_DECLINE),
    ] {
        overload!(engine, host, name, doc, ["user_id: INT | String", "Dynamic"] => (a: Dynamic));
        overload!(engine, host, name, doc, ["chat_id: INT | String", "user_id: INT | String", "Dynamic"] => (a: Dynamic, b: Dynamic));
    }
    let (name, doc) = ("tg_ban_chat_member", TG_BAN);
    overload!(engine, host, name, doc, ["user_id: INT | String", "options: Map", "bool"] => (a: Dynamic, o: Map));
    overload!(engine, host, name, doc, ["chat_id: INT | String", "user_id: INT | String", "options: Map", "bool"] => (a: Dynamic, b: Dynamic, o: Map));
    for (name, doc) in [
        ("tg_approve_chat_join_request", TG_APPROVE),
        ("tg_decline_chat_join_request", TG_DECLINE),
    ] {
        overload!(engine, host, name, doc, ["bool"] => ());
    }

    let (name, doc) = ("tg_promote_chat_member", TG_PROMOTE);
    overload!(engine, host, name, doc, ["user_id: INT | String", "rights: Map", "bool"] => (a: Dynamic, b: Map));
    overload!(engine, host, name, doc, ["chat_id: INT | String", "user_id: INT | String", "rights: Map", "bool"] => (a: Dynamic, b: Dynamic, c: Map));

    for (name, doc) in [
        ("tg_delete_message", TG_DELETE),
        ("tg_pin_chat_message", TG_PIN),
        ("tg_unpin_chat_message", TG_UNPIN),
    ] {
        overload!(engine, host, name, doc, ["bool"] => ());
        overload!(engine, host, name, doc, ["message_id: INT", "bool"] => (a: Dynamic));
        overload!(engine, host, name, doc, ["chat_id: INT | String", "message_id: INT", "bool"] => (a: Dynamic, b: Dynamic));
    }

    let (name, doc) = ("tg_create_chat_invite_link", TG_INVITE);
    overload!(engine, host, name, doc, ["Map"] => ());
    overload!(engine, host, name, doc, ["options: Map", "Map"] => (o: Map));
    overload!(engine, host, name, doc, ["chat_id: INT | String", "options: Map", "Map"] => (a: Dynamic, o: Map));

    let (name, doc) = ("send_message", SEND_MESSAGE);
    overload!(engine, host, name, doc, ["chat_id: INT | String", "text: String", "Map"] => (a: Dynamic, b: Dynamic));
    overload!(engine, host, name, doc, ["chat_id: INT | String", "text: String", "options: Map", "Map"] => (a: Dynamic, b: Dynamic, o: Map));
    let (name, doc) = ("reply", REPLY);
    overload!(engine, host, name, doc, ["text: String", "Map"] => (a: Dynamic));
    overload!(engine, host, name, doc, ["text: String", "options: Map", "Map"] => (a: Dynamic, o: Map));
    let (name, doc) = ("answer_callback_query", ANSWER_CALLBACK);
    overload!(engine, host, name, doc, ["bool"] => ());
    overload!(engine, host, name, doc, ["text: String", "bool"] => (a: Dynamic));
    overload!(engine, host, name, doc, ["text: String", "options: Map", "bool"] => (a: Dynamic, o: Map));
    overload!(engine, host, "bot_api", BOT_API, ["method: String", "params: Map", "Dynamic"] => (a: Dynamic, b: Map));
}
