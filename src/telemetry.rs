//! What a running process tells its operator: counters and histograms recorded through the
//! `metrics` facade and rendered as Prometheus text (`GET /metrics`), and the health report
//! (`GET /health`) the gateway and the webhook listener serve, built by the application
//! ([`Report`]).

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Updates taken in per bot (fetched, delivered, resumed or retried by hand).
pub const UPDATES_RECEIVED: &str = "tgscript_updates_received_total";
/// Updates every handler finished, per bot.
pub const UPDATES_HANDLED: &str = "tgscript_updates_handled_total";
/// Failed tries of updates, per bot.
pub const UPDATES_FAILED: &str = "tgscript_update_tries_failed_total";
/// Updates parked after their last try, per bot.
pub const UPDATES_PARKED: &str = "tgscript_updates_parked_total";
/// How long one try of an update's handlers took, per bot, in seconds.
pub const HANDLER_SECONDS: &str = "tgscript_handler_duration_seconds";
/// Bot API calls by method and outcome (`ok`, `refused`, `failed`).
pub const BOT_API_CALLS: &str = "tgscript_bot_api_calls_total";
/// `429 Too Many Requests` answers waited out, by method.
pub const RATE_LIMITED: &str = "tgscript_bot_api_rate_limited_total";
/// Requests held back by flood control before they went out, by method.
pub const FLOOD_WAITS: &str = "tgscript_flood_waits_total";
/// Milliseconds requests spent held back by flood control.
pub const FLOOD_WAIT_MS: &str = "tgscript_flood_wait_milliseconds_total";
/// Scenario loads on reload, per bot and outcome (`ok`, `failed`).
pub const RELOADS: &str = "tgscript_scenario_reloads_total";
/// Gateway requests by action and outcome (`ok`, `error`).
pub const GATEWAY_REQUESTS: &str = "tgscript_gateway_requests_total";
/// Account events a subscriber's full queue dropped.
pub const ACCOUNT_EVENTS_DROPPED: &str = "tgscript_account_events_dropped_total";
/// Messages from NATS a cluster instance dropped unopened, by reason (`unsealed`: not sealed
/// with the cluster key or moved to another subject; `stale`: sealed outside the replay
/// window; `replayed`: seen before).
pub const CLUSTER_MESSAGES_DROPPED: &str = "tgscript_cluster_messages_dropped_total";

/// The most distinct Bot API method names kept as labels; more are counted as `other` (a
/// script may call any name).
const MAX_METHOD_LABELS: usize = 128;

/// What `/health` and `/metrics` answer, built by whoever knows the bots and accounts.
pub trait Report: Send + Sync {
    /// Whether everything configured can work, and the report as JSON.
    fn health(&self) -> (bool, Value);
}

/// The process's recorder, installed on first use; `None` when another one was installed
/// first (a library user's own).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .ok()
                .and_then(|builder| builder.install_recorder().ok())
        })
        .as_ref()
}

/// Every metric recorded so far, as Prometheus text.
pub fn render() -> String {
    recorder().map(PrometheusHandle::render).unwrap_or_default()
}

/// `method` as a label: its own name for the first [`MAX_METHOD_LABELS`] names seen, else
/// `other`.
pub fn method_label(method: &str) -> String {
    static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    if seen.contains(method) {
        return method.to_string();
    }
    let plain = method.len() <= 64 && method.chars().all(|c| c.is_ascii_alphanumeric());
    if plain && seen.len() < MAX_METHOD_LABELS {
        seen.insert(method.to_string());
        return method.to_string();
    }
    "other".to_string()
}
