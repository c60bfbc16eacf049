//! Updates in, for every source one way: a bot's updates — fetched by long polling
//! ([`polling`]), delivered to its webhook ([`webhook`]), taken from a cluster's stream
//! ([`feed`]), made here from account events ([`account_events`]) and due jobs ([`timers`]),
//! or queued again by `inbox retry` ([`requeued`]) — go through its [`Intake`], which keeps
//! them in the bot's inbox (on disk) before they are acknowledged to their source, and hands
//! them to the bot's dispatcher only then. So nothing acknowledged is lost in a crash, and
//! nothing is dispatched twice. Without an inbox (`[inbox] enabled = false`) the same steps
//! run and nothing is kept ([`Keeper::Nothing`]).

pub mod account_events;
pub mod feed;
pub mod polling;
pub mod requeued;
pub mod status;
pub mod timers;
pub mod webhook;

use crate::cluster::ingress::Feed;
use crate::config::BotMode;
use crate::inbox::{Inbox, InboxError, Origin};
use crate::scenario::dispatch::Dispatcher;
use crate::store::sql::Connection;
use crate::store::{Store, StoreError};
use crate::telegram::BotClient;
use crate::telegram::polling::Poller;
use serde_json::Value;
use status::BotStatus;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch::Receiver;
use tokio::task::JoinHandle;

/// Why updates could not be taken in: nothing of them was kept, acknowledged or dispatched.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The inbox (or the store) refused them.
    #[error(transparent)]
    Inbox(#[from] InboxError),
    /// The store refused them (no inbox: a due job could not be taken out).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blocking thread that kept them ended badly.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Where a bot's updates are kept before they are acknowledged.
enum Keeper {
    /// In its inbox, on disk.
    Inbox(Arc<Inbox>),
    /// Nowhere (`[inbox] enabled = false`); updates of this process's own making get ids
    /// from memory, each lower than the last.
    Nothing {
        store: Arc<Store>,
        last_local_id: Mutex<i64>,
    },
}

/// A bot's updates in: kept, acknowledged, dispatched, in that order, whatever their source.
pub struct Intake {
    bot: String,
    keeper: Keeper,
    dispatcher: Arc<Dispatcher>,
    status: Arc<BotStatus>,
    /// The sources besides the poller (retries, timers, account events): joined when the bot
    /// stops, before its handlers are waited for.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Intake {
    /// Bot `bot`'s intake: into `inbox` (none: nothing kept; `store` then serves the
    /// transactions that take due jobs out), handed to `dispatcher`, each source's health
    /// noted in `status`.
    pub fn new(
        bot: &str,
        inbox: Option<Arc<Inbox>>,
        store: Arc<Store>,
        dispatcher: Arc<Dispatcher>,
        status: Arc<BotStatus>,
    ) -> Self {
        let keeper = match inbox {
            Some(inbox) => Keeper::Inbox(inbox),
            None => Keeper::Nothing {
                store,
                last_local_id: Mutex::new(0),
            },
        };
        Intake {
            bot: bot.to_string(),
            keeper,
            dispatcher,
            status,
            tasks: Mutex::default(),
        }
    }

    /// Run `source` (retries, timers, account events) beside the poller until the bot stops;
    /// [`Self::wind_down`] waits for it.
    pub fn spawn(&self, source: impl Future<Output = ()> + Send + 'static) {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tokio::spawn(source));
    }

    /// Start the sources besides the poller, until `stopped`: updates `inbox retry` queued,
    /// due jobs (on `clock`), and the account `events` the bot's scenarios take.
    pub fn start_sources(
        self: &Arc<Self>,
        events: Arc<crate::accounts::events::Subscription>,
        clock: Arc<crate::clock::Clock>,
        stopped: Receiver<bool>,
    ) {
        self.spawn(requeued::take_requeued(self.clone(), stopped.clone()));
        let timers = timers::Timers {
            intake: self.clone(),
            store: self.store().clone(),
            clock,
        };
        self.spawn(timers::run(timers, stopped.clone()));
        self.spawn(account_events::forward(events, self.clone(), stopped));
    }

    /// Once the bot is told to stop: wait for its sources besides the poller (nothing of
    /// theirs is dispatched after this; in a cluster, another instance may take the bot
    /// next), then for its running handlers.
    pub async fn wind_down(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            if let Err(e) = task.await {
                tracing::warn!("bot {}: a task ended badly: {e}", self.bot);
            }
        }
        self.dispatcher.finish().await;
    }

    /// Serve the bot of `client` (its updates coming as `mode` says) until `stop`: poll it,
    /// or probe its webhook while its deliveries come to the listener (in a cluster, from
    /// its `feed`); then wind down. A polling bot's last handled updates are on disk before
    /// their offset is confirmed to Telegram.
    pub async fn serve(
        &self,
        client: BotClient,
        mode: BotMode,
        stop: Receiver<bool>,
        feed: Option<Feed>,
    ) {
        if mode == BotMode::Webhook {
            match feed {
                Some(feed) => {
                    tokio::join!(
                        webhook::probe(self, &client, stop.clone()),
                        feed::consume(self, feed, stop)
                    );
                }
                None => webhook::probe(self, &client, stop).await,
            }
            self.wind_down().await;
            return;
        }
        polling::remove_webhook(&self.bot, &client).await;
        let mut poller = Poller::new(client, polling::POLL_TIMEOUT);
        polling::poll(&mut poller, self, stop).await;
        self.wind_down().await;
        // The last completion marks are queued: on disk before the offset is confirmed.
        self.store().flush();
        if let Err(e) = poller.confirm().await {
            tracing::debug!(
                "bot {}: could not confirm the last updates (they come again and are skipped): {e}",
                self.bot
            );
        }
    }

    /// The store the bot's updates (and their completion marks) are written to.
    fn store(&self) -> &Arc<Store> {
        match &self.keeper {
            Keeper::Inbox(inbox) => inbox.store(),
            Keeper::Nothing { store, .. } => store,
        }
    }

    /// The bot's id.
    pub fn bot(&self) -> &str {
        &self.bot
    }

    /// How the bot's sources are doing (for `/health`).
    pub fn status(&self) -> &Arc<BotStatus> {
        &self.status
    }

    /// The dispatcher the updates are handed to.
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// The inbox updates are kept in, unless `[inbox] enabled = false`.
    pub fn inbox(&self) -> Option<&Arc<Inbox>> {
        match &self.keeper {
            Keeper::Inbox(inbox) => Some(inbox),
            Keeper::Nothing { .. } => None,
        }
    }

    /// Take `batch` from a source: keep it (on disk before this goes on), then
    /// `acknowledge` it to the source, then dispatch the updates not seen before. When it
    /// cannot be kept, it is not acknowledged (the source gives it again) and nothing is
    /// dispatched. Returns what the acknowledgement returned.
    pub async fn take<T, A: Future<Output = T>>(
        &self,
        batch: Vec<Value>,
        acknowledge: impl FnOnce() -> A,
    ) -> Result<T, IntakeError> {
        let fresh = match &self.keeper {
            Keeper::Nothing { .. } => batch,
            Keeper::Inbox(inbox) => {
                let inbox = inbox.clone();
                tokio::task::spawn_blocking(move || inbox.accept(&batch))
                    .await
                    .map_err(|e| IntakeError::Internal(e.to_string()))??
            }
        };
        let acknowledged = acknowledge().await;
        self.hand(fresh, Origin::Fetched);
        Ok(acknowledged)
    }

    /// Take updates of this process's own making (account events, due jobs): `make` builds
    /// them inside one transaction, with ids from `next_id` (negative, each lower than the
    /// last), and whatever else it writes there (a due job taken out) commits with them or
    /// not at all; then they are dispatched. Returns them, as dispatched.
    pub(crate) async fn take_made<F>(self: &Arc<Self>, make: F) -> Result<Vec<Value>, IntakeError>
    where
        F: FnOnce(
                &Connection,
                &mut dyn FnMut(&Connection) -> Result<i64, StoreError>,
            ) -> Result<Vec<Value>, StoreError>
            + Send
            + 'static,
    {
        let intake = self.clone();
        let made = tokio::task::spawn_blocking(move || intake.keep_made(make))
            .await
            .map_err(|e| IntakeError::Internal(e.to_string()))??;
        self.hand(made.clone(), Origin::Fetched);
        Ok(made)
    }

    /// [`Self::take_made`]'s keeping, on a blocking thread.
    fn keep_made<F>(&self, make: F) -> Result<Vec<Value>, IntakeError>
    where
        F: FnOnce(
            &Connection,
            &mut dyn FnMut(&Connection) -> Result<i64, StoreError>,
        ) -> Result<Vec<Value>, StoreError>,
    {
        match &self.keeper {
            Keeper::Inbox(inbox) => {
                Ok(inbox.accept_made(|tx| make(tx, &mut |tx| inbox.local_update_id(tx)))?)
            }
            Keeper::Nothing {
                store,
                last_local_id,
            } => Ok(store.transaction(|tx| {
                make(tx, &mut |_| {
                    let mut last = last_local_id.lock().unwrap_or_else(PoisonError::into_inner);
                    *last = crate::inbox::local_id_after(*last);
                    Ok(*last)
                })
            })?),
        }
    }

    /// Hand updates kept earlier (what a previous run left, or what `inbox retry` queued)
    /// to the dispatcher.
    pub fn hand_stored(&self, updates: Vec<Value>) {
        self.hand(updates, Origin::Stored);
    }

    fn hand(&self, updates: Vec<Value>, origin: Origin) {
        updates
            .into_iter()
            .for_each(|update| self.dispatcher.dispatch(update, origin));
    }

    /// Hand what a previous run left to the dispatcher before anything new. The first
    /// update of each chat may have been running when the process stopped: those run one at
    /// a time, so a crash they cause is counted against them alone.
    pub async fn resume(&self) -> Result<(), InboxError> {
        let Keeper::Inbox(inbox) = &self.keeper else {
            return Ok(());
        };
        let left = inbox.unfinished()?;
        let count = left.interrupted.len() + left.waiting.len();
        if count > 0 {
            tracing::info!(
                "inbox: {count} update(s) left unfinished or queued for a retry; handling them first"
            );
        }
        let progress = self.dispatcher.progress();
        for update in left.interrupted {
            let before = progress.handled();
            self.dispatcher.dispatch(update, Origin::Stored);
            progress.wait_handled(before + 1).await;
        }
        self.hand_stored(left.waiting);
        Ok(())
    }
}
