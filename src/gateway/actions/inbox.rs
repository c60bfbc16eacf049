//! The inbox of a bot over the gateway: what is pending or parked, and a parked update
//! queued for another round of tries (what `tgscript inbox list` / `inbox retry` do from a
//! shell), answered by the bot where it runs.

use super::bots::{NOT_HERE, WHICH_BOT};
use super::{Access, ActionSpec, Run, WhichBot};
use crate::commands::FieldSpec;
use crate::gateway::admin::BotScope;
use crate::inbox::Status;
use crate::request::CommandError;
use serde_json::{Map, Value, json};

/// `inbox_list`.
pub(super) const INBOX_LIST: ActionSpec = ActionSpec {
    name: "inbox_list",
    access: Access::Tenant,
    doc: "A bot's updates not handled yet and parked ones (with `all`, also those handled in \
          the last day), oldest first, as `tgscript inbox list --json` shows them.",
    fields: &[
        WHICH_BOT,
        FieldSpec::optional("all", "boolean", "also the handled ones").or("false"),
    ],
    success: "{bot_id, entries: [{update_id, chat, kind, status, attempts, error, received_at}]}",
    returns: r#"{"bot_id": "default", "entries": [{"update_id": 7, "chat": -1001234567890, "kind": "message", "status": "parked", "attempts": 1, "error": "anti_spam.rhai:12:5: not ready [anti_spam on_message]", "received_at": 1796000000}]}"#,
    errors: &[
        NOT_HERE,
        "N bots run here: pass bot_id (…) / no bot \"x\" runs here",
        "bot x keeps no inbox: [inbox] enabled = false",
        "all must be true or false",
    ],
    run: Run::OnBot(WhichBot::OnlyOrNamed, inbox_list),
};

/// `inbox_retry`.
pub(super) const INBOX_RETRY: ActionSpec = ActionSpec {
    name: "inbox_retry",
    access: Access::Tenant,
    doc: "Queue a parked update for another round of `[inbox] max_attempts` tries: the \
          running bot takes it up within a second; handlers that finished on an earlier try \
          are not run again.",
    fields: &[
        WHICH_BOT,
        FieldSpec::required(
            "update_id",
            "integer",
            "7",
            "the update, as inbox_list shows it",
        ),
    ],
    success: "{bot_id, update_id, status: \"retry\", was}: `was` is its status before",
    returns: r#"{"bot_id": "default", "update_id": 7, "status": "retry", "was": "parked"}"#,
    errors: &[
        NOT_HERE,
        "N bots run here: pass bot_id (…) / no bot \"x\" runs here",
        "bot x keeps no inbox: [inbox] enabled = false",
        "update_id is required / update_id must be an integer",
        "update N is not in the inbox (…) / update N was handled already: … / update N is still pending: …",
    ],
    run: Run::OnBot(WhichBot::OnlyOrNamed, inbox_retry),
};

/// `inbox_list`: pending, retried and parked updates (with `all`, handled ones too).
fn inbox_list(
    bot: &BotScope,
    command: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let inbox = bot.inbox(command)?;
    let mut statuses = vec![Status::Pending, Status::Retry, Status::Parked];
    match request.get("all") {
        None | Some(Value::Null | Value::Bool(false)) => {}
        Some(Value::Bool(true)) => statuses.push(Status::Done),
        Some(_) => return Err(CommandError::invalid(command, "all must be true or false")),
    }
    let entries = inbox
        .list(&statuses)
        .map_err(|e| CommandError::invalid(command, e.to_string()))?;
    Ok(json!({"bot_id": bot.id, "entries": entries}))
}

/// `inbox_retry`: a parked update queued for another round of tries.
fn inbox_retry(
    bot: &BotScope,
    command: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let inbox = bot.inbox(command)?;
    let id = match request.get("update_id").map(crate::request::as_int) {
        Some(Some(id)) => id,
        Some(None) => {
            return Err(CommandError::invalid(
                command,
                "update_id must be an integer",
            ));
        }
        None => return Err(CommandError::invalid(command, "update_id is required")),
    };
    let before = inbox
        .retry(id)
        .map_err(|e| CommandError::invalid(command, e.to_string()))?;
    tracing::info!(
        "bot {}: update {id} queued for another round of tries through the gateway",
        bot.id
    );
    Ok(json!({"bot_id": bot.id, "update_id": id, "status": Status::Retry, "was": before}))
}
