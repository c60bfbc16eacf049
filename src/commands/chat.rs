//! Chat actions over the Bot API: `tg_chat_permission`, the moderation family, messages and
//! the raw `bot_api`. Each action is a request map in, a JSON result out; [`prepare`] turns a
//! request into the exact Bot API call (pure, so it is tested without a server) and
//! [`execute`] sends it.

use super::{CommandError, Fields, as_int};
use crate::host::Host;
use crate::inbox::journal;
use crate::telegram::{BotError, UpdateContext, errors, permissions};
use serde_json::{Map, Value, json};

/// One chat action: its name, the Bot API method it calls, and the request fields it takes.
struct Action {
    name: &'static str,
    method: &'static str,
    fields: &'static [&'static str],
    /// Whether unknown fields are passed through to the Bot API (message options).
    open: bool,
}

const ACTIONS: &[Action] = &[
    Action {
        name: "tg_chat_permission",
        method: "restrictChatMember",
        fields: &[
            "chat_id",
            "user_id",
            "permission",
            "media_permissions",
            "until_date",
        ],
        open: false,
    },
    Action {
        name: "tg_restrict_chat_member",
        method: "restrictChatMember",
        fields: &["chat_id", "user_id", "permissions", "until_date"],
        open: false,
    },
    Action {
        name: "tg_ban_chat_member",
        method: "banChatMember",
        fields: &["chat_id", "user_id", "until_date", "revoke_messages"],
        open: false,
    },
    Action {
        name: "tg_unban_chat_member",
        method: "unbanChatMember",
        fields: &["chat_id", "user_id", "only_if_banned"],
        open: false,
    },
    Action {
        name: "tg_promote_chat_member",
        method: "promoteChatMember",
        fields: &["chat_id", "user_id", "rights"],
        open: false,
    },
    Action {
        name: "tg_get_chat_member",
        method: "getChatMember",
        fields: &["chat_id", "user_id"],
        open: false,
    },
    Action {
        name: "tg_delete_message",
        method: "deleteMessage",
        fields: &["chat_id", "message_id"],
        open: false,
    },
    Action {
        name: "tg_pin_chat_message",
        method: "pinChatMessage",
        fields: &["chat_id", "message_id", "disable_notification"],
        open: false,
    },
    Action {
        name: "tg_unpin_chat_message",
        method: "unpinChatMessage",
        fields: &["chat_id", "message_id"],
        open: false,
    },
    Action {
        name: "tg_approve_chat_join_request",
        method: "approveChatJoinRequest",
        fields: &["chat_id", "user_id"],
        open: false,
    },
    Action {
        name: "tg_decline_chat_join_request",
        method: "declineChatJoinRequest",
        fields: &["chat_id", "user_id"],
        open: false,
    },
    Action {
        name: "tg_create_chat_invite_link",
        method: "createChatInviteLink",
        fields: &[
            "chat_id",
            "name",
            "expire_date",
            "member_limit",
            "creates_join_request",
        ],
        open: false,
    },
    Action {
        name: "send_message",
        method: "sendMessage",
        fields: &["chat_id", "text"],
        open: true,
    },
    Action {
        name: "reply",
        method: "sendMessage",
        fields: &["text"],
        open: true,
    },
    Action {
        name: "answer_callback_query",
        method: "answerCallbackQuery",
        fields: &[
            "callback_query_id",
            "text",
            "show_alert",
            "url",
            "cache_time",
        ],
        open: false,
    },
    Action {
        name: "bot_api",
        method: "",
        fields: &["method", "params"],
        open: false,
    },
];

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

/// Whether `name` is a chat action.
pub fn is_action(name: &str) -> bool {
    ACTIONS.iter().any(|a| a.name == name)
}

/// Every chat action name.
pub fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|a| a.name)
}

/// The Bot API method and JSON parameters `action` sends for `request`, validated.
/// `context` is the update being handled: its chat, user and message fill in what the
/// request leaves out.
pub fn prepare(
    action: &str,
    request: &Map<String, Value>,
    context: Option<&UpdateContext>,
) -> Result<(String, Value), CommandError> {
    let spec = ACTIONS
        .iter()
        .find(|a| a.name == action)
        .ok_or_else(|| CommandError::invalid(action, format!("unknown action '{action}'")))?;
    let f = Fields::new(spec.name, request);
    if !spec.open
        && let Some(unknown) = request.keys().find(|k| !spec.fields.contains(&k.as_str()))
    {
        return Err(f.error(format!(
            "unknown field '{unknown}' (known: {})",
            spec.fields.join(", ")
        )));
    }
    let ctx = context.cloned().unwrap_or_default();
    let mut params = Map::new();
    match spec.name {
        "tg_chat_permission" => {
            let user_id = f.int("user_id")?;
            let permission = f.get("permission").unwrap_or(&Value::Null);
            let media = f.get("media_permissions").unwrap_or(&Value::Null);
            let permissions =
                permissions::from_flag_lists(permission, media).map_err(|e| f.error(e))?;
            params.insert("chat_id".into(), chat_id(&f, &ctx)?);
            params.insert("user_id".into(), user_id.into());
            params.insert("permissions".into(), Value::Object(permissions));
            params.insert("use_independent_chat_permissions".into(), true.into());
            put_opt_int(&f, &mut params, "until_date")?;
        }
        "tg_restrict_chat_member" => {
            let user_id = f.int("user_id")?;
            let perms = f
                .opt_map("permissions")?
                .ok_or_else(|| f.error("permissions is required"))?;
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
            params.insert("chat_id".into(), chat_id(&f, &ctx)?);
            params.insert("user_id".into(), user_id.into());
            params.insert("permissions".into(), Value::Object(perms));
            params.insert("use_independent_chat_permissions".into(), true.into());
            put_opt_int(&f, &mut params, "until_date")?;
        }
        "tg_ban_chat_member" => {
            member_params(&f, &ctx, &mut params)?;
            put_opt_int(&f, &mut params, "until_date")?;
            if let Some(revoke) = f.opt_bool("revoke_messages")? {
                params.insert("revoke_messages".into(), revoke.into());
            }
        }
        "tg_unban_chat_member" => {
            member_params(&f, &ctx, &mut params)?;
            let only_if_banned = f.opt_bool("only_if_banned")?.unwrap_or(true);
            params.insert("only_if_banned".into(), only_if_banned.into());
        }
        "tg_promote_chat_member" => {
            member_params(&f, &ctx, &mut params)?;
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
        }
        "tg_get_chat_member" | "tg_approve_chat_join_request" | "tg_decline_chat_join_request" => {
            member_params(&f, &ctx, &mut params)?;
        }
        "tg_delete_message" | "tg_pin_chat_message" => {
            params.insert("chat_id".into(), chat_id(&f, &ctx)?);
            let message_id = match f.opt_int("message_id")? {
                Some(id) => id,
                None => ctx
                    .message_id
                    .ok_or_else(|| f.error("message_id is required (no current message)"))?,
            };
            params.insert("message_id".into(), message_id.into());
            if let Some(quiet) = f.opt_bool("disable_notification")? {
                params.insert("disable_notification".into(), quiet.into());
            }
        }
        "tg_unpin_chat_message" => {
            params.insert("chat_id".into(), chat_id(&f, &ctx)?);
            put_opt_int(&f, &mut params, "message_id")?;
        }
        "tg_create_chat_invite_link" => {
            params.insert("chat_id".into(), chat_id(&f, &ctx)?);
            if let Some(name) = f.opt_str("name")? {
                params.insert("name".into(), name.into());
            }
            put_opt_int(&f, &mut params, "expire_date")?;
            put_opt_int(&f, &mut params, "member_limit")?;
            if let Some(join) = f.opt_bool("creates_join_request")? {
                params.insert("creates_join_request".into(), join.into());
            }
        }
        "send_message" | "reply" => {
            for (key, value) in request {
                params.insert(key.clone(), value.clone());
            }
            let text = f
                .opt_str("text")?
                .ok_or_else(|| f.error("text is required"))?;
            params.insert("text".into(), text.into());
            params.insert("chat_id".into(), chat_id(&f, &ctx)?);
            if spec.name == "reply" {
                let message_id = ctx.message_id.ok_or_else(|| {
                    f.error("no current message to reply to: use send_message(chat_id, text)")
                })?;
                params
                    .entry("reply_parameters")
                    .or_insert_with(|| json!({ "message_id": message_id }));
            }
        }
        "answer_callback_query" => {
            let id = match f.get("callback_query_id") {
                Some(Value::String(id)) => id.clone(),
                Some(_) => return Err(f.error("callback_query_id must be a string")),
                None => ctx.callback_query_id.clone().ok_or_else(|| {
                    f.error("no current callback query: call it from on_callback_query or pass callback_query_id")
                })?,
            };
            params.insert("callback_query_id".into(), id.into());
            if let Some(text) = f.opt_str("text")? {
                params.insert("text".into(), text.into());
            }
            if let Some(alert) = f.opt_bool("show_alert")? {
                params.insert("show_alert".into(), alert.into());
            }
            if let Some(url) = f.opt_str("url")? {
                params.insert("url".into(), url.into());
            }
            put_opt_int(&f, &mut params, "cache_time")?;
        }
        "bot_api" => {
            let method = f
                .opt_str("method")?
                .ok_or_else(|| f.error("method is required"))?;
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(f.error(format!(
                    "method must be a Bot API method name like \"getChat\", got {method:?}"
                )));
            }
            let params = match f.get("params") {
                None => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(_) => return Err(f.error("params must be a map")),
            };
            return Ok((method.to_string(), Value::Object(params)));
        }
        other => return Err(f.error(format!("unknown action '{other}'"))),
    }
    Ok((spec.method.to_string(), Value::Object(params)))
}

/// Validate `request`, send it through the host's bot and return Telegram's result
/// (`true` for `tg_chat_permission`).
pub fn execute(
    host: &Host,
    action: &str,
    request: &Map<String, Value>,
    context: Option<&UpdateContext>,
) -> Result<Value, CommandError> {
    let (method, params) = prepare(action, request, context)?;
    let bot = host.bot().map_err(|e| CommandError::invalid(action, e))?;
    let value = journal::external(
        action,
        || format!("bot {method} {params}"),
        || {
            host.block_on(bot.call(&method, &params))
                .map_err(|e| CommandError::invalid(action, e))?
                .map_err(|e| refusal(action, &e))
        },
    )?;
    if action == "tg_chat_permission" {
        return Ok(Value::Bool(value != Value::Bool(false)));
    }
    Ok(value)
}

/// A Bot API failure as a command error: Telegram's description, its code, and a hint.
pub fn refusal(action: &str, err: &BotError) -> CommandError {
    let error = err.to_string();
    CommandError {
        command: action.to_string(),
        hint: errors::hint(&error).map(str::to_string),
        code: err.code(),
        error,
    }
}

/// The target chat: the request's `chat_id` (integer, digits or `@username`), else the
/// current update's chat.
fn chat_id(f: &Fields, ctx: &UpdateContext) -> Result<Value, CommandError> {
    match f.get("chat_id") {
        Some(value) => {
            if let Some(id) = as_int(value) {
                Ok(id.into())
            } else if let Some(name) = value.as_str().filter(|s| s.len() > 1 && s.starts_with('@'))
            {
                Ok(name.into())
            } else {
                Err(f.error("chat_id must be an integer or an \"@username\""))
            }
        }
        None => ctx
            .chat_id
            .map(Value::from)
            .ok_or_else(|| f.error("no current chat: pass chat_id as the first argument")),
    }
}

/// `chat_id` and `user_id` (the current update's user when left out).
fn member_params(
    f: &Fields,
    ctx: &UpdateContext,
    params: &mut Map<String, Value>,
) -> Result<(), CommandError> {
    let user_id = match f.opt_int("user_id")? {
        Some(id) => id,
        None => ctx.user_id.ok_or_else(|| f.error("user_id is required"))?,
    };
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    params.insert("user_id".into(), user_id.into());
    Ok(())
}

fn put_opt_int(f: &Fields, params: &mut Map<String, Value>, key: &str) -> Result<(), CommandError> {
    if let Some(value) = f.opt_int(key)? {
        params.insert(key.into(), value.into());
    }
    Ok(())
}
