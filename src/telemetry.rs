//! What a running process tells its operator: counters and histograms recorded through the
//! `metrics` facade and rendered as Prometheus text (`GET /metrics`, in base units), the
//! gauges of the moment and the health and readiness reports (`GET /health`, `/readyz`) the
//! gateway and the webhook listener serve, built by the application ([`Report`]), and the
//! heartbeat of its loops (`GET /livez`, systemd's watchdog).

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

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
/// Seconds requests spent held back by flood control.
pub const FLOOD_WAIT_SECONDS: &str = "tgscript_flood_wait_seconds_total";
/// The build that runs: `tgscript_build_info{version, os, arch} 1`.
pub const BUILD_INFO: &str = "tgscript_build_info";
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

/// What `/health`, `/readyz` and `/metrics` answer, built by whoever knows the bots and
/// accounts.
pub trait Report: Send + Sync {
    /// Whether everything configured can work, and the report as JSON.
    fn health(&self) -> (bool, Value);

    /// Why the process cannot take work now, one reason each (none: it can).
    fn unready(&self) -> Vec<String> {
        Vec::new()
    }

    /// The gauges of the moment (per bot), read when `/metrics` is asked.
    fn gauges(&self) -> Vec<Gauge> {
        Vec::new()
    }
}

/// One gauge's value of the moment, as `/metrics` shows it.
#[derive(Debug, Clone)]
pub struct Gauge {
    /// Its metric name.
    pub name: &'static str,
    /// What it measures (the `# HELP` line).
    pub help: &'static str,
    /// Its labels.
    pub labels: Vec<(&'static str, String)>,
    /// Its value.
    pub value: f64,
}

/// `gauges` as Prometheus text: one `# HELP` and `# TYPE` per name, then its samples.
pub fn render_gauges(gauges: &[Gauge]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut named = BTreeSet::new();
    for gauge in gauges {
        if named.insert(gauge.name) {
            let _ = writeln!(out, "# HELP {} {}", gauge.name, gauge.help);
            let _ = writeln!(out, "# TYPE {} gauge", gauge.name);
            for same in gauges.iter().filter(|g| g.name == gauge.name) {
                let labels: Vec<String> = same
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = writeln!(out, "{}{{{}}} {}", same.name, labels.join(","), same.value);
            }
        }
    }
    out
}

/// A label value as Prometheus text writes it.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

/// Microseconds requests spent held back by flood control, for [`FLOOD_WAIT_SECONDS`] (the
/// facade counts integers only).
static FLOOD_WAITED_MICROS: AtomicU64 = AtomicU64::new(0);

/// A request was held back by flood control for `waited`.
pub fn flood_waited(waited: Duration) {
    let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
    FLOOD_WAITED_MICROS.fetch_add(micros, Ordering::Relaxed);
}

/// The process's loops, as the last time one turned: `/livez` and systemd's watchdog read
/// it.
pub struct Heartbeat {
    since: Instant,
    /// Milliseconds from `since` to the last beat.
    last: AtomicU64,
}

/// How long the loops may go without turning before the process counts as stuck (`/livez`
/// 503, no `WATCHDOG=1`).
pub const STUCK_AFTER: Duration = Duration::from_secs(30);

impl Heartbeat {
    /// A loop turned.
    pub fn beat(&self) {
        let now = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// How long ago a loop last turned.
    pub fn silent_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.since.elapsed().saturating_sub(last)
    }
}

/// The process's heartbeat (its first use counts as a beat).
pub fn heartbeat() -> &'static Heartbeat {
    static BEAT: OnceLock<Heartbeat> = OnceLock::new();
    BEAT.get_or_init(|| Heartbeat {
        since: Instant::now(),
        last: AtomicU64::new(0),
    })
}

/// Why the process as a whole takes no more work (it is stopping), once it does not.
static STOPPING: OnceLock<String> = OnceLock::new();

/// The process takes no more work, because of `why` (`/readyz` says so from now on).
pub fn stopping(why: &str) {
    let _ = STOPPING.set(why.to_string());
}

/// Why the process takes no more work, once it does not.
pub fn stopping_why() -> Option<&'static str> {
    STOPPING.get().map(String::as_str)
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
                .inspect(|_| {
                    metrics::gauge!(
                        BUILD_INFO,
                        "version" => env!("CARGO_PKG_VERSION"),
                        "os" => std::env::consts::OS,
                        "arch" => std::env::consts::ARCH
                    )
                    .set(1.0);
                })
        })
        .as_ref()
}

/// Every metric recorded so far, as Prometheus text.
pub fn render() -> String {
    let Some(handle) = recorder() else {
        return String::new();
    };
    let waited = FLOOD_WAITED_MICROS.load(Ordering::Relaxed) as f64 / 1e6;
    format!(
        "{}# HELP {FLOOD_WAIT_SECONDS} Seconds Bot API requests were held back by flood control.\n# TYPE {FLOOD_WAIT_SECONDS} counter\n{FLOOD_WAIT_SECONDS} {waited}\n",
        handle.render()
    )
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
