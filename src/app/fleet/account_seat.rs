//! This instance's part in the cluster's accounts: every account (of `[[account]]` and those
//! `add_account` kept in the store) is in the registry of every instance, but its client is
//! open on one instance only: the one the view gives it to, once that instance holds the
//! account's claim in the store (so no two instances ever open one TDLib database). Every
//! other instance holds a [`RemoteAccount`] in its place. An account that is no longer this
//! instance's is closed (TDLib flushes), and its claim let go, before another can open it.

use super::Fleet;
use crate::accounts::open::{self as accounts, Origin};
use crate::accounts::remote::{RemoteAccount, answer_for};
use crate::accounts::{Account, Accounts};
use crate::cluster::relay::Answering;
use crate::cluster::relay::{Owned, Relay};
use crate::config::AccountConfig;
use crate::store::Claim;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an account that failed to start here waits before it is tried again.
const RETRY_FAILED: Duration = Duration::from_secs(30);

/// An account whose client is open here.
struct Here {
    account: Arc<dyn Account>,
    answering: Answering,
    claim: Claim,
}

/// What this instance knows and holds of the cluster's accounts.
#[derive(Default)]
pub(super) struct AccountSeat {
    /// Every account of the cluster, by id, with where it comes from.
    wanted: BTreeMap<i64, (AccountConfig, Origin)>,
    /// The accounts open here.
    here: HashMap<i64, Here>,
    /// Accounts this instance should open whose claim another instance still holds.
    waiting: HashSet<i64>,
    /// Accounts that failed to start here, and when.
    failed: HashMap<i64, Instant>,
}

/// Account `spec` as this instance reaches it over `relay` while another runs it.
fn remote(relay: &Relay, accounts: &Accounts, spec: &AccountConfig) -> Arc<dyn Account> {
    RemoteAccount::follow(
        spec.id,
        spec.backend.name(),
        relay.clone(),
        accounts.hub(),
        &tokio::runtime::Handle::current(),
    )
}

impl AccountSeat {
    /// Account `id` could not start here (`why`): its `claim` let go, tried again later.
    async fn give_up(&mut self, id: i64, claim: Claim, why: &str) {
        tracing::error!(
            "account {id}: cannot start here: {why}; trying again in {} s",
            RETRY_FAILED.as_secs()
        );
        self.failed.insert(id, Instant::now());
        let _ = tokio::task::spawn_blocking(move || drop(claim)).await;
    }
}

impl Fleet<'_> {
    /// Take the cluster's accounts (`[[account]]`, then those the store keeps) into the
    /// registry, each reached on its owner until this instance owns it; and the events the
    /// other instances' accounts publish into this instance's hub.
    pub(super) async fn join_accounts(&mut self) -> Result<(), crate::app::AppError> {
        let Some(seat) = &self.seat else {
            return Ok(());
        };
        let hub = self.app.host().accounts().hub().clone();
        seat.membership
            .take_account_events(move |userbot_id, update| {
                hub.publish(crate::accounts::AccountEvent { userbot_id, update })
            })
            .await
            .map_err(|e| crate::app::AppError::Config(e.to_string()))?;
        for account in self.app.config().accounts.clone() {
            self.want_account(account, Origin::Configured);
        }
        self.follow_saved_accounts().await;
        Ok(())
    }

    /// Add account `spec` to the cluster's accounts (reached on its owner for now).
    fn want_account(&mut self, spec: AccountConfig, origin: Origin) {
        let id = spec.id;
        if self
            .seat
            .as_ref()
            .is_none_or(|seat| seat.accounts.wanted.contains_key(&id))
        {
            return;
        }
        if let Some(seat) = &mut self.seat {
            let accounts = self.app.host().accounts();
            accounts.replace(
                id,
                remote(seat.membership.relay(), accounts, &spec),
                spec.owner.as_deref(),
            );
            seat.accounts.wanted.insert(id, (spec, origin));
        }
    }

    /// Make the cluster's accounts added through the gateway those the store keeps now (an
    /// instance added or removed one): take in the new, forget the removed (closed here
    /// first when open here), then open those that are this instance's.
    pub(super) async fn follow_saved_accounts(&mut self) {
        let saved = match accounts::saved(self.app.host().store()) {
            Ok(saved) => saved,
            Err(e) => {
                tracing::error!("{e}");
                return;
            }
        };
        let Some(seat) = &self.seat else { return };
        let removed: Vec<i64> = seat
            .accounts
            .wanted
            .iter()
            .filter(|(_, (_, origin))| *origin == Origin::Added)
            .filter(|(id, _)| !saved.iter().any(|a| a.id == **id))
            .map(|(id, _)| *id)
            .collect();
        for id in removed {
            if let Some(seat) = &mut self.seat {
                seat.accounts.wanted.remove(&id);
                seat.accounts.failed.remove(&id);
                seat.accounts.waiting.remove(&id);
            }
            self.close_account_here(id).await;
            self.app.host().accounts().remove(id);
            tracing::info!("account {id}: removed through the gateway");
        }
        for spec in saved {
            let configured = self.app.config().accounts.iter().any(|a| a.id == spec.id);
            if !configured {
                self.want_account(spec, Origin::Added);
            }
        }
        self.rebalance_accounts().await;
    }

    /// Open here the accounts the view gives this instance (close the others first, their
    /// claims let go).
    pub(super) async fn rebalance_accounts(&mut self) {
        let Some(seat) = &self.seat else { return };
        let view = seat.membership.view().borrow().clone();
        let me = seat.membership.instance().to_string();
        let mine = |id: i64| view.is_mine(&me, &Owned::Account(id).key());
        let leaving: Vec<i64> = seat
            .accounts
            .here
            .keys()
            .copied()
            .filter(|id| !mine(*id))
            .collect();
        for id in leaving {
            self.close_account_here(id).await;
        }
        let Some(seat) = &self.seat else { return };
        let arriving: Vec<(AccountConfig, Origin)> = seat
            .accounts
            .wanted
            .values()
            .filter(|(spec, _)| mine(spec.id) && !seat.accounts.here.contains_key(&spec.id))
            .filter(|(spec, _)| {
                seat.accounts
                    .failed
                    .get(&spec.id)
                    .is_none_or(|at| at.elapsed() >= RETRY_FAILED)
            })
            .cloned()
            .collect();
        for (spec, origin) in arriving {
            self.open_account_here(spec, origin, &me).await;
        }
    }

    /// Claim account `spec` and open it here; while another instance holds it, wait.
    async fn open_account_here(&mut self, spec: AccountConfig, origin: Origin, me: &str) {
        let id = spec.id;
        let store = self.app.host().store().clone();
        let claimed = tokio::task::spawn_blocking(move || store.claim_account(id)).await;
        let Some(seat) = &mut self.seat else { return };
        let claim = match claimed {
            Ok(Ok(Some(claim))) => claim,
            Ok(Ok(None)) => {
                if seat.accounts.waiting.insert(id) {
                    tracing::info!(
                        "account {id}: this instance's now; waiting for its previous owner to close it"
                    );
                }
                return;
            }
            Ok(Err(e)) => return tracing::error!("account {id}: cannot claim it: {e}"),
            Err(e) => return tracing::error!("account {id}: cannot claim it: {e}"),
        };
        seat.accounts.waiting.remove(&id);
        let outbox = seat.membership.outbox().clone();
        let accounts = self.app.host().accounts();
        let events =
            accounts
                .sink(id)
                .forwarding(Arc::new(move |event: &crate::accounts::AccountEvent| {
                    outbox.publish(event.userbot_id, event.update.clone())
                }));
        let runtime = tokio::runtime::Handle::current();
        let account = match accounts::start(self.app.config(), &spec, origin, &runtime, events) {
            Ok(account) => account,
            Err(e) => return seat.accounts.give_up(id, claim, &e.to_string()).await,
        };
        let answering = match answer_for(seat.membership.relay(), id, account.clone()).await {
            Ok(answering) => answering,
            Err(e) => {
                // Closed before its claim is let go, like any account leaving this instance.
                account.close().await;
                return seat.accounts.give_up(id, claim, &e.to_string()).await;
            }
        };
        accounts.replace(id, account.clone(), spec.owner.as_deref());
        // In a cluster the instance running an account is the one to say it needs a login.
        tokio::spawn(accounts::warn_unless_logged_in(id, account.clone()));
        let here = Here {
            account,
            answering,
            claim,
        };
        seat.accounts.here.insert(id, here);
        tracing::info!("account {id}: running on instance {me}");
    }

    /// Close account `id` here, if it is open here: reached on its next owner from now on
    /// (when it is still the cluster's), the requests taken here answered, its client
    /// closed, then its claim let go.
    async fn close_account_here(&mut self, id: i64) {
        let Some(seat) = &mut self.seat else { return };
        let Some(here) = seat.accounts.here.remove(&id) else {
            return;
        };
        if let Some((spec, _)) = seat.accounts.wanted.get(&id) {
            let accounts = self.app.host().accounts();
            accounts.replace(
                id,
                remote(seat.membership.relay(), accounts, spec),
                spec.owner.as_deref(),
            );
        }
        here.answering.close().await;
        here.account.close().await;
        let _ = tokio::task::spawn_blocking(move || drop(here.claim)).await;
        tracing::info!("account {id}: closed here");
    }

    /// Close every account open here (the process stops).
    pub(super) async fn close_accounts(&mut self) {
        let open: Vec<i64> = match &self.seat {
            Some(seat) => seat.accounts.here.keys().copied().collect(),
            None => return,
        };
        // Each is reached on its next owner meanwhile, like any account leaving.
        for id in open {
            self.close_account_here(id).await;
        }
    }
}
