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

pub(super) fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    builtin(
        "tg_chat_permission",
        &[
            "user_id: INT | String",
            "permission: Array",
            "media_permissions: Array",
            "bool",
        ],
        TG_CHAT_PERMISSION,
    )
    .register_into_engine(engine, move |user: Dynamic, p: Dynamic, m: Dynamic| {
        act(
            &h,
            "tg_chat_permission",
            &[
                ("user_id", user),
                ("permission", p),
                ("media_permissions", m),
            ],
            None,
        )
    });
    let h = host.clone();
    builtin(
        "tg_chat_permission",
        &[
            "user_id: INT | String",
            "permission: Array",
            "media_permissions: Array",
            "options: Map",
            "bool",
        ],
        TG_CHAT_PERMISSION,
    )
    .register_into_engine(
        engine,
        move |user: Dynamic, p: Dynamic, m: Dynamic, o: Map| {
            act(
                &h,
                "tg_chat_permission",
                &[
                    ("user_id", user),
                    ("permission", p),
                    ("media_permissions", m),
                ],
                Some(o),
            )
        },
    );
    let h = host.clone();
    builtin(
        "tg_chat_permission",
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "permission: Array",
            "media_permissions: Array",
            "bool",
        ],
        TG_CHAT_PERMISSION,
    )
    .register_into_engine(
        engine,
        move |chat: Dynamic, user: Dynamic, p: Dynamic, m: Dynamic| {
            act(
                &h,
                "tg_chat_permission",
                &[
                    ("chat_id", chat),
                    ("user_id", user),
                    ("permission", p),
                    ("media_permissions", m),
                ],
                None,
            )
        },
    );
    let h = host.clone();
    builtin(
        "tg_chat_permission",
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "permission: Array",
            "media_permissions: Array",
            "options: Map",
            "bool",
        ],
        TG_CHAT_PERMISSION,
    )
    .register_into_engine(
        engine,
        move |chat: Dynamic, user: Dynamic, p: Dynamic, m: Dynamic, o: Map| {
            act(
                &h,
                "tg_chat_permission",
                &[
                    ("chat_id", chat),
                    ("user_id", user),
                    ("permission", p),
                    ("media_permissions", m),
                ],
                Some(o),
            )
        },
    );

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

    let h = host.clone();
    builtin(
        "tg_restrict_chat_member",
        &["user_id: INT | String", "permissions: Map", "bool"],
        TG_RESTRICT,
    )
    .register_into_engine(engine, move |user: Dynamic, perms: Map| {
        act(
            &h,
            "tg_restrict_chat_member",
            &[("user_id", user), ("permissions", perms.into())],
            None,
        )
    });
    let h = host.clone();
    builtin(
        "tg_restrict_chat_member",
        &[
            "user_id: INT | String",
            "permissions: Map",
            "until_date: INT",
            "bool",
        ],
        TG_RESTRICT,
    )
    .register_into_engine(engine, move |user: Dynamic, perms: Map, until: Dynamic| {
        act(
            &h,
            "tg_restrict_chat_member",
            &[
                ("user_id", user),
                ("permissions", perms.into()),
                ("until_date", until),
            ],
            None,
        )
    });
    let h = host.clone();
    builtin(
        "tg_restrict_chat_member",
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "permissions: Map",
            "bool",
        ],
        TG_RESTRICT,
    )
    .register_into_engine(engine, move |chat: Dynamic, user: Dynamic, perms: Map| {
        act(
            &h,
            "tg_restrict_chat_member",
            &[
                ("chat_id", chat),
                ("user_id", user),
                ("permissions", perms.into()),
            ],
            None,
        )
    });
    let h = host.clone();
    builtin(
        "tg_restrict_chat_member",
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "permissions: Map",
            "until_date: INT",
            "bool",
        ],
        TG_RESTRICT,
    )
    .register_into_engine(
        engine,
        move |chat: Dynamic, user: Dynamic, perms: Map, until: Dynamic| {
            act(
                &h,
                "tg_restrict_chat_member",
                &[
                    ("chat_id", chat),
                    ("user_id", user),
                    ("permissions", perms.into()),
                    ("until_date", until),
                ],
                None,
            )
        },
    );

    member_action(engine, host, "tg_ban_chat_member", TG_BAN, true);
    member_action(engine, host, "tg_unban_chat_member", TG_UNBAN, false);
    member_action(engine, host, "tg_get_chat_member", TG_GET_MEMBER, false);
    member_action(
        engine,
        host,
        "tg_approve_chat_join_request",
        TG_APPROVE,
        false,
    );
    member_action(
        engine,
        host,
        "tg_decline_chat_join_request",
        TG_DECLINE,
        false,
    );
    optional_member_action(engine, host, "tg_approve_chat_join_request", TG_APPROVE);
    optional_member_action(engine, host, "tg_decline_chat_join_request", TG_DECLINE);

    let h = host.clone();
    builtin(
        "tg_promote_chat_member",
        &["user_id: INT | String", "rights: Map", "bool"],
        TG_PROMOTE,
    )
    .register_into_engine(engine, move |user: Dynamic, rights: Map| {
        act(
            &h,
            "tg_promote_chat_member",
            &[("user_id", user), ("rights", rights.into())],
            None,
        )
    });
    let h = host.clone();
    builtin(
        "tg_promote_chat_member",
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "rights: Map",
            "bool",
        ],
        TG_PROMOTE,
    )
    .register_into_engine(engine, move |chat: Dynamic, user: Dynamic, rights: Map| {
        act(
            &h,
            "tg_promote_chat_member",
            &[
                ("chat_id", chat),
                ("user_id", user),
                ("rights", rights.into()),
            ],
            None,
        )
    });

    message_action(engine, host, "tg_delete_message", TG_DELETE);
    message_action(engine, host, "tg_pin_chat_message", TG_PIN);
    message_action(engine, host, "tg_unpin_chat_message", TG_UNPIN);

    let h = host.clone();
    builtin("tg_create_chat_invite_link", &["Map"], TG_INVITE)
        .register_into_engine(engine, move || {
            act(&h, "tg_create_chat_invite_link", &[], None)
        });
    let h = host.clone();
    builtin(
        "tg_create_chat_invite_link",
        &["options: Map", "Map"],
        TG_INVITE,
    )
    .register_into_engine(engine, move |o: Map| {
        act(&h, "tg_create_chat_invite_link", &[], Some(o))
    });
    let h = host.clone();
    builtin(
        "tg_create_chat_invite_link",
        &["chat_id: INT | String", "options: Map", "Map"],
        TG_INVITE,
    )
    .register_into_engine(engine, move |chat: Dynamic, o: Map| {
        act(
            &h,
            "tg_create_chat_invite_link",
            &[("chat_id", chat)],
            Some(o),
        )
    });

    let h = host.clone();
    builtin(
        "send_message",
        &["chat_id: INT | String", "text: String", "Map"],
        SEND_MESSAGE,
    )
    .register_into_engine(engine, move |chat: Dynamic, text: Dynamic| {
        act(
            &h,
            "send_message",
            &[("chat_id", chat), ("text", text)],
            None,
        )
    });
    let h = host.clone();
    builtin(
        "send_message",
        &[
            "chat_id: INT | String",
            "text: String",
            "options: Map",
            "Map",
        ],
        SEND_MESSAGE,
    )
    .register_into_engine(engine, move |chat: Dynamic, text: Dynamic, o: Map| {
        act(
            &h,
            "send_message",
            &[("chat_id", chat), ("text", text)],
            Some(o),
        )
    });
    let h = host.clone();
    builtin("reply", &["text: String", "Map"], REPLY)
        .register_into_engine(engine, move |text: Dynamic| {
            act(&h, "reply", &[("text", text)], None)
        });
    let h = host.clone();
    builtin("reply", &["text: String", "options: Map", "Map"], REPLY)
        .register_into_engine(engine, move |text: Dynamic, o: Map| {
            act(&h, "reply", &[("text", text)], Some(o))
        });

    let h = host.clone();
    builtin("answer_callback_query", &["bool"], ANSWER_CALLBACK)
        .register_into_engine(engine, move || act(&h, "answer_callback_query", &[], None));
    let h = host.clone();
    builtin(
        "answer_callback_query",
        &["text: String", "bool"],
        ANSWER_CALLBACK,
    )
    .register_into_engine(engine, move |text: Dynamic| {
        act(&h, "answer_callback_query", &[("text", text)], None)
    });
    let h = host.clone();
    builtin(
        "answer_callback_query",
        &["text: String", "options: Map", "bool"],
        ANSWER_CALLBACK,
    )
    .register_into_engine(engine, move |text: Dynamic, o: Map| {
        act(&h, "answer_callback_query", &[("text", text)], Some(o))
    });

    let h = host.clone();
    builtin(
        "bot_api",
        &["method: String", "params: Map", "Dynamic"],
        BOT_API,
    )
    .register_into_engine(engine, move |method: Dynamic, params: Map| {
        act(
            &h,
            "bot_api",
            &[("method", method), ("params", params.into())],
            None,
        )
    });
}

/// `name(user_id)` and `name(chat_id, user_id)`; with `options`, also the forms with a
/// trailing options map.
fn member_action(
    engine: &mut Engine,
    host: &Arc<Host>,
    name: &'static str,
    doc: &str,
    options: bool,
) {
    let h = host.clone();
    builtin(name, &["user_id: INT | String", "Dynamic"], doc)
        .register_into_engine(engine, move |user: Dynamic| {
            act(&h, name, &[("user_id", user)], None)
        });
    let h = host.clone();
    builtin(
        name,
        &["chat_id: INT | String", "user_id: INT | String", "Dynamic"],
        doc,
    )
    .register_into_engine(engine, move |chat: Dynamic, user: Dynamic| {
        act(&h, name, &[("chat_id", chat), ("user_id", user)], None)
    });
    if options {
        let h = host.clone();
        builtin(
            name,
            &["user_id: INT | String", "options: Map", "Dynamic"],
            doc,
        )
        .register_into_engine(engine, move |user: Dynamic, o: Map| {
            act(&h, name, &[("user_id", user)], Some(o))
        });
        let h = host.clone();
        builtin(
            name,
            &[
                "chat_id: INT | String",
                "user_id: INT | String",
                "options: Map",
                "Dynamic",
            ],
            doc,
        )
        .register_into_engine(engine, move |chat: Dynamic, user: Dynamic, o: Map| {
            act(&h, name, &[("chat_id", chat), ("user_id", user)], Some(o))
        });
    }
}

/// `name()`: the user of the current update.
fn optional_member_action(engine: &mut Engine, host: &Arc<Host>, name: &'static str, doc: &str) {
    let h = host.clone();
    builtin(name, &["bool"], doc).register_into_engine(engine, move || act(&h, name, &[], None));
}

/// `name()`, `name(message_id)` and `name(chat_id, message_id)`.
fn message_action(engine: &mut Engine, host: &Arc<Host>, name: &'static str, doc: &str) {
    let h = host.clone();
    builtin(name, &["bool"], doc).register_into_engine(engine, move || act(&h, name, &[], None));
    let h = host.clone();
    builtin(name, &["message_id: INT", "bool"], doc)
        .register_into_engine(engine, move |id: Dynamic| {
            act(&h, name, &[("message_id", id)], None)
        });
    let h = host.clone();
    builtin(
        name,
        &["chat_id: INT | String", "message_id: INT", "bool"],
        doc,
    )
    .register_into_engine(engine, move |chat: Dynamic, id: Dynamic| {
        act(&h, name, &[("chat_id", chat), ("message_id", id)], None)
    });
}
