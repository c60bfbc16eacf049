//! What `GET /health` says of a `run`: each bot (mode, whether it reaches the Bot API, the
//! last successful poll or delivery, the last error, its inbox's pending and parked updates)
//! and each account (its authorization state); unhealthy (503) while a bot cannot reach the
//! Bot API.

use super::bot::Running;
use crate::accounts::Accounts;
use crate::telemetry::Report;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

/// `bot` as `/health` and `list_bots` show it: id, mode, where it comes from, reachability,
/// last successful poll or delivery, last error, updates handled, its inbox's pending and
/// parked updates.
pub(super) fn describe(bot: &Running) -> Value {
    let mut entry = json!({
        "id": bot.id,
        "mode": bot.mode.name(),
        "source": bot.source.name(),
        "handled": bot.dispatcher.progress().handled(),
    });
    if let (Some(map), Value::Object(status)) = (entry.as_object_mut(), bot.status.to_json()) {
        map.extend(status);
    }
    entry["inbox"] = match bot.inbox.as_ref().map(|inbox| inbox.counts()) {
        None => json!("off"),
        Some(Ok((pending, parked))) => json!({"pending": pending, "parked": parked}),
        Some(Err(e)) => json!({"error": e.to_string()}),
    };
    entry
}

/// The bots running now, by id (the fleet keeps it up to date).
pub(super) type RunningBots = Arc<RwLock<BTreeMap<String, Arc<Running>>>>;

/// The health of a `run`: its bots and accounts.
pub(super) struct FleetReport {
    /// The bots.
    pub(super) bots: RunningBots,
    /// The accounts.
    pub(super) accounts: Accounts,
}

impl Report for FleetReport {
    fn health(&self) -> (bool, Value) {
        let bots: Vec<Arc<Running>> = self
            .bots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let healthy = bots.iter().all(|bot| bot.status.reachable());
        let bots: Vec<Value> = bots.iter().map(|bot| describe(bot)).collect();
        let accounts: Vec<Value> = self
            .accounts
            .ids()
            .into_iter()
            .map(|id| {
                let state = self
                    .accounts
                    .get(id)
                    .map_or_else(|e| e.to_string(), |account| account.status());
                json!({"id": id, "state": state})
            })
            .collect();
        (
            healthy,
            json!({"ok": healthy, "bots": bots, "accounts": accounts}),
        )
    }
}
