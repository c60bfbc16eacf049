//! The gateway's admin actions: bots added, removed and listed while `run` runs
//! (`add_bot`, `remove_bot`, `list_bots`) and their scenario files (`put_script`,
//! `get_script`, `delete_script`). They need the admin token (`[gateway] admin_token`, sent
//! as `Authorization: Bearer`), and a process that runs bots, which answers them through
//! [`BotControl`].

use crate::request::CommandError;
use serde_json::{Map, Value};

/// Marks a request that presented the admin token.
#[derive(Debug, Clone, Copy)]
pub(super) struct AdminToken;

/// What the gateway asks of the process that runs the bots.
pub trait BotControl: Send + Sync {
    /// Run admin `action` with the fields of `request` (called on a blocking thread).
    fn act(&self, action: &str, request: &Map<String, Value>) -> Result<Value, CommandError>;

    /// Carry out account command or chat action `action` (the fields of `request`) through
    /// bot `bot_id` (`None`: the only bot), wherever it runs (in a cluster, perhaps on another
    /// instance); an unknown id, or none while several bots run, is an error that names the
    /// bots. Called on a blocking thread.
    fn execute(
        &self,
        action: &str,
        bot_id: Option<&str>,
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

/// The error of an admin action asked without the admin token.
pub(super) fn unauthorized(action: &str) -> CommandError {
    CommandError {
        command: action.to_string(),
        error: format!(
            "{action} needs the admin token: send Authorization: Bearer <[gateway] admin_token>"
        ),
        code: Some(401),
        hint: None,
    }
}
