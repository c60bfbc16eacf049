//! The gateway's account admin actions: accounts added, removed and listed while the process
//! runs (`add_account`, `remove_account`, `list_accounts`), and the sandbox's stand-ins for
//! what Telegram does (`sandbox_login_from`: a login from a new device; `sandbox_confirm_qr`:
//! the QR link scanned). They need the admin token (or a tenant's, for its own accounts), and are answered through
//! [`AccountControl`].

use crate::accounts::Drive;
use crate::request::{CommandError, Fields};
use serde_json::Value;

/// What the gateway asks of the process that holds the accounts: one typed call per account
/// admin action, for a client of tenant `scope` when given (then its accounts only; an account
/// added under it is the tenant's). Called on a blocking thread; `f` names the action in its
/// errors.
pub trait AccountControl: Send + Sync {
    /// `add_account`: start the account `f` describes and keep it.
    fn add(&self, f: &Fields, scope: Option<&str>) -> Result<Value, CommandError>;

    /// `remove_account`: stop account `userbot_id` and forget it.
    fn remove(&self, f: &Fields, scope: Option<&str>) -> Result<Value, CommandError>;

    /// `list_accounts`: every account with its authorization state.
    fn list(&self, scope: Option<&str>) -> Value;

    /// The sandbox's stand-ins for Telegram: `act` done to sandbox account `userbot_id`.
    fn drive(&self, f: &Fields, act: Drive) -> Result<Value, CommandError>;
}
