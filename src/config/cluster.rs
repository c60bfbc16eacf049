//! `[cluster]`: this process as one instance of a cluster that shares one PostgreSQL store
//! and owns its bots through leases on NATS JetStream (see `docs/src/guide/cluster-design.md`): where NATS
//! is, how this instance proves itself to it (credentials, TLS), and the cluster key that
//! seals what the instances send each other.

use super::bots::valid_bot_id;
use super::{Config, Secret};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The fewest bytes a cluster key has.
pub const MIN_KEY_BYTES: usize = 32;

/// `[cluster]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// The NATS server, JetStream on (`nats://host:4222`, `tls://host:4222`); unset, the
    /// process is alone.
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
    /// The environment variable holding the cluster key (required with `nats_url`; the same
    /// on every instance, at least 32 bytes, e.g. `openssl rand -hex 32`): every message the
    /// instances send each other over NATS is sealed with it, and one that does not open is
    /// dropped.
    pub key_env: Option<String>,
    /// A NATS credentials file (`.creds`: a user JWT and its nkey seed).
    pub nats_creds_file: Option<PathBuf>,
    /// The environment variable holding an nkey seed (`SU…`) to sign NATS's challenge with.
    pub nats_nkey_env: Option<String>,
    /// The NATS user name (with `nats_password_env`).
    pub nats_user: Option<String>,
    /// The environment variable holding `nats_user`'s password.
    pub nats_password_env: Option<String>,
    /// The environment variable holding a NATS authentication token.
    pub nats_token_env: Option<String>,
    /// A PEM file of the certificate authorities NATS's certificate is checked against
    /// (besides the system's); TLS is then required.
    pub nats_ca_file: Option<PathBuf>,
    /// A PEM client certificate to show NATS (with `nats_key_file`); TLS is then required.
    pub nats_cert_file: Option<PathBuf>,
    /// The PEM private key of `nats_cert_file`.
    pub nats_key_file: Option<PathBuf>,
    /// The secrets the `*_env` keys name, read when the configuration is loaded.
    #[serde(skip)]
    pub secrets: ClusterSecrets,
}

/// The secrets of `[cluster]`, read from the environment variables its `*_env` keys name:
/// never in the file, never shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterSecrets {
    /// The cluster key (`key_env`).
    pub key: Option<Secret>,
    /// The nkey seed (`nats_nkey_env`).
    pub nkey_seed: Option<Secret>,
    /// The password (`nats_password_env`).
    pub password: Option<Secret>,
    /// The token (`nats_token_env`).
    pub token: Option<Secret>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            nats_url: None,
            instance: None,
            lease_ms: 10_000,
            gateway_timeout_ms: 30_000,
            key_env: None,
            nats_creds_file: None,
            nats_nkey_env: None,
            nats_user: None,
            nats_password_env: None,
            nats_token_env: None,
            nats_ca_file: None,
            nats_cert_file: None,
            nats_key_file: None,
            secrets: ClusterSecrets::default(),
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

    /// Whether any TLS key is set: NATS must then speak TLS.
    pub fn nats_tls(&self) -> bool {
        self.nats_ca_file.is_some() || self.nats_cert_file.is_some() || self.nats_key_file.is_some()
    }

    /// The files the keys name, as `(key, path)`.
    fn files(&self) -> impl Iterator<Item = (&'static str, &PathBuf)> {
        [
            ("cluster.nats_creds_file", &self.nats_creds_file),
            ("cluster.nats_ca_file", &self.nats_ca_file),
            ("cluster.nats_cert_file", &self.nats_cert_file),
            ("cluster.nats_key_file", &self.nats_key_file),
        ]
        .into_iter()
        .filter_map(|(key, path)| path.as_ref().map(|path| (key, path)))
    }

    /// The files the keys name, relative ones taken from `base` (the config file's folder).
    pub(super) fn resolve_paths(&mut self, base: &std::path::Path) {
        for path in [
            &mut self.nats_creds_file,
            &mut self.nats_ca_file,
            &mut self.nats_cert_file,
            &mut self.nats_key_file,
        ]
        .into_iter()
        .flatten()
        {
            if path.is_relative() && !base.as_os_str().is_empty() {
                *path = base.join(&*path);
            }
        }
    }

    /// The first file a key names that cannot be read, as `(key, message)`.
    pub(super) fn missing_file(&self) -> Option<(String, String)> {
        self.nats_url.as_ref()?;
        self.files().find_map(|(key, path)| {
            std::fs::File::open(path).err().map(|e| {
                (
                    key.to_string(),
                    format!("cannot read {}: {e}", path.display()),
                )
            })
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
    if cluster.key_env.is_none() {
        return refuse(
            "cluster.key_env",
            format!(
                "a cluster needs a key that seals what its instances send each other over NATS: make one with `openssl rand -hex 32`, give every instance the same one in an environment variable (at least {MIN_KEY_BYTES} bytes), and name the variable here, e.g. key_env = \"CLUSTER_KEY\""
            ),
        );
    }
    let ways = [
        ("cluster.nats_creds_file", cluster.nats_creds_file.is_some()),
        ("cluster.nats_nkey_env", cluster.nats_nkey_env.is_some()),
        ("cluster.nats_user", cluster.nats_user.is_some()),
        ("cluster.nats_token_env", cluster.nats_token_env.is_some()),
    ];
    let chosen: Vec<&str> = ways
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .collect();
    if let [first, second, ..] = chosen[..] {
        return refuse(
            second,
            format!("NATS takes one way to authenticate: {first} is set too; keep one"),
        );
    }
    if cluster.nats_user.is_some() != cluster.nats_password_env.is_some() {
        return refuse(
            "cluster.nats_password_env",
            "nats_user and nats_password_env go together: set both, or neither".into(),
        );
    }
    if cluster.nats_cert_file.is_some() != cluster.nats_key_file.is_some() {
        return refuse(
            "cluster.nats_key_file",
            "nats_cert_file and nats_key_file go together: set both, or neither".into(),
        );
    }
    None
}

/// `cluster`'s secrets, read through `env` from the variables its `*_env` keys name; a
/// variable that is unset or empty, or a key too short, is refused as `(key, message)`.
pub(super) fn secrets(
    cluster: &ClusterConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ClusterSecrets, (String, String)> {
    if cluster.nats_url.is_none() {
        return Ok(ClusterSecrets::default());
    }
    let read = |key: &str, var: &Option<String>, what: &str| match var {
        None => Ok(None),
        Some(var) => match env(var).filter(|value| !value.trim().is_empty()) {
            Some(value) => Ok(Some(Secret(value))),
            None => Err((
                format!("cluster.{key}"),
                format!("the environment variable {var} is unset or empty: set it to {what}"),
            )),
        },
    };
    let key = read(
        "key_env",
        &cluster.key_env,
        "the cluster key (the same on every instance; make one with `openssl rand -hex 32`)",
    )?;
    if let Some(short) = key.as_ref().filter(|k| k.expose().len() < MIN_KEY_BYTES) {
        return Err((
            "cluster.key_env".into(),
            format!(
                "the cluster key has {} bytes, fewer than {MIN_KEY_BYTES}: make one with `openssl rand -hex 32`",
                short.expose().len()
            ),
        ));
    }
    Ok(ClusterSecrets {
        key,
        nkey_seed: read("nats_nkey_env", &cluster.nats_nkey_env, "the nkey seed")?,
        password: read(
            "nats_password_env",
            &cluster.nats_password_env,
            "nats_user's password",
        )?,
        token: read("nats_token_env", &cluster.nats_token_env, "the NATS token")?,
    })
}
