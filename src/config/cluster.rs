//! `[cluster]`: this process as one instance of a cluster that shares one PostgreSQL store
//! and owns its bots through leases on NATS JetStream (see `docs/cluster.md`).

use super::Config;
use super::bots::valid_bot_id;
use serde::{Deserialize, Serialize};

/// `[cluster]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// The NATS server, JetStream on (`nats://host:4222`); unset, the process is alone.
    pub nats_url: Option<String>,
    /// This instance's name, unique in the cluster: letters, digits, `_` and `-` (default:
    /// the host name and the process id).
    pub instance: Option<String>,
    /// How long an instance's lease lasts unrenewed, in ms (default 10000, at least 1000):
    /// the bots of an instance that died are taken over after about this long.
    pub lease_ms: u64,
    /// How long a gateway request relayed to the instance running its bot waits for the
    /// answer, in ms (default 30000, at least 1000).
    pub gateway_timeout_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            nats_url: None,
            instance: None,
            lease_ms: 10_000,
            gateway_timeout_ms: 30_000,
        }
    }
}

impl ClusterConfig {
    /// This instance's name: the configured one, else `<host name>-<process id>`.
    pub fn instance_name(&self) -> String {
        self.instance.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().replace(|c: char| !c.is_ascii_alphanumeric(), "-"))
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "tgscript".into());
            format!("{host}-{}", std::process::id())
        })
    }
}

/// What makes `config`'s `[cluster]` unworkable: `(key, message)`.
pub(super) fn refusal(config: &Config) -> Option<(String, String)> {
    let cluster = &config.cluster;
    cluster.nats_url.as_ref()?;
    let refuse = |key: &str, message: String| Some((key.to_string(), message));
    if let Some(name) = &cluster.instance
        && !valid_bot_id(name)
    {
        return refuse(
            "cluster.instance",
            format!("{name:?} is not a name: use letters, digits, _ and - (at most 64)"),
        );
    }
    if cluster.lease_ms < 1000 {
        return refuse(
            "cluster.lease_ms",
            "must be at least 1000: a shorter lease expires between renewals".into(),
        );
    }
    if cluster.gateway_timeout_ms < 1000 {
        return refuse(
            "cluster.gateway_timeout_ms",
            "must be at least 1000: a relayed request also waits for the Bot API".into(),
        );
    }
    if config.store.url.is_none() {
        return refuse(
            "cluster.nats_url",
            "a cluster's instances share one store: set [store] url = \"postgres://…\" (the same on every instance)".into(),
        );
    }
    None
}
