//! The gateway's account admin actions: accounts added, removed and listed while the process
//! runs (`add_account`, `remove_account`, `list_accounts`), and the sandbox's stand-ins for
//! what Telegram does (`sandbox_login_from`: a login from a new device; `sandbox_confirm_qr`:
//! the QR link scanned). They need the admin token, and are answered through
//! [`AccountControl`].

use crate::request::CommandError;
use serde_json::{Map, Value};

/// The account admin actions.
pub const ACCOUNT_ADMIN_ACTIONS: &[&str] = &[
    "add_account",
    "remove_account",
    "list_accounts",
    "sandbox_login_from",
    "sandbox_confirm_qr",
];

/// Whether `action` is an account admin action.
pub fn is_account_admin(action: &str) -> bool {
    ACCOUNT_ADMIN_ACTIONS.contains(&action)
}

/// What the gateway asks of the process that holds the accounts.
pub trait AccountControl: Send + Sync {
    /// Run account admin `action` with the fields of `request` (on a blocking thread).
    fn act(&self, action: &str, request: &Map<String, Value>) -> Result<Value, CommandError>;
}
