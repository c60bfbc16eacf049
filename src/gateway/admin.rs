//! The gateway's admin actions: bots added, removed and listed while `run` runs
//! (`add_bot`, `remove_bot`, `list_bots`) and their scenario files (`put_script`,
//! `get_script`, `delete_script`). They need the admin token (`[gateway] admin_token`, sent
//! as `Authorization: Bearer`) — or, for a tenant's own bots, its token — and a process that
//! runs bots, which answers them through [`BotControl`].

use super::actions::Access;
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
