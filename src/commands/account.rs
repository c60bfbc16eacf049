//! The ten session and privacy commands of the seed protocol: a request shaped as in the seed
//! is validated (the seed's error words, before any call), run against an account and
//! answered with a normalized result. The Rhai builtins, `command(...)` and the gateway all
//! come through here.

use super::privacy::{self, Audience, Mode};
use super::{CommandError, Fields, as_int};
use crate::accounts::sandbox::PRIVACY_SETTINGS;
use crate::accounts::{Account, AccountOp, Accounts, BlockList, TdError};
use crate::host::Host;
use crate::inbox::journal;
use serde_json::{Map, Value, json};

/// The seed's commands.
pub const COMMANDS: &[&str] = &[
    "get_active_sessions",
    "terminate_session",
    "set_session_settings",
    "terminate_all_other_sessions",
    "block_user",
    "unblock_user",
    "get_blocked_users",
    "get_privacy_setting",
    "get_privacy_settings",
    "set_privacy_setting",
];

/// The setting name for new-chat privacy (not a `userPrivacySetting*` type).
pub const NEW_CHAT_SETTING: &str = "newChatPrivacySettings";

/// Whether `name` is one of the seed's commands.
pub fn is_command(name: &str) -> bool {
    COMMANDS.contains(&name)
}

/// A privacy setting: one of TDLib's rule settings, or new-chat privacy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// A `userPrivacySetting*` type name.
    Rules(String),
    /// `newChatPrivacySettings`.
    NewChat,
}

impl Setting {
    fn name(&self) -> &str {
        match self {
            Setting::Rules(name) => name,
            Setting::NewChat => NEW_CHAT_SETTING,
        }
    }
}

/// What `set_privacy_setting` sets.
#[derive(Debug, Clone, PartialEq)]
pub enum PrivacyChange {
    /// A `userPrivacySettingRules` object.
    Rules(Value),
    /// A `newChatPrivacySettings` object.
    NewChat(Value),
}

/// A validated seed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `get_active_sessions`
    GetActiveSessions,
    /// `terminate_session`
    TerminateSession(i64),
    /// `set_session_settings`
    SetSessionSettings {
        /// The session.
        session_id: i64,
        /// New `can_accept_calls`, if given.
        can_accept_calls: Option<bool>,
        /// New `can_accept_secret_chats`, if given.
        can_accept_secret_chats: Option<bool>,
    },
    /// `terminate_all_other_sessions`
    TerminateAllOtherSessions,
    /// `block_user` (and `unblock_user`, as `is_blocked: false`)
    BlockUser {
        /// The user.
        user_id: i64,
        /// Block (true) or unblock.
        is_blocked: bool,
        /// Which list.
        block_list: BlockList,
    },
    /// `get_blocked_users`
    GetBlockedUsers {
        /// Which list.
        block_list: BlockList,
        /// Senders to skip.
        offset: i32,
        /// Senders to return (1–100).
        limit: i32,
    },
    /// `get_privacy_setting`
    GetPrivacySetting(Setting),
    /// `get_privacy_settings`
    GetPrivacySettings(Vec<Setting>),
    /// `set_privacy_setting`
    SetPrivacySetting(Setting, PrivacyChange),
}

/// Validate a seed request (`action` plus its fields; envelope keys are ignored).
pub fn parse(action: &str, request: &Map<String, Value>) -> Result<Command, CommandError> {
    let f = Fields::new(action, request);
    Ok(match action {
        "get_active_sessions" => Command::GetActiveSessions,
        "terminate_session" => Command::TerminateSession(f.int("session_id")?),
        "set_session_settings" => {
            let session_id = f.int("session_id")?;
            let can_accept_calls = f.opt_bool("can_accept_calls")?;
            let can_accept_secret_chats = f.opt_bool("can_accept_secret_chats")?;
            if can_accept_calls.is_none() && can_accept_secret_chats.is_none() {
                return Err(f.error(
                    "at least one of can_accept_calls or can_accept_secret_chats is required",
                ));
            }
            Command::SetSessionSettings {
                session_id,
                can_accept_calls,
                can_accept_secret_chats,
            }
        }
        "terminate_all_other_sessions" => Command::TerminateAllOtherSessions,
        "block_user" => Command::BlockUser {
            user_id: f.int("user_id")?,
            is_blocked: f.opt_bool("is_blocked")?.unwrap_or(true),
            block_list: block_list(&f)?,
        },
        "unblock_user" => Command::BlockUser {
            user_id: f.int("user_id")?,
            is_blocked: false,
            block_list: BlockList::Main,
        },
        "get_blocked_users" => {
            let block_list = block_list(&f)?;
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
            Command::GetBlockedUsers {
                block_list,
                offset: offset as i32,
                limit: limit as i32,
            }
        }
        "get_privacy_setting" => Command::GetPrivacySetting(setting(&f, f.get("setting"))?),
        "get_privacy_settings" => {
            let settings = match f.get("settings") {
                None => all_settings(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| setting(&f, Some(item)))
                    .collect::<Result<_, _>>()?,
                Some(one @ Value::String(_)) => vec![setting(&f, Some(one))?],
                Some(_) => return Err(f.error("settings must be a list or string")),
            };
            Command::GetPrivacySettings(settings)
        }
        "set_privacy_setting" => {
            let which = setting(&f, f.get("setting"))?;
            let change = match which {
                Setting::NewChat => PrivacyChange::NewChat(new_chat_settings(&f)?),
                Setting::Rules(_) => PrivacyChange::Rules(json!({
                    "@type": "userPrivacySettingRules",
                    "rules": privacy_rules(&f)?,
                })),
            };
            Command::SetPrivacySetting(which, change)
        }
        other => return Err(f.error(format!("unknown action '{other}'"))),
    })
}

/// Every privacy setting (what `get_privacy_settings` without `settings` returns).
fn all_settings() -> Vec<Setting> {
    PRIVACY_SETTINGS
        .iter()
        .map(|s| Setting::Rules(s.to_string()))
        .chain([Setting::NewChat])
        .collect()
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

fn setting(f: &Fields, value: Option<&Value>) -> Result<Setting, CommandError> {
    let name = match value {
        None => return Err(f.error("setting is required")),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("@type").and_then(Value::as_str).unwrap_or_default(),
        Some(_) => "",
    };
    if name == NEW_CHAT_SETTING {
        Ok(Setting::NewChat)
    } else if PRIVACY_SETTINGS.contains(&name) {
        Ok(Setting::Rules(name.to_string()))
    } else {
        Err(f.error("unsupported privacy setting"))
    }
}

fn id_list(f: &Fields, key: &str) -> Result<Vec<i64>, CommandError> {
    match f.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| as_int(v).ok_or_else(|| f.error(format!("{key} must be a list of integers"))))
            .collect(),
        Some(_) => Err(f.error(format!("{key} must be a list of integers"))),
    }
}

/// The rules `set_privacy_setting` sends: from `mode` and the id lists, or the raw `rules`.
fn privacy_rules(f: &Fields) -> Result<Vec<Value>, CommandError> {
    let mode = f.get("mode");
    if mode.is_none()
        && let Some(raw) = f.get("rules")
    {
        return raw_rules(f, raw);
    }
    let mode = mode
        .and_then(Value::as_str)
        .and_then(Mode::parse)
        .ok_or_else(|| f.error("mode must be one of: all, contacts, nobody"))?;
    let audience = Audience {
        allow_user_ids: id_list(f, "allow_user_ids")?,
        allow_chat_ids: id_list(f, "allow_chat_ids")?,
        restrict_user_ids: id_list(f, "restrict_user_ids")?,
        restrict_chat_ids: id_list(f, "restrict_chat_ids")?,
        allow_premium_users: f.opt_bool("allow_premium_users")?.unwrap_or(false),
    };
    Ok(privacy::rules_for(mode, &audience))
}

/// Raw `rules`: a `userPrivacySettingRules` object or a list of rule objects, each `@type`
/// checked.
fn raw_rules(f: &Fields, raw: &Value) -> Result<Vec<Value>, CommandError> {
    let list = match raw {
        Value::Array(items) => items,
        Value::Object(o) if o.get("@type") == Some(&json!("userPrivacySettingRules")) => o
            .get("rules")
            .and_then(Value::as_array)
            .ok_or_else(|| f.error("rules.rules must be a list of rule objects"))?,
        _ => {
            return Err(f.error(
                "rules must be a userPrivacySettingRules object or a list of rule objects",
            ));
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, r)| {
            let t = r.get("@type").and_then(Value::as_str).unwrap_or_default();
            if !privacy::RULE_TYPES.contains(&t) {
                return Err(f.error(format!(
                    "rules[{i}] must be a TDLib privacy rule (@type userPrivacySettingRule…), got {}",
                    if t.is_empty() { "no @type" } else { t }
                )));
            }
            let mut rule = json!({"@type": t});
            for key in ["user_ids", "chat_ids"] {
                if let Some(ids) = r.get(key) {
                    let ids: Vec<i64> = ids
                        .as_array()
                        .map(|a| a.iter().filter_map(as_int).collect())
                        .filter(|v: &Vec<i64>| Some(v.len()) == ids.as_array().map(Vec::len))
                        .ok_or_else(|| f.error(format!("rules[{i}].{key} must be a list of integers")))?;
                    rule[key] = json!(ids);
                }
            }
            Ok(rule)
        })
        .collect()
}

fn new_chat_settings(f: &Fields) -> Result<Value, CommandError> {
    let allow = f
        .opt_bool("allow_new_chats_from_unknown_users")?
        .ok_or_else(|| {
            f.error("allow_new_chats_from_unknown_users is required for newChatPrivacySettings")
        })?;
    let stars = f.opt_int("incoming_paid_message_star_count")?.unwrap_or(0);
    if stars < 0 {
        return Err(f.error("incoming_paid_message_star_count must be 0 or more"));
    }
    Ok(json!({
        "@type": "newChatPrivacySettings",
        "allow_new_chats_from_unknown_users": allow,
        "incoming_paid_message_star_count": stars,
    }))
}

/// Run a validated command against `account` and normalize the answer.
pub async fn run(
    account: &dyn Account,
    action: &str,
    command: Command,
) -> Result<Value, CommandError> {
    let td = |e: TdError| td_error(action, e);
    match command {
        Command::GetActiveSessions => {
            let sessions = account
                .call(AccountOp::GetActiveSessions)
                .await
                .map_err(td)?;
            Ok(normalize_sessions(&sessions))
        }
        Command::TerminateSession(id) => {
            let sessions = account
                .call(AccountOp::GetActiveSessions)
                .await
                .map_err(td)?;
            let current = sessions["sessions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| as_int(&s["id"]) == Some(id) && s["is_current"] == json!(true));
            if current {
                return Err(CommandError::invalid(
                    action,
                    "current session can't be terminated via terminate_session",
                ));
            }
            account
                .call(AccountOp::TerminateSession(id))
                .await
                .map_err(td)?;
            Ok(json!({"session_id": id, "terminated": true}))
        }
        Command::SetSessionSettings {
            session_id,
            can_accept_calls,
            can_accept_secret_chats,
        } => {
            let mut result = json!({"session_id": session_id});
            if let Some(on) = can_accept_calls {
                account
                    .call(AccountOp::ToggleSessionCanAcceptCalls(session_id, on))
                    .await
                    .map_err(td)?;
                result["can_accept_calls"] = on.into();
            }
            if let Some(on) = can_accept_secret_chats {
                account
                    .call(AccountOp::ToggleSessionCanAcceptSecretChats(session_id, on))
                    .await
                    .map_err(td)?;
                result["can_accept_secret_chats"] = on.into();
            }
            Ok(result)
        }
        Command::TerminateAllOtherSessions => {
            account
                .call(AccountOp::TerminateAllOtherSessions)
                .await
                .map_err(td)?;
            Ok(json!({"terminated": true}))
        }
        Command::BlockUser {
            user_id,
            is_blocked,
            block_list,
        } => {
            let list = is_blocked.then_some(block_list);
            account
                .call(AccountOp::SetUserBlockList(user_id, list))
                .await
                .map_err(td)?;
            Ok(json!({
                "user_id": user_id,
                "is_blocked": is_blocked,
                "block_list": list.map(BlockList::type_name),
            }))
        }
        Command::GetBlockedUsers {
            block_list,
            offset,
            limit,
        } => {
            let senders = account
                .call(AccountOp::GetBlockedMessageSenders(
                    block_list, offset, limit,
                ))
                .await
                .map_err(td)?;
            Ok(normalize_senders(&senders, block_list, offset, limit))
        }
        Command::GetPrivacySetting(setting) => get_setting(account, &setting).await.map_err(td),
        Command::GetPrivacySettings(settings) => {
            let mut out = Vec::new();
            for setting in &settings {
                let value = get_setting(account, setting)
                    .await
                    .map_err(|e| CommandError {
                        command: action.to_string(),
                        error: format!("failed to get privacy settings: {}", e.message),
                        code: Some(e.code),
                        hint: None,
                    })?;
                out.push(value);
            }
            if out.is_empty() {
                return Err(CommandError::invalid(
                    action,
                    "failed to get privacy settings",
                ));
            }
            Ok(json!({"settings": out}))
        }
        Command::SetPrivacySetting(setting, change) => {
            match (&setting, change) {
                (Setting::Rules(name), PrivacyChange::Rules(rules)) => {
                    account
                        .call(AccountOp::SetPrivacyRules(name.clone(), rules))
                        .await
                        .map_err(td)?;
                }
                (_, PrivacyChange::NewChat(settings))
                | (Setting::NewChat, PrivacyChange::Rules(settings)) => {
                    account
                        .call(AccountOp::SetNewChatPrivacySettings(settings))
                        .await
                        .map_err(td)?;
                }
            }
            get_setting(account, &setting).await.map_err(td)
        }
    }
}

/// A setting as the seed's fields (so it can be set back unchanged), plus the raw rules.
async fn get_setting(account: &dyn Account, setting: &Setting) -> Result<Value, TdError> {
    match setting {
        Setting::NewChat => {
            let s = account.call(AccountOp::GetNewChatPrivacySettings).await?;
            Ok(json!({
                "setting": NEW_CHAT_SETTING,
                "allow_new_chats_from_unknown_users": s["allow_new_chats_from_unknown_users"],
                "incoming_paid_message_star_count": as_int(&s["incoming_paid_message_star_count"]).unwrap_or(0),
            }))
        }
        Setting::Rules(name) => {
            let rules = account
                .call(AccountOp::GetPrivacyRules(name.clone()))
                .await?;
            let list: Vec<Value> = rules["rules"].as_array().cloned().unwrap_or_default();
            let (mode, a) = privacy::describe(&list);
            Ok(json!({
                "setting": setting.name(),
                "mode": mode.map(Mode::name),
                "allow_user_ids": a.allow_user_ids,
                "allow_chat_ids": a.allow_chat_ids,
                "restrict_user_ids": a.restrict_user_ids,
                "restrict_chat_ids": a.restrict_chat_ids,
                "allow_premium_users": a.allow_premium_users,
                "rules": list,
            }))
        }
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

/// TDLib's error as the command's: its message and code.
fn td_error(action: &str, e: TdError) -> CommandError {
    CommandError {
        command: action.to_string(),
        error: e.message,
        code: Some(e.code),
        hint: None,
    }
}

/// The account `userbot_id` names, else the default one.
fn account_for(
    accounts: &Accounts,
    userbot_id: Option<i64>,
    action: &str,
) -> Result<std::sync::Arc<dyn Account>, CommandError> {
    let id = match userbot_id {
        Some(id) => id,
        None => accounts
            .default_id()
            .map_err(|e| CommandError::invalid(action, e))?,
    };
    accounts
        .get(id)
        .map_err(|e| CommandError::invalid(action, e))
}

/// Validate `request`, pick the account (`userbot_id`, else the default) and run it, waiting
/// on `host`'s runtime. Journaled when a handler runs from the inbox.
pub fn execute(
    host: &Host,
    userbot_id: Option<i64>,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let command = parse(action, request)?;
    let account = account_for(host.accounts(), userbot_id, action)?;
    journal::external(
        action,
        || {
            format!(
                "account {action} {userbot_id:?} {}",
                Value::Object(request.clone())
            )
        },
        || {
            host.block_on(run(account.as_ref(), action, command))
                .map_err(|e| CommandError::invalid(action, e))?
        },
    )
}

/// A raw TDLib request (`tdlib(#{"@type": ...})`) on account `userbot_id` (else the
/// default), waiting on `host`'s runtime. Journaled when a handler runs from the inbox.
pub fn raw(host: &Host, userbot_id: Option<i64>, request: Value) -> Result<Value, CommandError> {
    let action = "tdlib";
    if request
        .get("@type")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(CommandError::invalid(
            action,
            "a TDLib request needs an \"@type\"",
        ));
    }
    let account = account_for(host.accounts(), userbot_id, action)?;
    let call = format!("account tdlib {userbot_id:?} {request}");
    journal::external(
        action,
        || call,
        || {
            host.block_on(account.call(AccountOp::Raw(request)))
                .map_err(|e| CommandError::invalid(action, e))?
                .map_err(|e| td_error(action, e))
        },
    )
}
