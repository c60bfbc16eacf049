//! The gateway's account admin actions: accounts added, removed and listed while the process
//! runs (`add_account`, `remove_account`, `list_accounts`), and the sandbox's stand-ins for
//! what Telegram does (`sandbox_login_from`: a login from a new device; `sandbox_confirm_qr`:
//! the QR link scanned). They need the admin token (or a tenant's, for its own accounts), and are answered through
//! [`AccountControl`].

use crate::request::CommandError;
use serde_json::{Map, Value};

/// What the gateway asks of the process that holds the accounts.
pub trait AccountControl: Send + Sync {
    /// Run account admin `action` with the fields of `request`, on the accounts of tenant
    /// `scope` only when given (an account added under it is the tenant's), on a blocking
    /// thread.
    fn act(
        &self,
        action: &str,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError>;
}
