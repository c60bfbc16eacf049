//! `[[account]]` (one user account each) and `[tdlib]` (the API credentials accounts share).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[[account]]`: one user account.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The account's `userbot_id`.
    pub id: i64,
    /// `tdlib` (a real account) or `sandbox` (simulated).
    #[serde(default)]
    pub backend: Backend,
    /// Telegram API id (tdlib accounts; default: `[tdlib] api_id`).
    pub api_id: Option<i32>,
    /// Name of the environment variable that holds the api_hash (never the hash itself;
    /// default: `[tdlib] api_hash_env`).
    pub api_hash_env: Option<String>,
    /// Phone number used at login.
    pub phone: Option<String>,
    /// TDLib database folder, relative to the config file.
    pub data_dir: Option<PathBuf>,
    /// The tenant whose scenarios may use it (a `[[bot]]`'s `tenant`, else its id). Without
    /// one, the account is every scenario's only while the process serves one tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// The first account whose `owner` is not a tenant name, as `(key, message)`.
pub(super) fn refusal(accounts: &[AccountConfig]) -> Option<(String, String)> {
    accounts.iter().enumerate().find_map(|(n, account)| {
        let owner = account.owner.as_deref()?;
        (!super::bots::valid_bot_id(owner)).then(|| {
            (
                format!("account[{n}].owner"),
                format!("{owner:?} is not a tenant name: use 1–64 letters, digits, `_` or `-` (a [[bot]]'s tenant, else its id)"),
            )
        })
    })
}

/// Which implementation drives an account.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The real TDLib, loaded at run time.
    #[default]
    Tdlib,
    /// The in-memory simulated account.
    Sandbox,
}

impl Backend {
    /// `tdlib` or `sandbox`, as the config and the gateway spell it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Tdlib => "tdlib",
            Backend::Sandbox => "sandbox",
        }
    }
}

/// `[tdlib]`: what every `tdlib` account uses unless its `[[account]]` (or `add_account`)
/// says otherwise.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TdlibConfig {
    /// Telegram API id.
    pub api_id: Option<i32>,
    /// Name of the environment variable that holds the api_hash.
    pub api_hash_env: Option<String>,
}
