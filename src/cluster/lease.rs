//! An instance's lease: a key of its own in the lease bucket, created when it joins (or once
//! an earlier holder's has expired), updated with a revision check every fifth of the lease,
//! and held only while the last renewal is younger than three fifths of it — so the bots are
//! told to stop (within four fifths) before the lease can expire and another instance take
//! them over; each bot's claim in the store covers the rest. The key's value is sealed
//! ([`super::seal`]): a key whose value does not open (written by a NATS client without the
//! cluster key) is no live instance.

use super::View;
use super::seal::Seal;
use async_nats::jetstream::kv;
use futures::TryStreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// How often the lease is renewed and the live instances listed: a fifth of the lease.
pub(super) fn tick(ttl: Duration) -> Duration {
    ttl / 5
}

/// One instance's lease in `bucket`.
pub(super) struct Lease {
    bucket: kv::Store,
    seal: Arc<Seal>,
    instance: String,
    ttl: Duration,
    /// What this process writes as the key's value: its own, so that a write of its whose
    /// answer was lost (or a renewal NATS sent late, after a reconnect) is known as its own.
    mark: bytes::Bytes,
}

/// A write of the lease that NATS confirmed.
enum Written {
    /// Written now, at this revision.
    Now(u64),
    /// Found written by this process earlier (its answer lost), at this revision: it counts
    /// from no later than the last confirmed renewal.
    Earlier(u64),
}

/// How one try to create or renew the lease went wrong.
enum Refused {
    /// Another process holds the key (or a stopped one's has not expired yet).
    Exists,
    /// The key is gone or was written by someone else: the lease was lost.
    Lost,
    /// NATS did not answer, or answered an error.
    Failed(String),
}

impl Lease {
    /// The lease of `instance` in `bucket`, its value sealed with `seal`, lasting `ttl`
    /// unrenewed.
    pub(super) fn new(
        bucket: kv::Store,
        seal: Arc<Seal>,
        instance: String,
        ttl: Duration,
    ) -> Lease {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Lease {
            bucket,
            seal,
            instance,
            ttl,
            mark: format!("{}-{started}", std::process::id()).into(),
        }
    }

    /// The subject a key's value is sealed for.
    fn subject(key: &str) -> String {
        format!("$KV.{}.{key}", super::BUCKET)
    }

    /// This process's mark, sealed as the value of its key.
    fn sealed_mark(&self) -> bytes::Bytes {
        self.seal.seal(&Self::subject(&self.instance), &self.mark)
    }

    /// What `key`'s value `value` says, if it opens and was written within the lease.
    fn opened(&self, key: &str, value: &[u8]) -> Option<bytes::Bytes> {
        self.seal
            .open_kept(&Self::subject(key), value, self.ttl)
            .map(|opened| opened.payload)
    }

    /// How long after its last renewal the lease still counts as held.
    fn margin(&self) -> Duration {
        self.ttl * 3 / 5
    }

    /// Keep the lease until `leave`, sending the view after every try; then delete the key.
    pub(super) async fn keep(self, views: watch::Sender<View>, mut leave: oneshot::Receiver<()>) {
        let mut revision: Option<u64> = None;
        let mut renewed = Instant::now();
        let (mut waiting, mut failing, mut was_held) = (false, false, false);
        let mut ticks = tokio::time::interval(tick(self.ttl));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut leave => break,
                _ = ticks.tick() => {}
            }
            // The server dates the write no earlier than this: the margin counts from here.
            let asked = Instant::now();
            let tried = match revision {
                None => self.create().await,
                Some(revision) => self.renew(revision).await,
            };
            match tried {
                Ok(written) => {
                    let next = match written {
                        Written::Now(next) => {
                            renewed = asked;
                            next
                        }
                        Written::Earlier(next) => next,
                    };
                    if revision.is_none() {
                        tracing::info!(
                            "cluster: instance {} holds its lease (revision {next})",
                            self.instance
                        );
                    }
                    (revision, waiting, failing) = (Some(next), false, false);
                }
                Err(Refused::Exists) if !waiting => {
                    waiting = true;
                    tracing::warn!(
                        "cluster: the lease of instance {} is held by another process with this name, or by one stopped less than {} ms ago; waiting for it",
                        self.instance,
                        self.ttl.as_millis()
                    );
                }
                Err(Refused::Exists) => {}
                Err(Refused::Lost) => {
                    revision = None;
                    tracing::warn!(
                        "cluster: instance {} lost its lease (it expired, or another process took the name); taking it again",
                        self.instance
                    );
                }
                Err(Refused::Failed(e)) => {
                    if !failing {
                        tracing::warn!(
                            "cluster: cannot renew the lease of instance {} ({e}); its bots stop if this lasts {} ms",
                            self.instance,
                            self.margin().as_millis()
                        );
                    }
                    failing = true;
                }
            }
            let held = revision.is_some() && renewed.elapsed() < self.margin();
            if was_held && !held {
                tracing::warn!(
                    "cluster: instance {} has no renewed lease: stopping its bots before the lease can expire",
                    self.instance
                );
            }
            was_held = held;
            let live = match held {
                true => self.live().await,
                false => None,
            };
            views.send_modify(|view| {
                view.held = held;
                if let Some(live) = live.filter(|live| *live != view.live) {
                    tracing::info!("cluster: live instances: {}", live.join(", "));
                    view.live = live;
                }
                if !held {
                    view.live.retain(|name| *name != self.instance);
                }
            });
        }
        views.send_replace(View::default());
        if let Some(revision) = revision {
            // Only its own key: a process that took the name since is left alone.
            let delete = self
                .bucket
                .delete_expect_revision(&self.instance, Some(revision));
            match tokio::time::timeout(tick(self.ttl), delete).await {
                Ok(Ok(())) => tracing::info!("cluster: instance {} left", self.instance),
                _ => tracing::warn!(
                    "cluster: instance {} could not give its lease back; it expires in {} ms",
                    self.instance,
                    self.ttl.as_millis()
                ),
            }
        }
    }

    /// Create the key: the lease is this instance's from now on.
    async fn create(&self) -> Result<Written, Refused> {
        let create = self.bucket.create(&self.instance, self.sealed_mark());
        match tokio::time::timeout(tick(self.ttl), create).await {
            Ok(Ok(revision)) => Ok(Written::Now(revision)),
            Ok(Err(e)) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                self.own_write().await.ok_or(Refused::Exists)
            }
            Ok(Err(e)) => Err(Refused::Failed(e.to_string())),
            Err(_) => Err(Refused::Failed("no answer in time".into())),
        }
    }

    /// Renew the key written at `revision`.
    async fn renew(&self, revision: u64) -> Result<Written, Refused> {
        let update = self
            .bucket
            .update(&self.instance, self.sealed_mark(), revision);
        match tokio::time::timeout(tick(self.ttl), update).await {
            Ok(Ok(revision)) => Ok(Written::Now(revision)),
            Ok(Err(e)) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                self.own_write().await.ok_or(Refused::Lost)
            }
            Ok(Err(e)) => Err(Refused::Failed(e.to_string())),
            Err(_) => Err(Refused::Failed("no answer in time".into())),
        }
    }

    /// The key's revision if this process wrote it (a write whose answer it never got).
    async fn own_write(&self) -> Option<Written> {
        let entry = tokio::time::timeout(tick(self.ttl), self.bucket.entry(&self.instance));
        match entry.await {
            Ok(Ok(Some(entry)))
                if entry.operation == kv::Operation::Put
                    && self.opened(&self.instance, &entry.value).as_deref()
                        == Some(&self.mark[..]) =>
            {
                Some(Written::Earlier(entry.revision))
            }
            _ => None,
        }
    }

    /// The live instances (this one included), sorted; `None` when NATS did not say. A key
    /// whose value does not open is left out.
    async fn live(&self) -> Option<Vec<String>> {
        let listed = async {
            let keys = self.bucket.keys().await.map_err(|e| e.to_string())?;
            let keys = keys
                .try_collect::<Vec<String>>()
                .await
                .map_err(|e| e.to_string())?;
            let mut live = Vec::with_capacity(keys.len());
            for key in keys {
                let entry = self.bucket.entry(&key).await.map_err(|e| e.to_string())?;
                if let Some(entry) = entry.filter(|e| e.operation == kv::Operation::Put)
                    && self.opened(&key, &entry.value).is_some()
                {
                    live.push(key);
                }
            }
            Ok::<_, String>(live)
        };
        match tokio::time::timeout(tick(self.ttl), listed).await {
            Ok(Ok(mut live)) => {
                if !live.contains(&self.instance) {
                    live.push(self.instance.clone());
                }
                live.sort();
                Some(live)
            }
            Ok(Err(e)) => {
                tracing::debug!("cluster: cannot list the live instances: {e}");
                None
            }
            Err(_) => None,
        }
    }
}
