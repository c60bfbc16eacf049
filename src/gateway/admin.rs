//! The gateway's admin actions: bots added, removed and listed while `run` runs
//! (`add_bot`, `remove_bot`, `list_bots`) and their scenario files (`put_script`,
//! `get_script`, `delete_script`). They need the admin token (`[gateway] admin_token`, sent
//! as `Authorization: Bearer`) — or, for a tenant's own bots, its token — and a process that
//! runs bots, which answers them through [`BotControl`].

use super::Client;
use crate::request::CommandError;
use serde_json::{Map, Value};

/// What the gateway asks of the process that runs the bots.
pub trait BotControl: Send + Sync {
    /// Run admin `action` with the fields of `request`, on the bots of tenant `scope` only
    /// when given (called on a blocking thread).
    fn act(
        &self,
        action: &str,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError>;

    /// Carry out account command or chat action `action` (the fields of `request`) through
    /// bot `bot_id` (`None`: the only bot; of tenant `scope`'s, when given), wherever it runs
    /// (in a cluster, perhaps on another instance); an unknown id, one of another tenant, or
    /// none while several bots run, is an error that names the bots. Under a `scope`, what
    /// the bot does is checked as its scenarios' effects are (the tenant's accounts only).
    /// Called on a blocking thread.
    fn execute(
        &self,
        action: &str,
        bot_id: Option<&str>,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError>;

    /// The tenant of bot `bot`, if the process (or its cluster) runs it.
    fn tenant_of(&self, bot: &str) -> Option<String>;
}

/// Where `check_script` checks a script when no bots run (`serve`): the scripts folder, as a
/// scenario of it.
pub trait ScriptCheck: Send + Sync {
    /// Check the script of `request` (`name`, `source`) for a client of tenant `scope`, if
    /// any; `{name, problems}` as `check_script` answers. Called on a blocking thread.
    fn check(
        &self,
        action: &str,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError>;
}

/// What an action that needs the bots of a `run` says where none run.
pub(super) const NO_BOTS: &str =
    "no bots run in this process: admin actions and bot_id need `tgscript run`";

/// The error of an action that needs the bots of a `run` where none run.
pub(super) fn no_bots(action: &str) -> CommandError {
    CommandError::invalid(action, NO_BOTS)
}

/// The error of an action asked by a client whose token does not allow it.
pub(super) fn unauthorized(action: &str, access: Access) -> CommandError {
    let error = match access {
        Access::Tenant => format!(
            "{action} needs the admin token or a tenant's: send Authorization: Bearer <[gateway] admin_token, or a [[tenant]]'s token>"
        ),
        Access::Admin | Access::Anyone => format!(
            "{action} needs the admin token: send Authorization: Bearer <[gateway] admin_token>"
        ),
    };
    CommandError {
        command: action.to_string(),
        error,
        code: Some(401),
        hint: None,
    }
}

/// Which clients may take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every client (a tenant's on its own accounts and bots only).
    Anyone,
    /// The admin, and a tenant's client on what is its own.
    Tenant,
    /// The admin only.
    Admin,
}

impl Access {
    /// Whether `client` may take an action of this access at all.
    pub fn allows(self, client: &Client) -> bool {
        match self {
            Access::Anyone => true,
            Access::Tenant => matches!(client, Client::Admin | Client::Tenant(_)),
            Access::Admin => *client == Client::Admin,
        }
    }

    /// Its name in the reference: `anyone`, `tenant` or `admin`.
    pub fn name(self) -> &'static str {
        match self {
            Access::Anyone => "anyone",
            Access::Tenant => "tenant",
            Access::Admin => "admin",
        }
    }

    /// Who may take it, in the reference's words.
    pub fn words(self) -> &'static str {
        match self {
            Access::Anyone => "any client (a tenant's: its own bots and accounts)",
            Access::Tenant => "the admin token, or a tenant's token (its own bots and accounts)",
            Access::Admin => "the admin token",
        }
    }
}
