//! An in-memory account that behaves like TDLib: a current session and two others, both block
//! lists with paging, rules per privacy setting, new-chat settings, and TDLib-style errors for
//! unknown ids. It logs in like TDLib too (the code is [`SANDBOX_CODE`], the two-step password
//! [`SANDBOX_PASSWORD`], a QR link is confirmed with [`SandboxAccount::confirm_qr`]), and
//! [`SandboxAccount::login_from`] simulates a login from a new device. Every operation is
//! logged so tests can tell that validation stopped a command before it reached the account.

use super::auth::{AuthState, LoginStep, UPDATE_UNCONFIRMED_SESSION};
use super::{Account, AccountOp, EventSink, TdError};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The login code the sandbox account takes.
pub const SANDBOX_CODE: &str = "12345";
/// The two-step verification password of the sandbox account.
pub const SANDBOX_PASSWORD: &str = "sandbox";

#[derive(Debug)]
struct State {
    sessions: Vec<Value>,
    blocked: BTreeMap<&'static str, Vec<i64>>,
    rules: BTreeMap<String, Value>,
    new_chat: Value,
    log: Vec<AccountOp>,
    auth: AuthState,
    /// The id the next simulated login gets.
    next_session: i64,
}

/// The simulated account.
#[derive(Debug)]
pub struct SandboxAccount {
    state: Mutex<State>,
    events: EventSink,
    /// The phone `login_start` uses when given none.
    phone: Option<String>,
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

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl SandboxAccount {
    /// A fresh account, logged in, publishing nowhere: sessions 1001 (current), 1002 and
    /// 1003, nobody blocked, every privacy setting open to everybody.
    pub fn new() -> Self {
        Self::logged_in(EventSink::default())
    }

    /// A fresh account, logged in, publishing its events to `events`.
    pub fn logged_in(events: EventSink) -> Self {
        Self::starting_in(AuthState::Ready, events)
    }

    /// A fresh account that waits for the phone number (`phone`, when `login_start` gives
    /// none), publishing to `events`. Its state lock is held while it publishes, so its
    /// events keep their order (the hub and the queues lock after it, never before).
    pub fn logged_out(events: EventSink, phone: Option<String>) -> Self {
        let mut account = Self::starting_in(AuthState::WaitPhoneNumber, events);
        account.phone = phone;
        account
            .events
            .publish(AuthState::WaitPhoneNumber.to_update());
        account
    }

    fn starting_in(auth: AuthState, events: EventSink) -> Self {
        Self {
            events,
            phone: None,
            state: Mutex::new(State {
                auth,
                next_session: 2001,
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

    /// Move to `next` and publish it.
    fn enter(&self, state: &mut State, next: AuthState) -> AuthState {
        state.auth = next.clone();
        self.events.publish(next.to_update());
        next
    }

    /// Do `act` as Telegram would.
    pub fn drive(&self, act: super::Drive) -> Result<super::Driven, TdError> {
        match act {
            super::Drive::LoginFrom(place) => Ok(super::Driven::Session(self.login_from(&place))),
            super::Drive::ConfirmQr => self.confirm_qr().map(super::Driven::State),
        }
    }

    /// Confirm the QR link the account shows (what scanning it in a logged-in app does).
    pub fn confirm_qr(&self) -> Result<AuthState, TdError> {
        let mut state = self.lock();
        if !matches!(state.auth, AuthState::WaitOtherDevice { .. }) {
            return Err(TdError::new(
                400,
                format!(
                    "no QR link to confirm: the account is {} (send login_qr first)",
                    state.auth.name()
                ),
            ));
        }
        Ok(self.enter(&mut state, AuthState::Ready))
    }

    /// Simulate a login from a new device at `location` (e.g. "Berlin, Germany"): a session
    /// waiting for confirmation, announced with `updateUnconfirmedSession`. Returns its id.
    pub fn login_from(&self, location: &str) -> i64 {
        let mut state = self.lock();
        let id = state.next_session;
        state.next_session += 1;
        let mut new = session(
            id,
            false,
            "Telegram iOS",
            "iPhone 15",
            "iOS",
            "198.51.100.7",
            location,
        );
        let now = unix_now();
        new["is_unconfirmed"] = json!(true);
        new["log_in_date"] = json!(now);
        new["last_active_date"] = json!(now);
        state.sessions.push(new);
        drop(state);
        self.events.publish(json!({
            "@type": UPDATE_UNCONFIRMED_SESSION,
            "session": {"@type": "unconfirmedSession", "id": id, "log_in_date": now,
                        "device_model": "iPhone 15", "location": location},
        }));
        id
    }

    fn no_unconfirmed_session(&self) {
        self.events
            .publish(json!({"@type": UPDATE_UNCONFIRMED_SESSION, "session": null}));
    }

    fn step(&self, step: LoginStep) -> Result<AuthState, TdError> {
        let mut state = self.lock();
        if !step.fits(&state.auth) {
            return Err(TdError::new(
                400,
                format!("Call to {} unexpected", step.function()),
            ));
        }
        let next = match step {
            LoginStep::Phone(phone) if phone.is_empty() && self.phone.is_none() => {
                return Err(TdError::new(400, super::auth::NO_PHONE));
            }
            LoginStep::Phone(phone) => {
                let phone = match phone.is_empty() {
                    true => self.phone.clone().unwrap_or_default(),
                    false => phone,
                };
                let digits = phone.strip_prefix('+').unwrap_or(&phone);
                if digits.len() < 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(TdError::new(400, "PHONE_NUMBER_INVALID"));
                }
                AuthState::WaitCode {
                    via: "sandbox".into(),
                }
            }
            LoginStep::Code(code) if code == SANDBOX_CODE => AuthState::WaitPassword {
                hint: "the sandbox password".into(),
            },
            LoginStep::Code(_) => return Err(TdError::new(400, "PHONE_CODE_INVALID")),
            LoginStep::Password(password) if password == SANDBOX_PASSWORD => AuthState::Ready,
            LoginStep::Password(_) => return Err(TdError::new(400, "PASSWORD_HASH_INVALID")),
            LoginStep::Qr => {
                let token = state.next_session;
                state.next_session += 1;
                AuthState::WaitOtherDevice {
                    link: format!("tg://login?token=c2FuZGJveC{token}"),
                }
            }
            LoginStep::Logout => {
                self.enter(&mut state, AuthState::LoggingOut);
                self.enter(&mut state, AuthState::Closed);
                AuthState::WaitPhoneNumber
            }
            // The sandbox never asks for an email, so `fits` refused these.
            LoginStep::EmailAddress(_) | LoginStep::EmailCode(_) => {
                return Err(TdError::new(
                    400,
                    format!("Call to {} unexpected", step.function()),
                ));
            }
        };
        Ok(self.enter(&mut state, next))
    }

    /// Every operation that reached the account, in order.
    pub fn calls(&self) -> Vec<AccountOp> {
        self.lock().log.clone()
    }

    fn apply(&self, op: AccountOp) -> Result<Value, TdError> {
        let mut state = self.lock();
        state.log.push(op.clone());
        // Like TDLib, only these two are answered before login.
        let before_login = matches!(&op, AccountOp::Raw(r)
            if r["@type"] == json!("getAuthorizationState") || r["@type"] == json!("getOption"));
        if state.auth != AuthState::Ready && !before_login {
            return Err(TdError::new(401, "Unauthorized"));
        }
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
                let removed = state.sessions.remove(i);
                drop(state);
                tracing::info!("sandbox account: session {id} terminated");
                if removed["is_unconfirmed"] == json!(true) {
                    self.no_unconfirmed_session();
                }
                ok()
            }
            AccountOp::ConfirmSession(id) => {
                let i = find(&state, id)?;
                if state.sessions[i]["is_unconfirmed"] != json!(true) {
                    return Err(TdError::new(400, "Session is already confirmed"));
                }
                state.sessions[i]["is_unconfirmed"] = json!(false);
                drop(state);
                self.no_unconfirmed_session();
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
                let unconfirmed = state
                    .sessions
                    .iter()
                    .any(|s| s["is_unconfirmed"] == json!(true));
                state.sessions.retain(|s| s["is_current"] == json!(true));
                drop(state);
                if unconfirmed {
                    self.no_unconfirmed_session();
                }
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
                Some("getAuthorizationState") => Ok(json!({"@type": state.auth.type_name()})),
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
        format!(
            "sandbox: {} (simulated account)",
            self.lock().auth.describe()
        )
    }

    fn backend(&self) -> &'static str {
        "sandbox"
    }

    fn as_sandbox(&self) -> Option<&SandboxAccount> {
        Some(self)
    }

    fn authorization(&self) -> AuthState {
        self.lock().auth.clone()
    }

    fn login(
        &self,
        step: LoginStep,
        _within: Duration,
    ) -> BoxFuture<'_, Result<AuthState, TdError>> {
        let result = self.step(step);
        Box::pin(async move { result })
    }
}
