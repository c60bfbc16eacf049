//! `activity`: what the process did lately (the web console's live pane and reload history),
//! from [`crate::activity`].

use super::{Access, ActionSpec, Run};
use crate::activity::{self, Kind};
use crate::commands::FieldSpec;
use crate::gateway::{Client, Gateway};
use crate::request::{CommandError, as_int};
use serde_json::{Map, Value, json};

/// The most entries one answer carries (the newest; the console keeps as many).
const MOST: usize = 300;

/// `activity`.
pub(super) const ACTIVITY: ActionSpec = ActionSpec {
    name: "activity",
    access: Access::Tenant,
    doc: "What the process did lately, numbered, oldest first: on the sandbox each chat line \
          (`chat`) and Bot API call with its parameters and result (`call`); scripts' prints \
          (`print`), tgscript's warnings and errors (`warning`, `error`: a failed handler with \
          file:line:col) and scenario loads and reloads (`reload`, with `ok`). The last 1000 \
          entries are kept, and the last 100 reloads apart; an answer carries the newest 300 \
          (`skipped` says how many older ones it left out). Ask again with `after` = the \
          `next` of the answer for what came since. A tenant's client gets its own bots' \
          prints and errors only.",
    fields: &[
        FieldSpec::optional("after", "integer", "only entries numbered after it").or("0"),
        FieldSpec::optional(
            "kind",
            "string",
            "only this kind: chat, call, print, warning, error or reload",
        ),
    ],
    success: "{entries: [{seq, at (Unix ms), kind, text, ok?, method?, params?, result?, error?}], skipped, next}",
    returns: r#"{"entries": [{"seq": 40, "at": 1796000000000, "kind": "print", "text": "n is 21"}, {"seq": 41, "at": 1796000000000, "kind": "call", "text": "→ sendMessage {\"chat_id\":-1001234567890,\"text\":\"Warning 1/3: no spam here.\"}", "method": "sendMessage", "params": {"chat_id": -1001234567890, "text": "Warning 1/3: no spam here."}, "result": {"message_id": 3}}], "skipped": 0, "next": 41}"#,
    errors: &[
        "after must be a whole number ≥ 0",
        "kind must be one of chat, call, print, warning, error, reload",
    ],
    run: Run::Here(recent),
};

/// `activity`: the entries after `after`, of `kind` when given.
fn recent(
    gw: &Gateway,
    client: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let after = match request.get("after") {
        None | Some(Value::Null) => 0,
        Some(v) => as_int(v)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| CommandError::invalid(action, "after must be a whole number ≥ 0"))?,
    };
    let kind = match request.get("kind") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().and_then(Kind::parse).ok_or_else(|| {
            CommandError::invalid(
                action,
                "kind must be one of chat, call, print, warning, error, reload",
            )
        })?),
    };
    let found = match client.tenant() {
        None => activity::log().since(after, kind, MOST),
        // A tenant's client: the lines of its own bots' scenarios only (sorted out here, not
        // under the log's lock).
        Some(tenant) => {
            let mut found = activity::log().since(after, kind, usize::MAX);
            found.entries.retain(|entry| {
                entry.bot.as_deref().is_some_and(|bot| {
                    gw.bots
                        .as_ref()
                        .and_then(|bots| bots.tenant_of(bot))
                        .is_some_and(|of| of == tenant)
                })
            });
            found.skipped = found.entries.len().saturating_sub(MOST);
            found.entries.drain(..found.skipped);
            found
        }
    };
    Ok(json!({"entries": found.entries, "skipped": found.skipped, "next": found.last}))
}
