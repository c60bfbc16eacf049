//! What `GET /health` says of a `run`: each bot (mode, whether it reaches the Bot API, the
//! last successful poll or delivery, the last error, its inbox's pending and parked updates)
//! and each account (its authorization state); unhealthy (503) while a bot cannot reach the
//! Bot API. What `/readyz` adds to the process's own reasons (a bot that cannot reach the Bot
//! API), and the gauges `/metrics` shows per bot and of the script workers.

use super::bot::Running;
use crate::accounts::Accounts;
use crate::scenario::runner::pool::WorkerPool;
use crate::telemetry::{Gauge, Report};
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
        "handled": bot.dispatcher().progress().handled(),
    });
    if let (Some(map), Value::Object(status)) = (entry.as_object_mut(), bot.status().to_json()) {
        map.extend(status);
    }
    entry["inbox"] = match bot.inbox().map(|inbox| inbox.counts()) {
        None => json!("off"),
        Some(Ok((pending, parked))) => json!({"pending": pending, "parked": parked}),
        Some(Err(e)) => json!({"error": e.to_string()}),
    };
    entry
}

/// Per bot: updates taken in, not yet handled.
const UPDATES_QUEUED: &str = "tgscript_updates_queued";
/// Per bot: whether it reaches the Bot API.
const BOT_API_REACHABLE: &str = "tgscript_bot_api_reachable";
/// Per bot: its inbox's updates still to handle.
const INBOX_PENDING: &str = "tgscript_inbox_pending_updates";
/// Per bot: its inbox's parked updates.
const INBOX_PARKED: &str = "tgscript_inbox_parked_updates";
/// Script workers running a call.
const WORKERS_BUSY: &str = "tgscript_script_workers_busy";
/// Script calls waiting for a worker.
const WORKER_CALLS_WAITING: &str = "tgscript_script_calls_waiting";
/// The pool's size.
const WORKERS_MAX: &str = "tgscript_script_workers_max";

/// The bots running now, by id (the fleet keeps it up to date).
pub(super) type RunningBots = Arc<RwLock<BTreeMap<String, Arc<Running>>>>;

/// The health of a `run`: its bots and accounts.
pub(super) struct FleetReport {
    /// The bots.
    pub(super) bots: RunningBots,
    /// The accounts.
    pub(super) accounts: Accounts,
    /// The script workers, when scripts run in worker processes.
    pub(super) workers: Option<Arc<WorkerPool>>,
}

impl FleetReport {
    /// The bots running now.
    fn running(&self) -> Vec<Arc<Running>> {
        self.bots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}

impl Report for FleetReport {
    /// A bot that cannot reach the Bot API takes no work: its updates cannot come in nor
    /// its answers go out.
    fn unready(&self) -> Vec<String> {
        self.running()
            .iter()
            .filter(|bot| !bot.status().reachable())
            .map(|bot| {
                let why = bot
                    .status()
                    .last_error()
                    .unwrap_or_else(|| "no answer".into());
                format!("bot {}: the Bot API cannot be reached ({why})", bot.id)
            })
            .collect()
    }

    fn gauges(&self) -> Vec<Gauge> {
        let mut gauges = Vec::new();
        for bot in self.running() {
            let of_bot = |name, help, value: u64| Gauge {
                name,
                help,
                labels: vec![("bot", bot.id.clone())],
                value: value as f64,
            };
            gauges.push(of_bot(
                UPDATES_QUEUED,
                "Updates taken in and not yet fully handled (queued or being handled).",
                bot.dispatcher().progress().backlog(),
            ));
            gauges.push(of_bot(
                BOT_API_REACHABLE,
                "Whether the bot reaches the Bot API (1) or not (0).",
                u64::from(bot.status().reachable()),
            ));
            if let Some(Ok((pending, parked))) = bot.inbox().map(|inbox| inbox.counts()) {
                gauges.push(of_bot(
                    INBOX_PENDING,
                    "Updates in the inbox still to be handled (new or waiting for a retry).",
                    pending,
                ));
                gauges.push(of_bot(
                    INBOX_PARKED,
                    "Updates in the inbox parked after their last try.",
                    parked,
                ));
            }
        }
        if let Some(usage) = self.workers.as_ref().map(|pool| pool.usage()) {
            let of_pool = |name, help, value: usize| Gauge {
                name,
                help,
                labels: Vec::new(),
                value: value as f64,
            };
            gauges.push(of_pool(
                WORKERS_BUSY,
                "Script worker processes running a call.",
                usage.busy,
            ));
            gauges.push(of_pool(
                WORKER_CALLS_WAITING,
                "Script calls waiting for a worker process.",
                usage.waiting,
            ));
            gauges.push(of_pool(
                WORKERS_MAX,
                "The most script worker processes run at once ([scripts] workers).",
                usage.size,
            ));
        }
        gauges
    }

    fn health(&self) -> (bool, Value) {
        let bots = self.running();
        let healthy = bots.iter().all(|bot| bot.status().reachable());
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
