//! User accounts ("userbots"): one trait, two backends — the real TDLib ([`tdlib`]) and an
//! in-memory account that behaves like it ([`sandbox`]). Operations are typed; results and
//! errors are TDLib-shaped JSON, normalized once in [`crate::commands::account`].

pub mod sandbox;
pub mod tdjson;
pub mod tdlib;

use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A TDLib error: `{"@type": "error", "code": …, "message": …}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TdError {
    /// TDLib's code (400, 401, 404, 429, …).
    pub code: i64,
    /// TDLib's message, e.g. `Unauthorized`.
    pub message: String,
}

impl TdError {
    /// An error with TDLib's code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Why an account cannot be had or started.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// No account has this `userbot_id`.
    #[error("unknown userbot_id {0}")]
    UnknownId(i64),
    /// No account is configured at all.
    #[error("no account configured: add an [[account]] to tgscript.toml")]
    NoAccount,
    /// Several accounts and no default among them.
    #[error("several accounts are configured: set default_account or use account(id)")]
    NoDefault,
    /// A TDLib client was asked for before libtdjson was loaded.
    #[error("libtdjson is not loaded")]
    TdjsonNotLoaded,
    /// An account's TDLib folder cannot be created.
    #[error("cannot create {path}: {error}")]
    DataDir {
        /// The folder.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

/// Which block list (`blockListMain` or `blockListStories`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum BlockList {
    /// `blockListMain`: messages and calls.
    Main,
    /// `blockListStories`: stories only.
    Stories,
}

impl BlockList {
    /// The TDLib type name.
    pub fn type_name(self) -> &'static str {
        match self {
            BlockList::Main => "blockListMain",
            BlockList::Stories => "blockListStories",
        }
    }
}

/// One operation on an account: the TDLib functions the seed commands use.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum AccountOp {
    /// `getActiveSessions`
    GetActiveSessions,
    /// `terminateSession`
    TerminateSession(i64),
    /// `toggleSessionCanAcceptCalls`
    ToggleSessionCanAcceptCalls(i64, bool),
    /// `toggleSessionCanAcceptSecretChats`
    ToggleSessionCanAcceptSecretChats(i64, bool),
    /// `terminateAllOtherSessions`
    TerminateAllOtherSessions,
    /// `setMessageSenderBlockList` for a user (`None` unblocks).
    SetUserBlockList(i64, Option<BlockList>),
    /// `getBlockedMessageSenders`
    GetBlockedMessageSenders(BlockList, i32, i32),
    /// `getUserPrivacySettingRules` (setting type name)
    GetPrivacyRules(String),
    /// `setUserPrivacySettingRules` (setting type name, `userPrivacySettingRules` JSON)
    SetPrivacyRules(String, Value),
    /// `getNewChatPrivacySettings`
    GetNewChatPrivacySettings,
    /// `setNewChatPrivacySettings` (`newChatPrivacySettings` JSON)
    SetNewChatPrivacySettings(Value),
    /// Any TDLib request, as JSON with `@type` (the `tdlib()` builtin).
    Raw(Value),
}

impl AccountOp {
    /// The operation as one line, from its fields (the TDLib function and its arguments): what
    /// the journal matches a replay on.
    pub fn describe(&self) -> String {
        use serde_json::json;
        let list = |l: &BlockList| l.type_name();
        let line = match self {
            AccountOp::GetActiveSessions => json!({"@type": "getActiveSessions"}),
            AccountOp::TerminateSession(id) => {
                json!({"@type": "terminateSession", "session_id": id})
            }
            AccountOp::ToggleSessionCanAcceptCalls(id, on) => {
                json!({"@type": "toggleSessionCanAcceptCalls", "session_id": id, "can_accept_calls": on})
            }
            AccountOp::ToggleSessionCanAcceptSecretChats(id, on) => json!({
                "@type": "toggleSessionCanAcceptSecretChats", "session_id": id, "can_accept_secret_chats": on
            }),
            AccountOp::TerminateAllOtherSessions => json!({"@type": "terminateAllOtherSessions"}),
            AccountOp::SetUserBlockList(user, block) => json!({
                "@type": "setMessageSenderBlockList", "user_id": user, "block_list": block.as_ref().map(list)
            }),
            AccountOp::GetBlockedMessageSenders(block, offset, limit) => json!({
                "@type": "getBlockedMessageSenders", "block_list": list(block), "offset": offset, "limit": limit
            }),
            AccountOp::GetPrivacyRules(setting) => {
                json!({"@type": "getUserPrivacySettingRules", "setting": setting})
            }
            AccountOp::SetPrivacyRules(setting, rules) => {
                json!({"@type": "setUserPrivacySettingRules", "setting": setting, "rules": rules})
            }
            AccountOp::GetNewChatPrivacySettings => json!({"@type": "getNewChatPrivacySettings"}),
            AccountOp::SetNewChatPrivacySettings(settings) => {
                json!({"@type": "setNewChatPrivacySettings", "settings": settings})
            }
            AccountOp::Raw(request) => request.clone(),
        };
        line.to_string()
    }
}

/// An account backend.
pub trait Account: Send + Sync {
    /// Run one operation; the result is TDLib-shaped JSON (`{"@type": "ok"}`, `sessions`, …).
    fn call(&self, op: AccountOp) -> BoxFuture<'_, Result<Value, TdError>>;
    /// A one-line state, e.g. `sandbox (ready)` or `tdlib: waiting for the phone number`.
    fn status(&self) -> String;
    /// Close the account (TDLib flushes its database); nothing to do for simulated ones.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The configured accounts by `userbot_id`, and the default one.
#[derive(Clone, Default)]
pub struct Accounts {
    by_id: BTreeMap<i64, Arc<dyn Account>>,
    default: Option<i64>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("ids", &self.by_id.keys().collect::<Vec<_>>())
            .field("default", &self.default)
            .finish()
    }
}

impl Accounts {
    /// Accounts from a list; `default` names the one scenarios act on (the only one, when
    /// there is one and no default is given).
    pub fn new(accounts: Vec<(i64, Arc<dyn Account>)>, default: Option<i64>) -> Self {
        let by_id: BTreeMap<i64, Arc<dyn Account>> = accounts.into_iter().collect();
        let default = default.or_else(|| {
            if by_id.len() == 1 {
                by_id.keys().next().copied()
            } else {
                None
            }
        });
        Self { by_id, default }
    }

    /// A single sandbox account with id 1 (what the sandbox and the REPL use when no account
    /// is configured).
    pub fn sandbox_only() -> Self {
        Self::new(
            vec![(
                1,
                Arc::new(sandbox::SandboxAccount::new()) as Arc<dyn Account>,
            )],
            Some(1),
        )
    }

    /// The account `id`, or `unknown userbot_id <id>`.
    pub fn get(&self, id: i64) -> Result<Arc<dyn Account>, AccountsError> {
        self.by_id
            .get(&id)
            .cloned()
            .ok_or(AccountsError::UnknownId(id))
    }

    /// The default account's id, or why there is none.
    pub fn default_id(&self) -> Result<i64, AccountsError> {
        self.default.ok_or(if self.by_id.is_empty() {
            AccountsError::NoAccount
        } else {
            AccountsError::NoDefault
        })
    }

    /// Close every account, e.g. before the process exits.
    pub async fn close_all(&self) {
        for account in self.by_id.values() {
            account.close().await;
        }
    }

    /// Every account id.
    pub fn ids(&self) -> Vec<i64> {
        self.by_id.keys().copied().collect()
    }
}
