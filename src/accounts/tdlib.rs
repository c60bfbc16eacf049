//! The real account: one TDLib client per account through tdlib-rs's typed functions, one
//! receive loop for all clients, authorization driven from the account's config.

use super::{Account, AccountOp, AccountsError, BlockList, TdError, tdjson};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tdlib_rs::enums::{self, AuthorizationState, Update};
use tdlib_rs::{functions, types};
use tokio::sync::{mpsc, watch};

/// How long a command waits for a new client to finish starting.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What is needed to start a TDLib client.
#[derive(Debug, Clone)]
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

/// Where an account stands, after TDLib's authorization states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthState {
    /// The client is starting.
    Starting,
    /// TDLib waits for this input (`phone number`, `code`, `password`, …).
    Waiting(&'static str),
    /// Logged in.
    Ready,
    /// Closed or failed, with why.
    Stopped(String),
}

impl AuthState {
    fn settled(&self) -> bool {
        !matches!(self, AuthState::Starting)
    }
}

/// Update channels of the running clients, by TDLib client id.
static ROUTES: Mutex<Option<HashMap<i32, mpsc::UnboundedSender<Update>>>> = Mutex::new(None);
static RECEIVER: OnceLock<()> = OnceLock::new();

/// One receive loop for every client: updates go to their client's channel; answers are
/// routed inside tdlib-rs.
fn start_receive_loop() {
    RECEIVER.get_or_init(|| {
        let _ = std::thread::Builder::new()
            .name("tdlib-receive".into())
            .spawn(|| {
                loop {
                    if let Some((update, client_id)) = tdlib_rs::receive() {
                        let routes = ROUTES.lock().unwrap_or_else(PoisonError::into_inner);
                        if let Some(tx) = routes.as_ref().and_then(|r| r.get(&client_id)) {
                            let _ = tx.send(update);
                        }
                    }
                }
            });
    });
}

/// A TDLib-backed account.
pub struct TdlibAccount {
    settings: TdlibSettings,
    client_id: i32,
    state: watch::Receiver<AuthState>,
}

impl TdlibAccount {
    /// Start the client for `settings` on `runtime`; libtdjson must be loaded.
    pub fn start(
        settings: TdlibSettings,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Self, AccountsError> {
        if tdjson::loaded().is_none() {
            return Err(AccountsError::TdjsonNotLoaded);
        }
        std::fs::create_dir_all(&settings.data_dir).map_err(|error| AccountsError::DataDir {
            path: settings.data_dir.display().to_string(),
            error,
        })?;
        start_receive_loop();
        let client_id = tdlib_rs::create_client();
        let (tx, mut updates) = mpsc::unbounded_channel();
        ROUTES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(HashMap::new)
            .insert(client_id, tx);
        let (state_tx, state) = watch::channel(AuthState::Starting);
        let driver_settings = settings.clone();
        runtime.spawn(async move {
            // The first request starts the client.
            let _ = functions::get_option("version".into(), client_id).await;
            while let Some(update) = updates.recv().await {
                let Update::AuthorizationState(update) = update else {
                    continue;
                };
                let next = match update.authorization_state {
                    AuthorizationState::WaitTdlibParameters => {
                        let s = &driver_settings;
                        let db = s.data_dir.display().to_string();
                        let result = functions::set_tdlib_parameters(
                            false, db.clone(), db, String::new(), false, false, false, false,
                            s.api_id, s.api_hash.clone(), "en".into(), "tgscript".into(),
                            String::new(), env!("CARGO_PKG_VERSION").into(), client_id,
                        )
                        .await;
                        match result {
                            Ok(()) => continue,
                            Err(e) => AuthState::Stopped(format!("setTdlibParameters failed: {} {}", e.code, e.message)),
                        }
                    }
                    AuthorizationState::WaitPhoneNumber => AuthState::Waiting("phone number"),
                    AuthorizationState::WaitCode(_) => AuthState::Waiting("code"),
                    AuthorizationState::WaitPassword(_) => AuthState::Waiting("password"),
                    AuthorizationState::WaitEmailAddress(_) => AuthState::Waiting("email address"),
                    AuthorizationState::WaitEmailCode(_) => AuthState::Waiting("email code"),
                    AuthorizationState::WaitRegistration(_) => AuthState::Waiting("registration"),
                    AuthorizationState::WaitOtherDeviceConfirmation(_) => AuthState::Waiting("confirmation on another device"),
                    AuthorizationState::WaitPremiumPurchase(_) => AuthState::Waiting("a Telegram Premium purchase"),
                    AuthorizationState::Ready => AuthState::Ready,
                    AuthorizationState::LoggingOut => AuthState::Stopped("logging out".into()),
                    AuthorizationState::Closing => AuthState::Stopped("closing".into()),
                    AuthorizationState::Closed => AuthState::Stopped("closed".into()),
                };
                tracing::debug!(account = driver_settings.id, state = ?next, "TDLib authorization state");
                let _ = state_tx.send(next);
            }
        });
        Ok(Self {
            settings,
            client_id,
            state,
        })
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

    /// Walk TDLib's authorization states, asking `ask(what)` for each input TDLib wants.
    pub async fn login(&self, ask: impl Fn(&str) -> Option<String>) -> Result<(), TdError> {
        let mut state = self.state.clone();
        loop {
            let current = self.settled().await?;
            let answer =
                |what: &str| ask(what).ok_or_else(|| TdError::new(400, format!("no {what} given")));
            let result = match current {
                AuthState::Ready => return Ok(()),
                AuthState::Stopped(why) => return Err(TdError::new(500, why)),
                AuthState::Starting => continue,
                AuthState::Waiting("phone number") => {
                    let phone = match &self.settings.phone {
                        Some(phone) => phone.clone(),
                        None => answer("phone number")?,
                    };
                    functions::set_authentication_phone_number(phone, None, self.client_id).await
                }
                AuthState::Waiting("code") => {
                    functions::check_authentication_code(answer("code")?, self.client_id).await
                }
                AuthState::Waiting("password") => {
                    functions::check_authentication_password(answer("password")?, self.client_id)
                        .await
                }
                AuthState::Waiting("email address") => {
                    functions::set_authentication_email_address(
                        answer("email address")?,
                        self.client_id,
                    )
                    .await
                }
                AuthState::Waiting("email code") => {
                    let code = enums::EmailAddressAuthentication::Code(
                        types::EmailAddressAuthenticationCode {
                            code: answer("email code")?,
                        },
                    );
                    functions::check_authentication_email_code(code, self.client_id).await
                }
                AuthState::Waiting(other) => {
                    return Err(TdError::new(
                        400,
                        format!("TDLib waits for {other}: finish it in an official app first"),
                    ));
                }
            };
            if let Err(e) = result {
                return Err(TdError::new(i64::from(e.code), e.message));
            }
            // Wait for the state to move on.
            let before = self.state();
            let _ = tokio::time::timeout(START_TIMEOUT, state.wait_for(|s| *s != before)).await;
        }
    }

    async fn run(&self, op: AccountOp) -> Result<Value, TdError> {
        self.settled().await?;
        let cid = self.client_id;
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
            let limit = self.settings.request_timeout;
            tokio::time::timeout(limit, self.run(op))
                .await
                .unwrap_or_else(|_| {
                    // 5xx: no answer, so the journal treats the call as in doubt.
                    Err(TdError::new(
                        504,
                        format!(
                            "TDLib did not answer within {} ms (is the account online and logged in? [limits] tdlib_timeout_ms sets the wait)",
                            limit.as_millis()
                        ),
                    ))
                })
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = functions::close(self.client_id).await;
            let mut state = self.state.clone();
            let closed = |s: &AuthState| matches!(s, AuthState::Stopped(why) if why == "closed");
            let _ = tokio::time::timeout(START_TIMEOUT, state.wait_for(closed)).await;
        })
    }

    fn status(&self) -> String {
        match self.state() {
            AuthState::Starting => "tdlib: starting".into(),
            AuthState::Waiting(what) => format!(
                "tdlib: waiting for the {what} (run `tgscript account login {}`)",
                self.settings.id
            ),
            AuthState::Ready => "tdlib: ready".into(),
            AuthState::Stopped(why) => format!("tdlib: {why}"),
        }
    }
}
