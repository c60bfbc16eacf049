//! What the gateway's actions are about and who may take them: one bot resolved
//! ([`BotScope`]), which the actions on a bot (account commands, chat actions, scripts, the
//! inbox) run against, a bot to add ([`NewBot`]), and [`Access`]. The set of bots is
//! [`super::actions::BotControl`].

use super::Client;
use crate::config::BotMode;
use crate::effects::Effects;
use crate::engine::Limits;
use crate::host::Host;
use crate::inbox::Inbox;
use crate::request::CommandError;
use crate::scenario::runner::Runner;

use std::path::PathBuf;
use std::sync::Arc;

/// A bot `add_bot` starts, its fields checked.
#[derive(Debug, Clone)]
pub struct NewBot {
    /// Its id: 1–64 letters, digits, `_` or `-`.
    pub id: String,
    /// Its token (never logged).
    pub token: String,
    /// How its updates come.
    pub mode: BotMode,
    /// Its scenario folder (default: `<data dir>/bots/<id>`).
    pub scripts: Option<PathBuf>,
    /// A Bot API server other than Telegram's.
    pub api_url: Option<String>,
    /// Its tenant (default: its id).
    pub tenant: Option<String>,
}

/// A bot that runs in this process, as an action on a bot reaches it: the resolved scope
/// every such action runs against.
#[derive(Clone)]
pub struct BotScope {
    /// Its id.
    pub id: String,
    /// What it acts through: its Bot API client, the state, the accounts.
    pub host: Arc<Host>,
    /// Its scenario folder.
    pub dir: PathBuf,
    /// Its inbox, unless `[inbox] enabled = false`.
    pub inbox: Option<Arc<Inbox>>,
    /// Where its scripts run (and drafts are checked).
    pub runner: Arc<Runner>,
    /// The limits its scripts are held to.
    pub limits: Limits,
}

impl BotScope {
    /// Its tenant.
    pub fn tenant(&self) -> Option<&str> {
        self.host.caller().map(crate::effects::Caller::tenant_name)
    }

    /// Its inbox, or why it has none.
    pub fn inbox(&self, command: &str) -> Result<&Inbox, CommandError> {
        self.inbox.as_deref().ok_or_else(|| {
            CommandError::invalid(
                command,
                format!("bot {} keeps no inbox: [inbox] enabled = false", self.id),
            )
        })
    }
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
