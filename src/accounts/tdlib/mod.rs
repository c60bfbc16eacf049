//! The real account: one TDLib client per account through tdlib-rs's typed functions, one
//! receive loop for all clients, login one step at a time (a new client after `logOut`).

mod driver;

use super::auth::{AuthState, LoginStep};
use super::{Account, AccountOp, AccountsError, BlockList, EventSink, TdError, tdjson};
use driver::{Shared, open, start_receive_loop};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;
use tdlib_rs::enums;
use tdlib_rs::{functions, types};
use tokio::sync::watch;

/// How long a command waits for a new client to finish starting.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a login step's answer may come before the state it leads to.
const STATE_SETTLE: Duration = Duration::from_secs(2);

/// What is needed to start a TDLib client.
#[derive(Clone)]
pub struct TdlibSettings {
    /// The `userbot_id`.
    pub id: i64,
    /// TDLib's database folder.
    pub data_dir: PathBuf,
    /// Telegram API id.
    pub api_id: i32,
    /// The api_hash (from the environment; never logged).
    pub api_hash: String,
    /// Phone number for `account login`.
    pub phone: Option<String>,
    /// How long a request may wait for TDLib's answer.
    pub request_timeout: Duration,
}

/// Shows everything but the api_hash.
impl std::fmt::Debug for TdlibSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TdlibSettings")
            .field("id", &self.id)
            .field("data_dir", &self.data_dir)
            .field("api_id", &self.api_id)
            .field("api_hash", &"<secret>")
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

/// A TDLib-backed account.
pub struct TdlibAccount {
    shared: Arc<Shared>,
    state: watch::Receiver<AuthState>,
    /// Held while a login step runs: one at a time.
    steps: tokio::sync::Mutex<()>,
}

impl TdlibAccount {
    /// Start the client for `settings` on `runtime`, publishing its events to `events`;
    /// libtdjson must be loaded.
    pub fn start(
        settings: TdlibSettings,
        runtime: &tokio::runtime::Handle,
        events: EventSink,
    ) -> Result<Self, AccountsError> {
        if tdjson::loaded().is_none() {
            return Err(AccountsError::TdjsonNotLoaded);
        }
        start_receive_loop();
        let (state_tx, state) = watch::channel(AuthState::Starting);
        let shared = Arc::new(Shared {
            settings,
            client_id: AtomicI32::new(0),
            state: state_tx,
            events,
            runtime: runtime.clone(),
            reopen: AtomicBool::new(false),
        });
        open(&shared)?;
        Ok(Self {
            shared,
            state,
            steps: tokio::sync::Mutex::new(()),
        })
    }

    fn client(&self) -> i32 {
        self.shared.client_id.load(Ordering::SeqCst)
    }

    /// The current authorization state.
    pub fn state(&self) -> AuthState {
        self.state.borrow().clone()
    }

    /// Wait until the client has finished starting; returns the state it settled in.
    pub async fn settled(&self) -> Result<AuthState, TdError> {
        let mut state = self.state.clone();
        let settled = tokio::time::timeout(START_TIMEOUT, state.wait_for(AuthState::settled))
            .await
            .map_err(|_| {
                TdError::new(
                    500,
                    format!("TDLib did not start within {} s", START_TIMEOUT.as_secs()),
                )
            })?
            .map_err(|_| TdError::new(500, "the TDLib client stopped"))?;
        Ok(settled.clone())
    }

    /// Take `step` and wait for the state it leads to.
    async fn take(&self, step: LoginStep) -> Result<AuthState, TdError> {
        let _one_at_a_time = self.steps.lock().await;
        let before = self.settled().await?;
        let cid = self.client();
        let logout = matches!(step, LoginStep::Logout);
        let result = match step {
            LoginStep::Phone(phone) => {
                let phone = match (phone.is_empty(), &self.shared.settings.phone) {
                    (false, _) => phone,
                    (true, Some(configured)) => configured.clone(),
                    (true, None) => return Err(TdError::new(400, super::auth::NO_PHONE)),
                };
                functions::set_authentication_phone_number(phone, None, cid).await
            }
            LoginStep::Code(code) => functions::check_authentication_code(code, cid).await,
            LoginStep::Password(password) => {
                functions::check_authentication_password(password, cid).await
            }
            LoginStep::EmailAddress(address) => {
                functions::set_authentication_email_address(address, cid).await
            }
            LoginStep::EmailCode(code) => {
                let code = enums::EmailAddressAuthentication::Code(
                    types::EmailAddressAuthenticationCode { code },
                );
                functions::check_authentication_email_code(code, cid).await
            }
            LoginStep::Qr => functions::request_qr_code_authentication(Vec::new(), cid).await,
            LoginStep::Logout => {
                // TDLib closes the client; the driver then opens a new one.
                self.shared.reopen.store(true, Ordering::SeqCst);
                functions::log_out(cid).await
            }
        };
        if result.is_err() {
            self.shared.reopen.store(false, Ordering::SeqCst);
        }
        result.map_err(|e| TdError::new(i64::from(e.code), e.message))?;
        let mut state = self.state.clone();
        if logout {
            let fresh =
                |s: &AuthState| matches!(s, AuthState::WaitPhoneNumber | AuthState::Failed(_));
            let _ = tokio::time::timeout(START_TIMEOUT, state.wait_for(fresh)).await;
            return Ok(self.state());
        }
        // The new state comes with (or just before) the answer.
        let _ = tokio::time::timeout(STATE_SETTLE, state.wait_for(|s| *s != before)).await;
        Ok(self.state())
    }

    async fn run(&self, op: AccountOp) -> Result<Value, TdError> {
        self.settled().await?;
        let cid = self.client();
        let to_json = |v: Result<Value, types::Error>| {
            v.map_err(|e| TdError::new(i64::from(e.code), e.message))
        };
        let ok = |r: Result<(), types::Error>| r.map(|()| json!({"@type": "ok"}));
        match op {
            AccountOp::GetActiveSessions => to_json(
                functions::get_active_sessions(cid)
                    .await
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
            ),
            AccountOp::TerminateSession(id) => {
                to_json(ok(functions::terminate_session(id, cid).await))
            }
            AccountOp::ToggleSessionCanAcceptCalls(id, on) => to_json(ok(
                functions::toggle_session_can_accept_calls(id, on, cid).await,
            )),
            AccountOp::ToggleSessionCanAcceptSecretChats(id, on) => to_json(ok(
                functions::toggle_session_can_accept_secret_chats(id, on, cid).await,
            )),
            AccountOp::TerminateAllOtherSessions => {
                to_json(ok(functions::terminate_all_other_sessions(cid).await))
            }
            AccountOp::SetUserBlockList(user, list) => {
                let sender = enums::MessageSender::User(types::MessageSenderUser { user_id: user });
                to_json(ok(functions::set_message_sender_block_list(
                    sender,
                    list.map(block_list),
                    cid,
                )
                .await))
            }
            AccountOp::GetBlockedMessageSenders(list, offset, limit) => to_json(
                functions::get_blocked_message_senders(block_list(list), offset, limit, cid)
                    .await
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
            ),
            AccountOp::GetPrivacyRules(setting) => {
                let setting: enums::UserPrivacySetting = decode(json!({"@type": setting}))?;
                to_json(
                    functions::get_user_privacy_setting_rules(setting, cid)
                        .await
                        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null)),
                )
            }
            AccountOp::SetPrivacyRules(setting, rules) => {
                let setting: enums::UserPrivacySetting = decode(json!({"@type": setting}))?;
                let rules: types::UserPrivacySettingRules = decode(rules)?;
                to_json(ok(functions::set_user_privacy_setting_rules(
                    setting, rules, cid,
                )
                .await))
            }
            AccountOp::GetNewChatPrivacySettings => to_json(
                functions::get_new_chat_privacy_settings(cid)
                    .await
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
            ),
            AccountOp::SetNewChatPrivacySettings(settings) => {
                let settings: types::NewChatPrivacySettings = decode(settings)?;
                to_json(ok(
                    functions::set_new_chat_privacy_settings(settings, cid).await
                ))
            }
            AccountOp::ConfirmSession(id) => to_json(ok(functions::confirm_session(id, cid).await)),
            AccountOp::Raw(request) => {
                let answer = tdjson::send_raw(cid, request)
                    .answer()
                    .await
                    .ok_or_else(|| TdError::new(500, "the TDLib client stopped"))?;
                if answer["@type"] == json!("error") {
                    return Err(TdError::new(
                        answer["code"].as_i64().unwrap_or(500),
                        answer["message"]
                            .as_str()
                            .unwrap_or("TDLib error")
                            .to_string(),
                    ));
                }
                let mut answer = answer;
                if let Some(map) = answer.as_object_mut() {
                    map.remove("@extra");
                    map.remove("@client_id");
                }
                Ok(answer)
            }
        }
    }
}

/// A TDLib object from JSON the command layer built (a 400, like TDLib's own parse errors).
fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, TdError> {
    serde_json::from_value(value)
        .map_err(|e| TdError::new(400, format!("invalid TDLib object: {e}")))
}

fn block_list(list: BlockList) -> enums::BlockList {
    match list {
        BlockList::Main => enums::BlockList::Main,
        BlockList::Stories => enums::BlockList::Stories,
    }
}

impl Account for TdlibAccount {
    fn call(&self, op: AccountOp) -> BoxFuture<'_, Result<Value, TdError>> {
        Box::pin(async move {
            let limit = self.shared.settings.request_timeout;
            tokio::time::timeout(limit, self.run(op))
                .await
                .unwrap_or_else(|_| Err(no_answer(limit)))
        })
    }

    fn login(
        &self,
        step: LoginStep,
        within: Duration,
    ) -> BoxFuture<'_, Result<AuthState, TdError>> {
        Box::pin(async move {
            tokio::time::timeout(within, self.take(step))
                .await
                .unwrap_or_else(|_| Err(no_answer(within)))
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.shared.reopen.store(false, Ordering::SeqCst);
            let _ = functions::close(self.client()).await;
            let mut state = self.state.clone();
            let closed = |s: &AuthState| matches!(s, AuthState::Closed | AuthState::Failed(_));
            let _ = tokio::time::timeout(START_TIMEOUT, state.wait_for(closed)).await;
        })
    }

    fn backend(&self) -> &'static str {
        "tdlib"
    }

    fn authorization(&self) -> AuthState {
        self.state()
    }

    fn status(&self) -> String {
        let state = self.state();
        match state.next_action() {
            Some(_) => format!(
                "tdlib: {} (run `tgscript account login {}`)",
                state.describe(),
                self.shared.settings.id
            ),
            None => format!("tdlib: {}", state.describe()),
        }
    }
}

/// The error of a request TDLib did not answer within `limit`: a 504, so the journal treats
/// the call as one without an answer.
fn no_answer(limit: Duration) -> TdError {
    TdError::new(
        504,
        format!(
            "TDLib did not answer within {} ms (is the machine online, and the account logged in? [limits] tdlib_timeout_ms sets the wait)",
            limit.as_millis()
        ),
    )
}
