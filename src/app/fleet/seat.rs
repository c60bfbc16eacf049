//! This instance's seat in a cluster: every bot of the cluster is wanted, and each runs here
//! while the view ([`crate::cluster::View`]) says it is this instance's and this instance
//! holds its claim in the store; a bot that is no longer its own is stopped, and its claim
//! let go, before another instance can claim it.

use super::Fleet;
use crate::app::bots::{BotSetup, BotSource};
use crate::cluster::{Membership, View};
use crate::config::BotConfig;
use crate::effects::Effects;
use crate::gateway::elsewhere::Elsewhere;
use crate::store::Claim;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a bot that failed to start here waits before it is tried again.
const RETRY_FAILED: Duration = Duration::from_secs(30);

/// What this instance knows and holds of the cluster's bots.
pub(super) struct Seat {
    pub(super) membership: Membership,
    /// The cluster's accounts, as this instance holds them.
    pub(super) accounts: super::account_seat::AccountSeat,
    /// Every bot of the cluster, by id.
    wanted: BTreeMap<String, BotSetup>,
    /// The claims on the bots running here.
    claims: HashMap<String, Claim>,
    /// Bots this instance should run whose claim another instance still holds (logged once).
    waiting: HashSet<String>,
    /// Bots that failed to start here, and when: tried again after [`RETRY_FAILED`].
    failed: HashMap<String, Instant>,
    /// The cluster's bots as the gateway reaches them (their ids kept as `wanted`'s).
    elsewhere: Elsewhere,
}

impl Seat {
    /// The seat of `membership`, with no bot yet.
    pub(super) fn new(membership: Membership) -> Seat {
        let elsewhere = Elsewhere::new(
            membership.instance(),
            membership.view(),
            membership.relay().clone(),
        );
        Seat {
            membership,
            accounts: Default::default(),
            elsewhere,
            wanted: BTreeMap::new(),
            claims: HashMap::new(),
            waiting: HashSet::new(),
            failed: HashMap::new(),
        }
    }

    /// Add (or replace) a bot of the cluster.
    pub(super) fn want(&mut self, setup: BotSetup) {
        self.failed.remove(&setup.id);
        let tenant = setup
            .host
            .caller()
            .map_or(setup.id.as_str(), crate::effects::Caller::tenant_name)
            .to_string();
        self.known().insert(setup.id.clone(), tenant);
        self.wanted.insert(setup.id.clone(), setup);
    }

    /// The ids the gateway knows, to change.
    fn known(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, String>> {
        self.elsewhere
            .bots
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cluster's bots as the gateway reaches them.
    pub(super) fn elsewhere(&self) -> &Elsewhere {
        &self.elsewhere
    }

    /// Gateway requests to the owners of bots.
    pub(super) fn relay(&self) -> &crate::cluster::relay::Relay {
        self.membership.relay()
    }

    /// Take bot `id` out of the cluster's bots.
    pub(super) fn unwant(&mut self, id: &str) {
        self.wanted.remove(id);
        self.known().remove(id);
        self.failed.remove(id);
        self.waiting.remove(id);
    }

    /// Whether bot `id` is one of the cluster's bots.
    pub(super) fn wants(&self, id: &str) -> bool {
        self.wanted.contains_key(id)
    }

    /// Where bot `id` of the cluster comes from.
    pub(super) fn source(&self, id: &str) -> Option<BotSource> {
        self.wanted.get(id).map(|setup| setup.source.clone())
    }

    /// Tell the other instances that a bot was added or removed over the gateway.
    pub(super) async fn tell_bots_changed(&self) {
        self.membership.bots_changed().await;
    }

    /// Where each bot of the cluster comes from, by id.
    pub(super) fn sources(&self) -> impl Iterator<Item = (&String, &BotSource)> {
        self.wanted.iter().map(|(id, setup)| (id, &setup.source))
    }

    /// What tells this instance that another one added or removed a bot over the gateway.
    pub(super) fn bot_changes(&mut self) -> Option<crate::cluster::Notices> {
        self.membership.bot_changes()
    }

    /// Let go of the claim on bot `id` (stopped here).
    pub(super) async fn release(&mut self, id: &str) {
        if let Some(claim) = self.claims.remove(id) {
            let _ = tokio::task::spawn_blocking(move || drop(claim)).await;
        }
    }

    /// The cluster's bots that come from `[[bot]]`.
    pub(super) fn configured(&self) -> BTreeMap<String, BotConfig> {
        self.wanted
            .values()
            .filter_map(|setup| match &setup.source {
                BotSource::Config(config) => Some((setup.id.clone(), config.clone())),
                _ => None,
            })
            .collect()
    }

    /// The cluster's webhook ingress.
    pub(super) fn ingress(&self) -> &crate::cluster::ingress::Ingress {
        self.membership.ingress()
    }

    /// Give the lease up before the bots stop: the others take each as soon as its claim
    /// is let go here.
    pub(super) async fn leave(&mut self) {
        self.membership.leave().await;
    }
}

/// Resolves when an instance said that the bots (or accounts) added through the gateway
/// changed; never without a cluster (or once NATS ended the subscription).
pub(super) async fn changed(changes: &mut Option<crate::cluster::Notices>) -> Option<()> {
    match changes {
        Some(changes) => match changes.next().await {
            Some(_) => Some(()),
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Resolves when `view` changes (`true`), or when the lease is no longer kept (`false`);
/// never without a cluster.
pub(super) async fn view_changed(view: &mut Option<watch::Receiver<View>>) -> bool {
    match view {
        Some(view) => view.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

impl Fleet<'_> {
    /// Make the bots run here that the view gives this instance: stop the others first
    /// (their claims let go), then claim and start the new ones.
    pub(super) async fn rebalance(&mut self) {
        // Accounts first: the bots' scenarios use them.
        self.rebalance_accounts().await;
        let Some(seat) = &self.seat else { return };
        let view = seat.membership.view().borrow().clone();
        let me = seat.membership.instance().to_string();
        let leaving: Vec<String> = self
            .members
            .keys()
            .filter(|id| !view.is_mine(&me, id))
            .cloned()
            .collect();
        for id in leaving {
            match (view.held, view.owner(&id)) {
                (true, Some(owner)) => {
                    tracing::info!("bot {id}: handing it over to instance {owner}")
                }
                _ => tracing::info!("bot {id}: stopping it (this instance holds no lease)"),
            }
            self.stop_here(&id).await;
            tracing::info!("bot {id}: stopped here");
        }
        let Some(seat) = &self.seat else { return };
        let arriving: Vec<BotSetup> = seat
            .wanted
            .values()
            .filter(|s| view.is_mine(&me, &s.id))
            .filter(|s| !self.members.contains_key(&s.id))
            .filter(|s| {
                seat.failed
                    .get(&s.id)
                    .is_none_or(|at| at.elapsed() >= RETRY_FAILED)
            })
            .cloned()
            .collect();
        for setup in arriving {
            let id = setup.id.clone();
            let store = self.app.host().store().clone();
            let for_claim = id.clone();
            let claimed = tokio::task::spawn_blocking(move || store.claim_bot(&for_claim)).await;
            let Some(seat) = &mut self.seat else { return };
            let claim = match claimed {
                Ok(Ok(Some(claim))) => claim,
                Ok(Ok(None)) => {
                    if seat.waiting.insert(id.clone()) {
                        tracing::info!(
                            "bot {id}: this instance's now; waiting for its previous owner to stop it"
                        );
                    }
                    continue;
                }
                Ok(Err(e)) => {
                    tracing::error!("bot {id}: cannot claim it: {e}");
                    continue;
                }
                Err(e) => {
                    tracing::error!("bot {id}: cannot claim it: {e}");
                    continue;
                }
            };
            seat.waiting.remove(&id);
            seat.claims.insert(id.clone(), claim);
            match self.serve_here(setup).await {
                Ok(()) => tracing::info!("bot {id}: running on instance {me}"),
                Err(e) => {
                    tracing::error!(
                        "bot {id}: cannot start here: {e}; trying again in {} s",
                        RETRY_FAILED.as_secs()
                    );
                    if let Some(seat) = &mut self.seat {
                        seat.release(&id).await;
                        seat.failed.insert(id, Instant::now());
                    }
                }
            }
        }
    }
}
