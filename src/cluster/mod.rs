//! This process as one instance of a cluster (`[cluster] nats_url`): while alive it holds a
//! lease in the JetStream key-value bucket [`BUCKET`], it learns the live instances from the
//! same bucket, and from that list ([`assign`]) which bots are its own. The lease says who
//! should run a bot; what makes sure that no two instances run one at the same moment is the
//! bot's claim in the shared store (`Store::claim_bot`), held while it runs here. Webhook
//! deliveries reach the owner through the JetStream stream of [`ingress`], gateway requests
//! through [`relay`]. Everything the instances send each other is sealed with the cluster
//! key ([`seal`]); this process proves itself to NATS as [`ClusterConfig`] says (a creds
//! file, an nkey, a user and password or a token; TLS with its own CA and a client
//! certificate).

pub mod assign;
pub mod events;
pub mod ingress;
mod lease;
pub mod relay;
pub mod seal;

use crate::config::ClusterConfig;
use async_nats::jetstream::{self, kv};
use futures::StreamExt;
use seal::Seal;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// The key-value bucket of the instances' leases: one key per live instance, expiring with
/// the lease unless renewed.
pub const BUCKET: &str = "tgscript-instances";
/// The subject on which an instance tells the others that the bots added through the
/// gateway (kept in the store) changed.
const BOTS_CHANGED: &str = "tgscript.bots.changed";
/// The same for the accounts added through the gateway.
const ACCOUNTS_CHANGED: &str = "tgscript.accounts.changed";
/// How long telling the other instances of a change waits for the server's confirmation.
const TELL_WAIT: Duration = Duration::from_secs(1);

/// Why this process cannot join its cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The NATS server cannot be reached.
    #[error("[cluster] cannot reach NATS at {url}: {message}; start it, or fix nats_url")]
    Connect {
        /// The server, without credentials.
        url: String,
        /// What the client said.
        message: String,
    },
    /// The server refused this instance's credentials or TLS.
    #[error(
        "[cluster] NATS at {url} refused this instance: {message}; check nats_creds_file, nats_nkey_env, nats_user and nats_password_env or nats_token_env (and for TLS nats_ca_file, nats_cert_file and nats_key_file) against the server's accounts"
    )]
    Refused {
        /// The server, without credentials.
        url: String,
        /// What the client said.
        message: String,
    },
    /// A credentials file that cannot be used.
    #[error("[cluster] nats_creds_file {file}: {message}")]
    Credentials {
        /// The file.
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// No cluster key was loaded.
    #[error(
        "[cluster] no cluster key: set key_env to the environment variable holding it (make one with `openssl rand -hex 32`)"
    )]
    NoKey,
    /// The server answers but its JetStream refused the lease bucket.
    #[error(
        "[cluster] NATS at {url}: {message} (the server must run with JetStream on: nats-server -js)"
    )]
    JetStream {
        /// The server, without credentials.
        url: String,
        /// What JetStream said.
        message: String,
    },
    /// The instances disagree on the lease's length.
    #[error(
        "[cluster] the cluster's leases last {bucket_ms} ms (set by the first instance, in NATS bucket {BUCKET}) but this one has lease_ms = {ours_ms}: give every instance the same lease_ms"
    )]
    LeaseMismatch {
        /// The bucket's lease length.
        bucket_ms: u128,
        /// This instance's.
        ours_ms: u128,
    },
}

/// What this instance knows of the cluster at a moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Whether this instance holds its lease now; without it, it must run no bot.
    pub held: bool,
    /// The live instances, sorted (this one among them while it holds its lease).
    pub live: Vec<String>,
}

impl View {
    /// The instance that should run `id`.
    pub fn owner(&self, id: &str) -> Option<&str> {
        assign::owner(id, &self.live)
    }

    /// Whether instance `me` should run `id` now.
    pub fn is_mine(&self, me: &str, id: &str) -> bool {
        self.held && self.owner(id) == Some(me)
    }
}

/// This process's membership in the cluster: its lease, renewed on a task of its own, and
/// the view that follows from it.
pub struct Membership {
    instance: String,
    client: async_nats::Client,
    /// Seals what this instance sends, opens what it receives.
    seal: Arc<Seal>,
    /// Until taken: what [`Membership::bot_changes`] gives.
    bot_changes: Option<Notices>,
    /// Until taken: what [`Membership::account_changes`] gives.
    account_changes: Option<Notices>,
    /// Where the accounts running here publish their events for the other instances.
    outbox: events::Outbox,
    ingress: ingress::Ingress,
    relay: relay::Relay,
    view: watch::Receiver<View>,
    /// Until left: how to tell the lease's task to give it up, and the task.
    keeping: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Membership {
    /// Connect to `config`'s NATS server and start keeping this instance's lease (the view
    /// says when it is held).
    pub async fn join(config: &ClusterConfig) -> Result<Membership, ClusterError> {
        let url = config.nats_url.clone().unwrap_or_default();
        let shown = without_credentials(&url);
        let ttl = Duration::from_millis(config.lease_ms);
        let key = config.secrets.key.as_ref().ok_or(ClusterError::NoKey)?;
        let seal = Arc::new(Seal::new(key.expose().as_bytes()));
        let client = authenticated(config)
            .await?
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(lease::tick(ttl)))
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Disconnected => {
                        tracing::warn!("cluster: disconnected from NATS; reconnecting")
                    }
                    async_nats::Event::Connected => tracing::info!("cluster: connected to NATS"),
                    other => tracing::debug!("cluster: NATS: {other}"),
                }
            })
            .connect(url.as_str())
            .await
            .map_err(|e| {
                use async_nats::ConnectErrorKind as Kind;
                let (url, message) = (shown.clone(), e.to_string());
                match e.kind() {
                    Kind::AuthorizationViolation | Kind::Authentication | Kind::Tls => {
                        ClusterError::Refused { url, message }
                    }
                    _ => ClusterError::Connect { url, message },
                }
            })?;
        let subscribe = |subject: &'static str| {
            let (client, shown, seal) = (client.clone(), shown.clone(), seal.clone());
            async move {
                let subscriber =
                    client
                        .subscribe(subject)
                        .await
                        .map_err(|e| ClusterError::Connect {
                            url: shown,
                            message: e.to_string(),
                        })?;
                Ok::<_, ClusterError>(Notices { subscriber, seal })
            }
        };
        let bot_changes = subscribe(BOTS_CHANGED).await?;
        let account_changes = subscribe(ACCOUNTS_CHANGED).await?;
        let js = jetstream::new(client.clone());
        let bucket = bucket(&js, ttl).await.map_err(|e| match e {
            BucketError::Mismatch(bucket) => ClusterError::LeaseMismatch {
                bucket_ms: bucket.as_millis(),
                ours_ms: ttl.as_millis(),
            },
            BucketError::JetStream(message) => ClusterError::JetStream {
                url: shown.clone(),
                message,
            },
        })?;
        let ingress = ingress::Ingress::open(js, seal.clone())
            .await
            .map_err(|e| ClusterError::JetStream {
                url: shown.clone(),
                message: e.to_string(),
            })?;
        let instance = config.instance_name();
        tracing::info!(
            "cluster: instance {instance} joins through NATS at {shown} (leases of {} ms)",
            ttl.as_millis()
        );
        let (views, view) = watch::channel(View::default());
        // A request finds nobody while its bot moves, which takes about a lease.
        let relay = relay::Relay::new(
            client.clone(),
            seal.clone(),
            &instance,
            view.clone(),
            2 * ttl,
            Duration::from_millis(config.gateway_timeout_ms),
        );
        let (leave, left) = oneshot::channel();
        let lease = lease::Lease::new(bucket, seal.clone(), instance.clone(), ttl);
        let kept = tokio::spawn(lease.keep(views, left));
        let outbox = events::outbox(client.clone(), seal.clone(), &instance);
        Ok(Membership {
            instance,
            client,
            seal,
            bot_changes: Some(bot_changes),
            account_changes: Some(account_changes),
            outbox,
            ingress,
            relay,
            view,
            keeping: Some((leave, kept)),
        })
    }

    /// This instance's name.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The cluster's webhook ingress.
    pub fn ingress(&self) -> &ingress::Ingress {
        &self.ingress
    }

    /// Gateway requests to the owners of bots.
    pub fn relay(&self) -> &relay::Relay {
        &self.relay
    }

    /// A notice each time an instance says that the bots added through the gateway changed
    /// ([`Membership::bots_changed`]), from the moment this instance joined; once.
    pub fn bot_changes(&mut self) -> Option<Notices> {
        self.bot_changes.take()
    }

    /// Tell every instance that the bots added through the gateway changed (one was added or
    /// removed in the store), so each takes the store's list again.
    pub async fn bots_changed(&self) {
        self.announcer().tell(BOTS_CHANGED, "bots").await;
    }

    /// A notice each time an instance says that the accounts added through the gateway
    /// changed ([`Announcer::accounts_changed`]), from the moment this instance joined; once.
    pub fn account_changes(&mut self) -> Option<Notices> {
        self.account_changes.take()
    }

    /// What tells the instances (this one too) that the gateway's accounts changed.
    pub fn announcer(&self) -> Announcer {
        Announcer {
            client: self.client.clone(),
            seal: self.seal.clone(),
        }
    }

    /// Where the accounts running here publish their events for the other instances.
    pub fn outbox(&self) -> &events::Outbox {
        &self.outbox
    }

    /// Give every account event the other instances publish to `take` (account id, update).
    pub async fn take_account_events(
        &self,
        take: impl Fn(i64, serde_json::Value) + Send + 'static,
    ) -> Result<(), ClusterError> {
        events::take_others(
            self.client.clone(),
            self.seal.clone(),
            self.instance.clone(),
            take,
        )
        .await
        .map_err(|e| ClusterError::Connect {
            url: "the cluster's NATS server".into(),
            message: e.to_string(),
        })
    }

    /// The view, changed on every renewal.
    pub fn view(&self) -> watch::Receiver<View> {
        self.view.clone()
    }

    /// Give the lease up (its key deleted, so the others take this instance's bots as soon as
    /// their claims are let go); the view says it is not held from then on.
    pub async fn leave(&mut self) {
        if let Some((leave, kept)) = self.keeping.take() {
            let _ = leave.send(());
            let _ = kept.await;
        }
    }
}

/// The notices of one kind the instances send (that the bots, or the accounts, added
/// through the gateway changed); one that does not open is dropped.
pub struct Notices {
    subscriber: async_nats::Subscriber,
    seal: Arc<Seal>,
}

impl Notices {
    /// The next notice that opens; `None` once NATS ended the subscription.
    pub async fn next(&mut self) -> Option<()> {
        loop {
            let message = self.subscriber.next().await?;
            if self.seal.open(&message.subject, &message.payload).is_some() {
                return Some(());
            }
        }
    }
}

/// Tells every instance of the cluster that what the gateway added changed in the store.
#[derive(Clone)]
pub struct Announcer {
    client: async_nats::Client,
    seal: Arc<Seal>,
}

impl Announcer {
    /// Tell every instance (this one too) that the accounts added through the gateway
    /// changed (one was added or removed in the store), so each takes the store's list again.
    pub async fn accounts_changed(&self) {
        self.tell(ACCOUNTS_CHANGED, "accounts").await;
    }

    async fn tell(&self, subject: &'static str, what: &str) {
        let sent = match self
            .client
            .publish(subject, self.seal.seal(subject, b""))
            .await
        {
            // Not waited for past TELL_WAIT while the server is out of reach.
            Ok(()) => match tokio::time::timeout(TELL_WAIT, self.client.flush()).await {
                Ok(flushed) => flushed.map_err(|e| e.to_string()),
                Err(_) => Err(format!("NATS did not confirm within {TELL_WAIT:?}")),
            },
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = sent {
            tracing::error!(
                "cluster: cannot tell the other instances that the gateway's {what} changed ({e}); they learn it when they start"
            );
        }
    }
}

/// The options to connect to NATS with: `config`'s credentials and TLS (required when any
/// TLS key is set); its secrets kept out of the log from now on.
async fn authenticated(config: &ClusterConfig) -> Result<async_nats::ConnectOptions, ClusterError> {
    let secrets = &config.secrets;
    for secret in [
        &secrets.key,
        &secrets.nkey_seed,
        &secrets.password,
        &secrets.token,
    ]
    .into_iter()
    .flatten()
    {
        crate::logging::add_secret(secret.expose());
    }
    let mut options = async_nats::ConnectOptions::new();
    if let Some(file) = &config.nats_creds_file {
        options = options
            .credentials_file(file)
            .await
            .map_err(|e| ClusterError::Credentials {
                file: file.display().to_string(),
                message: e.to_string(),
            })?;
    }
    if let Some(seed) = &secrets.nkey_seed {
        options = options.nkey(seed.expose().to_string());
    }
    if let (Some(user), Some(password)) = (&config.nats_user, &secrets.password) {
        options = options.user_and_password(user.clone(), password.expose().to_string());
    }
    if let Some(token) = &secrets.token {
        options = options.token(token.expose().to_string());
    }
    if let Some(ca) = &config.nats_ca_file {
        options = options.add_root_certificates(ca.clone());
    }
    if let (Some(cert), Some(key)) = (&config.nats_cert_file, &config.nats_key_file) {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    if config.nats_tls() {
        options = options.require_tls(true);
    }
    Ok(options)
}

/// Why the lease bucket is unusable.
enum BucketError {
    /// It exists with another lease length.
    Mismatch(Duration),
    /// JetStream refused.
    JetStream(String),
}

/// The lease bucket, created (entries expiring after `ttl`) by the first instance.
async fn bucket(js: &jetstream::Context, ttl: Duration) -> Result<kv::Store, BucketError> {
    if let Ok(bucket) = js.get_key_value(BUCKET).await {
        return same_lease(bucket, ttl).await;
    }
    // The bucket's stream as `create_key_value` would make it: that call first asks for the
    // account's info, which async-nats 0.51 cannot read from servers before 2.10 (Debian's
    // nats-server is 2.9), though the bucket itself needs nothing newer. Creating the same
    // stream twice is not an error, but two instances creating it at once may be told their
    // subjects overlap: the bucket is there all the same.
    let created = js
        .create_stream(jetstream::stream::Config {
            name: format!("KV_{BUCKET}"),
            description: Some("tgscript instances' leases".into()),
            subjects: vec![format!("$KV.{BUCKET}.>")],
            max_messages_per_subject: 1,
            max_age: ttl,
            storage: jetstream::stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: jetstream::stream::DiscardPolicy::New,
            num_replicas: 1,
            ..Default::default()
        })
        .await;
    match js.get_key_value(BUCKET).await {
        Ok(bucket) => same_lease(bucket, ttl).await,
        Err(e) => Err(BucketError::JetStream(match created {
            Err(refused) => refused.to_string(),
            Ok(_) => e.to_string(),
        })),
    }
}

/// `bucket`, if its entries expire after `ttl` like this instance's lease.
async fn same_lease(bucket: kv::Store, ttl: Duration) -> Result<kv::Store, BucketError> {
    let status = bucket
        .status()
        .await
        .map_err(|e| BucketError::JetStream(e.to_string()))?;
    let max_age = status.info.config.max_age;
    match max_age == ttl {
        true => Ok(bucket),
        false => Err(BucketError::Mismatch(max_age)),
    }
}

/// `url` as it may be shown: scheme, host and port, without a user, password or token.
fn without_credentials(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("nats", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_not_shown() {
        assert_eq!(
            without_credentials("nats://user:secret@10.0.0.1:4222"),
            "nats://10.0.0.1:4222"
        );
        assert_eq!(
            without_credentials("tls://s3cr3t-token@nats.example.com"),
            "tls://nats.example.com"
        );
        assert_eq!(
            without_credentials("127.0.0.1:4222"),
            "nats://127.0.0.1:4222"
        );
    }

    #[test]
    fn a_bot_is_mine_only_while_the_lease_is_held() {
        let live = vec!["a".to_string(), "b".to_string()];
        let held = View {
            held: true,
            live: live.clone(),
        };
        let owner = held.owner("bot").expect("an owner").to_string();
        assert!(held.is_mine(&owner, "bot"));
        let other = if owner == "a" { "b" } else { "a" };
        assert!(!held.is_mine(other, "bot"));
        let lost = View { held: false, live };
        assert!(!lost.is_mine(&owner, "bot"));
    }
}
