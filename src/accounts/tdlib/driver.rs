//! A TDLib client's life: one receive loop for every client (updates routed to their
//! client's channel), and per client a driver that gives TDLib its parameters, follows its
//! authorization states and publishes every update.

use super::TdlibSettings;
use crate::accounts::auth::AuthState;
use crate::accounts::{AccountsError, EventSink};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tdlib_rs::enums::{AuthorizationState, Update};
use tdlib_rs::{functions, types};
use tokio::sync::{mpsc, watch};

/// Update channels of the running clients, by TDLib client id.
pub(super) static ROUTES: Mutex<Option<HashMap<i32, mpsc::UnboundedSender<Update>>>> =
    Mutex::new(None);
static RECEIVER: OnceLock<()> = OnceLock::new();

/// One receive loop for every client: updates go to their client's channel; answers are
/// routed inside tdlib-rs.
pub(super) fn start_receive_loop() {
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

/// How a code was sent, from TDLib's `authenticationCodeType*` (e.g. `sms`,
/// `telegramMessage`).
fn code_type(info: &types::AuthenticationCodeInfo) -> String {
    let kind = serde_json::to_value(&info.r#type).unwrap_or(Value::Null);
    kind["@type"]
        .as_str()
        .and_then(|t| t.strip_prefix("authenticationCodeType"))
        .map(|t| {
            let mut chars = t.chars();
            chars
                .next()
                .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .unwrap_or_else(|| "unknown".into())
}

/// What an account and its client's driver share.
pub(super) struct Shared {
    /// How to start the client.
    pub(super) settings: TdlibSettings,
    /// The current TDLib client.
    pub(super) client_id: AtomicI32,
    /// Where the account stands.
    pub(super) state: watch::Sender<AuthState>,
    /// Where its updates go.
    pub(super) events: EventSink,
    /// The runtime drivers run on.
    pub(super) runtime: tokio::runtime::Handle,
    /// Open a new client once this one is closed (`logOut`; not `close`).
    pub(super) reopen: AtomicBool,
}

/// Create a TDLib client for `shared` and drive it.
pub(super) fn open(shared: &Arc<Shared>) -> Result<(), AccountsError> {
    let settings = &shared.settings;
    std::fs::create_dir_all(&settings.data_dir).map_err(|error| AccountsError::DataDir {
        path: settings.data_dir.display().to_string(),
        error,
    })?;
    let client_id = tdlib_rs::create_client();
    let (tx, updates) = mpsc::unbounded_channel();
    ROUTES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert(client_id, tx);
    shared.client_id.store(client_id, Ordering::SeqCst);
    let _ = shared.state.send(AuthState::Starting);
    shared
        .runtime
        .spawn(drive(client_id, shared.clone(), updates));
    Ok(())
}

/// Drive client `client_id`: give TDLib its parameters, follow its authorization states
/// into `state`, and publish every update (authorization states normalized) to `events`.
async fn drive(client_id: i32, shared: Arc<Shared>, mut updates: mpsc::UnboundedReceiver<Update>) {
    let (settings, state, events) = (&shared.settings, &shared.state, &shared.events);
    // The first request starts the client.
    let _ = functions::get_option("version".into(), client_id).await;
    while let Some(update) = updates.recv().await {
        let Update::AuthorizationState(update) = update else {
            events.publish(serde_json::to_value(&update).unwrap_or(Value::Null));
            continue;
        };
        let next = match update.authorization_state {
            AuthorizationState::WaitTdlibParameters => {
                let s = settings;
                let db = s.data_dir.display().to_string();
                let result = functions::set_tdlib_parameters(
                    false,
                    db.clone(),
                    db,
                    String::new(),
                    false,
                    false,
                    false,
                    false,
                    s.api_id,
                    s.api_hash.clone(),
                    "en".into(),
                    "tgscript".into(),
                    String::new(),
                    env!("CARGO_PKG_VERSION").into(),
                    client_id,
                )
                .await;
                match result {
                    Ok(()) => continue,
                    Err(e) => AuthState::Failed(format!(
                        "setTdlibParameters failed: {} {}",
                        e.code, e.message
                    )),
                }
            }
            AuthorizationState::WaitPhoneNumber => AuthState::WaitPhoneNumber,
            AuthorizationState::WaitCode(wait) => AuthState::WaitCode {
                via: code_type(&wait.code_info),
            },
            AuthorizationState::WaitPassword(wait) => AuthState::WaitPassword {
                hint: wait.password_hint,
            },
            AuthorizationState::WaitEmailAddress(_) => AuthState::WaitEmailAddress,
            AuthorizationState::WaitEmailCode(_) => AuthState::WaitEmailCode,
            AuthorizationState::WaitRegistration(_) => AuthState::WaitRegistration,
            AuthorizationState::WaitOtherDeviceConfirmation(wait) => {
                AuthState::WaitOtherDevice { link: wait.link }
            }
            AuthorizationState::WaitPremiumPurchase(_) => AuthState::WaitPremiumPurchase,
            AuthorizationState::Ready => AuthState::Ready,
            AuthorizationState::LoggingOut => AuthState::LoggingOut,
            AuthorizationState::Closing => AuthState::Closing,
            AuthorizationState::Closed => AuthState::Closed,
        };
        tracing::debug!(
            account = settings.id,
            state = next.name(),
            "TDLib authorization state"
        );
        // The state first: a client reacting to the event reads the new one.
        let update = next.to_update();
        let closed = next == AuthState::Closed;
        let _ = state.send(next);
        events.publish(update);
        if closed {
            ROUTES
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(HashMap::new)
                .remove(&client_id);
            if shared.reopen.swap(false, Ordering::SeqCst)
                && let Err(e) = open(&shared)
            {
                let _ = state.send(AuthState::Failed(e.to_string()));
            }
            return;
        }
    }
}
