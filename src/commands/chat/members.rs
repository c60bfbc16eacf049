//! Moderation of members: `tg_chat_permission` (Salebot's), `tg_restrict_chat_member`, ban,
//! unban, promote, get a member, approve and decline join requests.

use super::{
    CHAT_ID, ChatAction, Method, Params, Takes, UNTIL_DATE, USER_ID, chat_id, durations,
    put_opt_bool, put_opt_int,
};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::{UpdateContext, permissions};
use serde_json::{Map, Value};

/// Admin rights `tg_promote_chat_member` accepts (Bot API 10.1 `promoteChatMember`).
pub const ADMIN_RIGHTS: &[&str] = &[
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
    "can_post_messages",
    "can_edit_messages",
    "can_pin_messages",
    "can_manage_topics",
    "can_manage_direct_messages",
];

/// One user / a chat and one user: the overloads of the member actions.
const MEMBER: &[&[&str]] = &[
    &["user_id: INT | String", "Dynamic"],
    &["chat_id: INT | String", "user_id: INT | String", "Dynamic"],
];

pub(super) const TG_CHAT_PERMISSION: ChatAction = ChatAction {
    name: "tg_chat_permission",
    doc: r#"
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
"#,
    overloads: &[
        &[
            "user_id: INT | String",
            "permission: Array",
            "media_permissions: Array",
            "bool",
        ],
        &[
            "user_id: INT | String",
            "permission: Array",
            "media_permissions: Array",
            "options: Map",
            "bool",
        ],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "permission: Array",
            "media_permissions: Array",
            "bool",
        ],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "permission: Array",
            "media_permissions: Array",
            "options: Map",
            "bool",
        ],
    ],
    method: Method::Confirmed("restrictChatMember"),
    takes: Takes::Only(&[
        CHAT_ID,
        USER_ID,
        FieldSpec::required(
            "permission",
            "list",
            "[1, 1, 1, 1, 1, 1, 1, 1, 0]",
            "the 9 flags (0, 1, true, false), in Salebot's order",
        ),
        FieldSpec::required(
            "media_permissions",
            "list",
            "[1, 1, 1, 1, 1, 1]",
            "the 6 media flags, in Salebot's order",
        ),
        UNTIL_DATE,
    ]),
    returns: "true",
    build: |f, ctx| {
        let user_id = f.int("user_id")?;
        let permission = f.get("permission").unwrap_or(&Value::Null);
        let media = f.get("media_permissions").unwrap_or(&Value::Null);
        let permissions =
            permissions::from_flag_lists(permission, media).map_err(|e| f.error(e))?;
        restriction(f, ctx, user_id, permissions)
    },
};

pub(super) const TG_RESTRICT_CHAT_MEMBER: ChatAction = ChatAction {
    name: "tg_restrict_chat_member",
    doc: r#"
Restrict a member with a permission map taking any of the 16 `ChatPermissions` fields of Bot
API 10.1 (`can_send_messages`, `can_send_audios`, … `can_react_to_messages`, `can_edit_tag`);
fields left out are false. Sent with `use_independent_chat_permissions: true`. Optional
`until_date` (Unix seconds) and leading `chat_id`.

As Salebot's, `tg_restrict_chat_member(chat_id, user_id, minutes, permission,
media_permissions)` restricts for that many minutes (0: forever) with the flag lists of
`tg_chat_permission` (9 and 6 flags). Over the gateway, `minutes` stands for `until_date`.

# Example
```rhai
tg_restrict_chat_member(msg.from.id, #{can_send_messages: true, can_react_to_messages: true},
                        now() + 3600);
// read-only for 3 minutes, Salebot's way
tg_restrict_chat_member(-1001234567890, 42, 3, [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]);
```
"#,
    overloads: &[
        &["user_id: INT | String", "permissions: Map", "bool"],
        &[
            "user_id: INT | String",
            "permissions: Map",
            "until_date: INT",
            "bool",
        ],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "permissions: Map",
            "bool",
        ],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "permissions: Map",
            "until_date: INT",
            "bool",
        ],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "minutes: INT",
            "permission: Array",
            "media_permissions: Array",
            "bool",
        ],
    ],
    method: Method::Fixed("restrictChatMember"),
    takes: Takes::Only(&[
        CHAT_ID,
        USER_ID,
        FieldSpec::optional(
            "permissions",
            "map",
            "ChatPermissions fields (left out: false); required unless permission is given",
        )
        .eg(r#"{"can_send_messages": true}"#),
        UNTIL_DATE,
        durations::MINUTES,
        FieldSpec::optional(
            "permission",
            "list",
            "instead of permissions: Salebot's 9 flags, as tg_chat_permission takes them",
        ),
        FieldSpec::optional(
            "media_permissions",
            "list",
            "with permission: Salebot's 6 media flags",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let user_id = f.int("user_id")?;
        if let Some(permission) = f.get("permission") {
            if f.get("permissions").is_some() {
                return Err(f.error(
                    "give either permissions (a map) or permission and media_permissions (flag lists), not both",
                ));
            }
            let media = f.get("media_permissions").unwrap_or(&Value::Null);
            let perms = permissions::from_flag_lists(permission, media).map_err(|e| f.error(e))?;
            return restriction(f, ctx, user_id, perms);
        }
        let perms = f.opt_map("permissions")?.ok_or_else(|| {
            f.error("permissions is required (or Salebot's permission and media_permissions)")
        })?;
        permissions::check_permission_map(perms).map_err(|e| f.error(e))?;
        let perms: Map<String, Value> = perms
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Value::Bool(v.as_bool().unwrap_or(v.as_i64() == Some(1))),
                )
            })
            .collect();
        restriction(f, ctx, user_id, perms)
    },
};

pub(super) const TG_BAN_CHAT_MEMBER: ChatAction = ChatAction {
    name: "tg_ban_chat_member",
    doc: r#"
Ban a user from the chat (`banChatMember`). Options: `#{until_date, revoke_messages}`, or
`hours` instead of `until_date`. As Salebot's, `tg_ban_chat_member(chat_id, user_id, hours)`
bans for that many hours (0: forever; over 366 days: forever). Optional leading `chat_id`.

# Example
```rhai
tg_ban_chat_member(msg.reply_to_message.from.id);
tg_ban_chat_member(-1001234567890, 42, 24);   // for a day
```
"#,
    overloads: &[
        MEMBER[0],
        MEMBER[1],
        &["user_id: INT | String", "options: Map", "bool"],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "options: Map",
            "bool",
        ],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "hours: INT",
            "bool",
        ],
    ],
    method: Method::Fixed("banChatMember"),
    takes: Takes::Only(&[
        CHAT_ID,
        USER_ID,
        UNTIL_DATE,
        durations::HOURS,
        FieldSpec::optional(
            "revoke_messages",
            "boolean",
            "delete the user's messages too",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = member(f, ctx)?;
        put_opt_int(f, &mut params, "until_date")?;
        put_opt_bool(f, &mut params, "revoke_messages")?;
        Ok(params)
    },
};

pub(super) const TG_UNBAN_CHAT_MEMBER: ChatAction = ChatAction {
    name: "tg_unban_chat_member",
    doc: r#"
Lift a ban (`unbanChatMember` with `only_if_banned: true`, so a member who is not banned is
left alone). Optional leading `chat_id`.

# Example
```rhai
tg_unban_chat_member(42);
```
"#,
    overloads: MEMBER,
    method: Method::Fixed("unbanChatMember"),
    takes: Takes::Only(&[
        CHAT_ID,
        USER_ID,
        FieldSpec::optional(
            "only_if_banned",
            "boolean",
            "leave a member who is not banned alone",
        )
        .or("true"),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = member(f, ctx)?;
        let only_if_banned = f.opt_bool("only_if_banned")?.unwrap_or(true);
        params.insert("only_if_banned".into(), only_if_banned.into());
        Ok(params)
    },
};

pub(super) const TG_PROMOTE_CHAT_MEMBER: ChatAction = ChatAction {
    name: "tg_promote_chat_member",
    doc: r#"
Make a member an administrator with the given rights (`promoteChatMember`): any of
`is_anonymous`, `can_manage_chat`, `can_delete_messages`, `can_restrict_members`,
`can_pin_messages`, `can_invite_users`, `can_change_info`, `can_manage_topics`, … Rights left
out are false; all false demotes. Optional leading `chat_id`.

# Example
```rhai
tg_promote_chat_member(42, #{can_delete_messages: true, can_pin_messages: true});
```
"#,
    overloads: &[
        &["user_id: INT | String", "rights: Map", "bool"],
        &[
            "chat_id: INT | String",
            "user_id: INT | String",
            "rights: Map",
            "bool",
        ],
    ],
    method: Method::Fixed("promoteChatMember"),
    takes: Takes::Only(&[
        CHAT_ID,
        USER_ID,
        FieldSpec::required(
            "rights",
            "map",
            r#"{"can_delete_messages": true}"#,
            "admin rights (left out: false; all false demotes)",
        ),
    ]),
    returns: "true",
    build: |f, ctx| {
        let mut params = member(f, ctx)?;
        let rights = f
            .opt_map("rights")?
            .ok_or_else(|| f.error("rights is required"))?;
        for (key, value) in rights {
            if !ADMIN_RIGHTS.contains(&key.as_str()) {
                return Err(f.error(format!(
                    "unknown right '{key}' (known: {})",
                    ADMIN_RIGHTS.join(", ")
                )));
            }
            let on = value
                .as_bool()
                .ok_or_else(|| f.error(format!("rights.{key} must be true or false")))?;
            params.insert(key.clone(), on.into());
        }
        Ok(params)
    },
};

pub(super) const TG_GET_CHAT_MEMBER: ChatAction = ChatAction {
    name: "tg_get_chat_member",
    doc: r#"
A member of the chat as the Bot API `ChatMember` map (`status` is "creator", "administrator",
"member", "restricted", "left" or "kicked"). Optional leading `chat_id`.

# Example
```rhai
let me = tg_get_chat_member(msg.from.id);
if me.status == "administrator" || me.status == "creator" { reply("hello, admin"); }
```
"#,
    overloads: MEMBER,
    method: Method::Fixed("getChatMember"),
    takes: Takes::Only(&[CHAT_ID, USER_ID]),
    returns: r#"{"status": "member", "user": {"id": 42, "is_bot": false, "first_name": "Ann"}}"#,
    build: member,
};

/// The overloads of the join-request actions: the member ones, and none for the current user.
const JOIN_REQUEST: &[&[&str]] = &[MEMBER[0], MEMBER[1], &["bool"]];

pub(super) const TG_APPROVE_CHAT_JOIN_REQUEST: ChatAction = ChatAction {
    name: "tg_approve_chat_join_request",
    doc: r#"
Approve a join request (`approveChatJoinRequest`); without `user_id`, the user of the
current update. Optional leading `chat_id`.

# Example
```rhai
fn on_update(update) {
    if "chat_join_request" in update { tg_approve_chat_join_request(update.chat_join_request.from.id); }
}
```
"#,
    overloads: JOIN_REQUEST,
    method: Method::Fixed("approveChatJoinRequest"),
    takes: Takes::Only(&[CHAT_ID, USER_ID]),
    returns: "true",
    build: member,
};

pub(super) const TG_DECLINE_CHAT_JOIN_REQUEST: ChatAction = ChatAction {
    name: "tg_decline_chat_join_request",
    doc: r#"
Decline a join request (`declineChatJoinRequest`); without `user_id`, the user of the current
update. Optional leading `chat_id`.

# Example
```rhai
tg_decline_chat_join_request(42);
```
"#,
    overloads: JOIN_REQUEST,
    method: Method::Fixed("declineChatJoinRequest"),
    takes: Takes::Only(&[CHAT_ID, USER_ID]),
    returns: "true",
    build: member,
};

/// `restrictChatMember` for `user_id` with `permissions`, applied independently.
fn restriction(
    f: &Fields,
    ctx: &UpdateContext,
    user_id: i64,
    permissions: Map<String, Value>,
) -> Result<Params, CommandError> {
    let mut params = Map::new();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    params.insert("user_id".into(), user_id.into());
    params.insert("permissions".into(), Value::Object(permissions));
    params.insert("use_independent_chat_permissions".into(), true.into());
    put_opt_int(f, &mut params, "until_date")?;
    Ok(params)
}

/// `chat_id` and `user_id` (the current update's user when left out).
pub(super) fn member(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let user_id = match f.opt_int("user_id")? {
        Some(id) => id,
        None => ctx.user_id.ok_or_else(|| f.error("user_id is required"))?,
    };
    let mut params = Map::new();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    params.insert("user_id".into(), user_id.into());
    Ok(params)
}
