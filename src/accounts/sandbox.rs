//! An in-memory account that behaves like TDLib: a current session and two others, both block
//! lists with paging, rules per privacy setting, new-chat settings, and TDLib-style errors for
//! unknown ids. Every operation is logged so tests can tell that validation stopped a command
//! before it reached the account.

use super::{Account, AccountOp, TdError};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

#[derive(Debug)]
struct State {
    sessions: Vec<Value>,
    blocked: BTreeMap<&'static str, Vec<i64>>,
    rules: BTreeMap<String, Value>,
    new_chat: Value,
    log: Vec<AccountOp>,
}

/// The simulated account.
#[derive(Debug)]
pub struct SandboxAccount {
    state: Mutex<State>,
}

impl Default for SandboxAccount {
    fn default() -> Self {
        Self::new()
    }
}

fn session(
    id: i64,
    current: bool,
    app: &str,
    device: &str,
    platform: &str,
    ip: &str,
    location: &str,
) -> Value {
    json!({
        "@type": "session", "id": id, "is_current": current, "is_password_pending": false,
        "is_unconfirmed": false, "can_accept_secret_chats": true, "can_accept_calls": true,
        "type": {"@type": if current { "sessionTypeLinux" } else { "sessionTypeAndroid" }},
        "api_id": 94575, "application_name": app, "application_version": "1.0",
        "is_official_application": !current, "device_model": device, "platform": platform,
        "system_version": "1.0", "log_in_date": 1_767_225_600, "last_active_date": 1_767_312_000,
        "ip_address": ip, "location": location,
    })
}

/// TDLib's answer to a setting that is not a `userPrivacySetting*` type.
fn known_setting(setting: &str) -> Result<(), TdError> {
    match setting.strip_prefix("userPrivacySetting") {
        Some(rest) if !rest.is_empty() && !rest.starts_with("Rule") => Ok(()),
        _ => Err(TdError::new(400, "Unsupported privacy setting")),
    }
}

impl SandboxAccount {
    /// A fresh account: sessions 1001 (current), 1002 and 1003, nobody blocked, every privacy
    /// setting open to everybody.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                sessions: vec![
                    session(
                        1001,
                        true,
                        "tgscript",
                        "Sandbox",
                        "Linux",
                        "127.0.0.1",
                        "Sandbox",
                    ),
                    session(
                        1002,
                        false,
                        "Telegram Android",
                        "Pixel 8",
                        "Android",
                        "10.0.0.2",
                        "Berlin, Germany",
                    ),
                    session(
                        1003,
                        false,
                        "Telegram Desktop",
                        "Laptop",
                        "Windows",
                        "10.0.0.3",
                        "Lisbon, Portugal",
                    ),
                ],
                blocked: BTreeMap::from([
                    ("blockListMain", Vec::new()),
                    ("blockListStories", Vec::new()),
                ]),
                rules: BTreeMap::new(),
                new_chat: json!({"@type": "newChatPrivacySettings", "allow_new_chats_from_unknown_users": true, "incoming_paid_message_star_count": 0}),
                log: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every operation that reached the account, in order.
    pub fn calls(&self) -> Vec<AccountOp> {
        self.lock().log.clone()
    }

    fn apply(&self, op: AccountOp) -> Result<Value, TdError> {
        let mut state = self.lock();
        state.log.push(op.clone());
        let ok = || Ok(json!({"@type": "ok"}));
        let find = |state: &State, id: i64| {
            state
                .sessions
                .iter()
                .position(|s| s["id"] == json!(id))
                .ok_or_else(|| TdError::new(400, "Session not found"))
        };
        match op {
            AccountOp::GetActiveSessions => Ok(json!({
                "@type": "sessions", "sessions": state.sessions, "inactive_session_ttl_days": 180,
            })),
            AccountOp::TerminateSession(id) => {
                let i = find(&state, id)?;
                if state.sessions[i]["is_current"] == json!(true) {
                    return Err(TdError::new(400, "Can't terminate current session"));
                }
                state.sessions.remove(i);
                ok()
            }
            AccountOp::ToggleSessionCanAcceptCalls(id, on) => {
                let i = find(&state, id)?;
                state.sessions[i]["can_accept_calls"] = on.into();
                ok()
            }
            AccountOp::ToggleSessionCanAcceptSecretChats(id, on) => {
                let i = find(&state, id)?;
                state.sessions[i]["can_accept_secret_chats"] = on.into();
                ok()
            }
            AccountOp::TerminateAllOtherSessions => {
                state.sessions.retain(|s| s["is_current"] == json!(true));
                ok()
            }
            AccountOp::SetUserBlockList(user, list) => {
                if user <= 0 {
                    return Err(TdError::new(400, "Invalid user identifier"));
                }
                for users in state.blocked.values_mut() {
                    users.retain(|u| *u != user);
                }
                if let Some(list) = list {
                    state
                        .blocked
                        .entry(list.type_name())
                        .or_default()
                        .insert(0, user);
                }
                ok()
            }
            AccountOp::GetBlockedMessageSenders(list, offset, limit) => {
                if offset < 0 {
                    return Err(TdError::new(400, "Parameter offset must be non-negative"));
                }
                if !(1..=100).contains(&limit) {
                    return Err(TdError::new(
                        400,
                        "Parameter limit must be positive and not greater than 100",
                    ));
                }
                let users = state
                    .blocked
                    .get(list.type_name())
                    .cloned()
                    .unwrap_or_default();
                let page: Vec<Value> = users
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .map(|u| json!({"@type": "messageSenderUser", "user_id": u}))
                    .collect();
                Ok(json!({"@type": "messageSenders", "total_count": users.len(), "senders": page}))
            }
            // A setting never set is open to everybody, as on a fresh account.
            AccountOp::GetPrivacyRules(setting) => {
                known_setting(&setting)?;
                Ok(state.rules.get(&setting).cloned().unwrap_or_else(|| {
                    json!({"@type": "userPrivacySettingRules", "rules": [{"@type": "userPrivacySettingRuleAllowAll"}]})
                }))
            }
            AccountOp::SetPrivacyRules(setting, rules) => {
                known_setting(&setting)?;
                state.rules.insert(setting, rules);
                ok()
            }
            AccountOp::GetNewChatPrivacySettings => Ok(state.new_chat.clone()),
            AccountOp::SetNewChatPrivacySettings(settings) => {
                state.new_chat = settings;
                ok()
            }
            AccountOp::Raw(request) => match request["@type"].as_str() {
                Some("getOption") if request["name"] == json!("version") => {
                    Ok(json!({"@type": "optionValueString", "value": "1.8.61"}))
                }
                Some("getAuthorizationState") => Ok(json!({"@type": "authorizationStateReady"})),
                Some(other) => Err(TdError::new(
                    400,
                    format!("the sandbox account does not simulate {other}"),
                )),
                None => Err(TdError::new(400, "Request must have @type")),
            },
        }
    }
}

impl Account for SandboxAccount {
    fn call(&self, op: AccountOp) -> BoxFuture<'_, Result<Value, TdError>> {
        let result = self.apply(op);
        Box::pin(async move { result })
    }

    fn status(&self) -> String {
        "sandbox: ready (simulated account)".to_string()
    }
}
