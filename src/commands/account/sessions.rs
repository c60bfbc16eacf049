//! Sessions and block lists: `get_active_sessions`, `terminate_session`,
//! `set_session_settings`, `terminate_all_other_sessions`, `block_user`, `unblock_user`,
//! `get_blocked_users`.

use super::{AccountCommand, Target};
use crate::accounts::{AccountOp, BlockList};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields, as_int};
use serde_json::{Value, json};

/// The user a block-list command is about.
const USER_ID: FieldSpec = FieldSpec::required("user_id", "integer", "42", "the user");

/// The block list a command works on.
const BLOCK_LIST: FieldSpec = FieldSpec::optional(
    "block_list",
    "string|map",
    "\"blockListMain\" or \"blockListStories\" (or {\"@type\": ...})",
)
.or(r#""blockListMain""#);

pub(super) const GET_ACTIVE_SESSIONS: AccountCommand = AccountCommand {
    name: "get_active_sessions",
    overloads: &[&["Map"]],
    doc: r#"
The account's active sessions: `#{sessions: [#{id, is_current, is_password_pending,
is_unconfirmed, can_accept_calls, can_accept_secret_chats, type, api_id, application_name,
application_version, is_official_application, device_model, platform, system_version,
ip_address, location, log_in_date, last_active_date}], inactive_session_ttl_days}` (ids are
integers; `type` is e.g. "android"). TDLib: getActiveSessions.

# Example
```rhai
for s in get_active_sessions().sessions { print(`${s.id} ${s.device_model} ${s.location}`); }
```
"#,
    fields: &[],
    returns: r#"{"sessions": [{"id": 1001, "is_current": true, "type": "desktop", "application_name": "Telegram Desktop", "device_model": "Desktop", "location": "Berlin, Germany"}], "inactive_session_ttl_days": 180}"#,
    prepare: |_| {
        Ok(Box::new(|account| {
            Ok(normalize_sessions(
                &account.call(AccountOp::GetActiveSessions)?,
            ))
        }))
    },
};

pub(super) const TERMINATE_SESSION: AccountCommand = AccountCommand {
    name: "terminate_session",
    overloads: &[&["session_id: Dynamic", "Map"]],
    doc: r#"
End another session. Errors: `session_id is required`, `current session can't be terminated via
terminate_session`. Returns `#{session_id, terminated: true}`. TDLib: terminateSession.

# Example
```rhai
terminate_session(1002);
```
"#,
    fields: &[FieldSpec::required(
        "session_id",
        "integer",
        "1002",
        "the session to end (an id from get_active_sessions)",
    )],
    returns: r#"{"session_id": 1002, "terminated": true}"#,
    prepare: |f| {
        let id = f.int("session_id")?;
        Ok(Box::new(move |account| terminate_session(account, id)))
    },
};

pub(super) const SET_SESSION_SETTINGS: AccountCommand = AccountCommand {
    name: "set_session_settings",
    overloads: &[&["session_id: Dynamic", "settings: Map", "Map"]],
    doc: r#"
Change whether a session accepts calls and secret chats: `settings` holds at least one of
`can_accept_calls`, `can_accept_secret_chats` (else `at least one of can_accept_calls or
can_accept_secret_chats is required`). Returns what was set. TDLib:
toggleSessionCanAcceptCalls / toggleSessionCanAcceptSecretChats.

# Example
```rhai
set_session_settings(1002, #{can_accept_calls: false});
```
"#,
    fields: &[
        FieldSpec::required("session_id", "integer", "1002", "the session to change"),
        FieldSpec::optional("can_accept_calls", "boolean", "whether it accepts calls").eg("false"),
        FieldSpec::optional(
            "can_accept_secret_chats",
            "boolean",
            "whether it accepts secret chats",
        ),
    ],
    returns: r#"{"session_id": 1002, "can_accept_calls": false}"#,
    prepare: |f| {
        let session_id = f.int("session_id")?;
        let calls = f.opt_bool("can_accept_calls")?;
        let secret_chats = f.opt_bool("can_accept_secret_chats")?;
        if calls.is_none() && secret_chats.is_none() {
            return Err(
                f.error("at least one of can_accept_calls or can_accept_secret_chats is required")
            );
        }
        Ok(Box::new(move |account| {
            let mut result = json!({"session_id": session_id});
            if let Some(on) = calls {
                account.call(AccountOp::ToggleSessionCanAcceptCalls(session_id, on))?;
                result["can_accept_calls"] = on.into();
            }
            if let Some(on) = secret_chats {
                account.call(AccountOp::ToggleSessionCanAcceptSecretChats(session_id, on))?;
                result["can_accept_secret_chats"] = on.into();
            }
            Ok(result)
        }))
    },
};

pub(super) const TERMINATE_ALL_OTHER_SESSIONS: AccountCommand = AccountCommand {
    name: "terminate_all_other_sessions",
    overloads: &[&["Map"]],
    doc: r#"
End every session but the current one. Returns `#{terminated: true}`. TDLib:
terminateAllOtherSessions.

# Example
```rhai
terminate_all_other_sessions();
```
"#,
    fields: &[],
    returns: r#"{"terminated": true}"#,
    prepare: |_| {
        Ok(Box::new(|account| {
            account.call(AccountOp::TerminateAllOtherSessions)?;
            Ok(json!({"terminated": true}))
        }))
    },
};

pub(super) const CONFIRM_SESSION: AccountCommand = AccountCommand {
    name: "confirm_session",
    overloads: &[&["session_id: Dynamic", "Map"]],
    doc: r#"
Confirm a login from a new device (the session of an `updateUnconfirmedSession`) as the
owner's: Telegram stops treating it as unconfirmed. Errors: `session_id is required`, TDLib's
own (`Session not found`). Returns `#{session_id, confirmed: true}`. TDLib: confirmSession.

# Example
```rhai
fn on_account_update(account_id, update) {
    if update["@type"] == "updateUnconfirmedSession" && update.session != () {
        account(account_id).confirm_session(update.session.id);
    }
}
```
"#,
    fields: &[FieldSpec::required(
        "session_id",
        "integer",
        "2001",
        "the new login to confirm (the id of an unconfirmed_session event)",
    )],
    returns: r#"{"session_id": 2001, "confirmed": true}"#,
    prepare: |f| {
        let id = f.int("session_id")?;
        Ok(Box::new(move |account| {
            account.call(AccountOp::ConfirmSession(id))?;
            Ok(json!({"session_id": id, "confirmed": true}))
        }))
    },
};

pub(super) const BLOCK_USER: AccountCommand = AccountCommand {
    name: "block_user",
    overloads: &[
        &["user_id: Dynamic", "Map"],
        &["user_id: Dynamic", "options: Map", "Map"],
    ],
    doc: r#"
Block a user. Options: `#{is_blocked: true, block_list: "blockListMain"}` (`is_blocked: false`
unblocks; `block_list` is "blockListMain", "blockListStories" or `#{"@type": ...}`). Returns
`#{user_id, is_blocked, block_list}`. TDLib: setMessageSenderBlockList.

# Example
```rhai
block_user(42);
block_user(43, #{block_list: "blockListStories"});
```
"#,
    fields: &[
        USER_ID,
        FieldSpec::optional("is_blocked", "boolean", "false unblocks").or("true"),
        BLOCK_LIST,
    ],
    returns: r#"{"user_id": 42, "is_blocked": true, "block_list": "blockListMain"}"#,
    prepare: |f| {
        let user_id = f.int("user_id")?;
        let is_blocked = f.opt_bool("is_blocked")?.unwrap_or(true);
        let list = block_list(f)?;
        Ok(Box::new(move |account| {
            set_block_list(account, user_id, is_blocked.then_some(list))
        }))
    },
};

pub(super) const UNBLOCK_USER: AccountCommand = AccountCommand {
    name: "unblock_user",
    overloads: &[&["user_id: Dynamic", "Map"]],
    doc: r#"
Unblock a user (from either list). Returns `#{user_id, is_blocked: false}`. TDLib:
setMessageSenderBlockList with no list.

# Example
```rhai
unblock_user(42);
```
"#,
    fields: &[USER_ID],
    returns: r#"{"user_id": 42, "is_blocked": false, "block_list": null}"#,
    prepare: |f| {
        let user_id = f.int("user_id")?;
        Ok(Box::new(move |account| {
            set_block_list(account, user_id, None)
        }))
    },
};

pub(super) const GET_BLOCKED_USERS: AccountCommand = AccountCommand {
    name: "get_blocked_users",
    overloads: &[&["Map"], &["options: Map", "Map"]],
    doc: r#"
A page of blocked senders: `#{total_count, offset, limit, block_list, senders: [#{kind, id}]}`.
Options: `#{block_list, offset: 0, limit: 50}` (limit 1–100). TDLib: getBlockedMessageSenders.

# Example
```rhai
let page = get_blocked_users(#{offset: 0, limit: 20});
print(`${page.total_count} blocked`);
```
"#,
    fields: &[
        BLOCK_LIST,
        FieldSpec::optional("offset", "integer", "senders to skip").or("0"),
        FieldSpec::optional("limit", "integer", "senders to return, 1–100")
            .or("50")
            .eg("20"),
    ],
    returns: r#"{"block_list": "blockListMain", "offset": 0, "limit": 20, "total_count": 1, "senders": [{"kind": "user", "id": 42}]}"#,
    prepare: |f| {
        let list = block_list(f)?;
        let offset = f.opt_int("offset")?.unwrap_or(0);
        if offset < 0 || offset > i64::from(i32::MAX) {
            return Err(f.error(format!("offset must be 0 or more, got {offset}")));
        }
        let limit = f.opt_int("limit")?.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return Err(f.error(format!(
                "limit must be between 1 and 100 (TDLib's range), got {limit}"
            )));
        }
        let (offset, limit) = (offset as i32, limit as i32);
        Ok(Box::new(move |account| {
            let senders = account.call(AccountOp::GetBlockedMessageSenders(list, offset, limit))?;
            Ok(normalize_senders(&senders, list, offset, limit))
        }))
    },
};

/// `terminate_session`: refused for the current session, which needs one look at the list.
fn terminate_session(account: &Target, id: i64) -> Result<Value, CommandError> {
    let sessions = account.call(AccountOp::GetActiveSessions)?;
    let current = sessions["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| as_int(&s["id"]) == Some(id) && s["is_current"] == json!(true));
    if current {
        return Err(CommandError::invalid(
            account.command(),
            "current session can't be terminated via terminate_session",
        ));
    }
    account.call(AccountOp::TerminateSession(id))?;
    Ok(json!({"session_id": id, "terminated": true}))
}

/// Put `user_id` on `list` (`None` unblocks).
fn set_block_list(
    account: &Target,
    user_id: i64,
    list: Option<BlockList>,
) -> Result<Value, CommandError> {
    account.call(AccountOp::SetUserBlockList(user_id, list))?;
    Ok(json!({
        "user_id": user_id,
        "is_blocked": list.is_some(),
        "block_list": list.map(BlockList::type_name),
    }))
}

fn block_list(f: &Fields) -> Result<BlockList, CommandError> {
    let name = match f.get("block_list") {
        None => return Ok(BlockList::Main),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("@type").and_then(Value::as_str).unwrap_or_default(),
        Some(_) => "",
    };
    match name {
        "blockListMain" => Ok(BlockList::Main),
        "blockListStories" => Ok(BlockList::Stories),
        _ => Err(f.error("block_list must be a TDLib block list type")),
    }
}

/// Sessions with integer ids and snake_case keys; `type` as a short name (`android`, …).
pub fn normalize_sessions(sessions: &Value) -> Value {
    let list: Vec<Value> = sessions["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let kind = s["type"]["@type"]
                .as_str()
                .and_then(|t| t.strip_prefix("sessionType"))
                .unwrap_or("Unknown")
                .to_ascii_lowercase();
            json!({
                "id": as_int(&s["id"]),
                "is_current": s["is_current"],
                "is_password_pending": s["is_password_pending"],
                "is_unconfirmed": s["is_unconfirmed"],
                "can_accept_calls": s["can_accept_calls"],
                "can_accept_secret_chats": s["can_accept_secret_chats"],
                "type": kind,
                "api_id": s["api_id"],
                "application_name": s["application_name"],
                "application_version": s["application_version"],
                "is_official_application": s["is_official_application"],
                "device_model": s["device_model"],
                "platform": s["platform"],
                "system_version": s["system_version"],
                "ip_address": s["ip_address"],
                "location": s["location"],
                "log_in_date": s["log_in_date"],
                "last_active_date": s["last_active_date"],
            })
        })
        .collect();
    json!({
        "sessions": list,
        "inactive_session_ttl_days": sessions["inactive_session_ttl_days"],
    })
}

/// Blocked senders: `total_count`, the page asked for, and each sender's kind and id.
pub fn normalize_senders(senders: &Value, list: BlockList, offset: i32, limit: i32) -> Value {
    let items: Vec<Value> = senders["senders"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| match s["@type"].as_str() {
            Some("messageSenderChat") => json!({"kind": "chat", "id": as_int(&s["chat_id"])}),
            _ => json!({"kind": "user", "id": as_int(&s["user_id"])}),
        })
        .collect();
    json!({
        "block_list": list.type_name(),
        "offset": offset,
        "limit": limit,
        "total_count": as_int(&senders["total_count"]).unwrap_or(0),
        "senders": items,
    })
}
