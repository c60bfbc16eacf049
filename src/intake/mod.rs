//! Updates in, for every source one way: a bot's updates — fetched by long polling
//! ([`polling`]), delivered to its webhook ([`webhook`]), taken from a cluster's stream
//! ([`feed`]), made here from account events ([`account_events`]) and due jobs ([`timers`]),
//! or queued again by `inbox retry` ([`requeued`]) — go through its [`Intake`], which keeps
//! them in the bot's inbox (on disk) before they are acknowledged to their source, and hands
//! them to the bot's dispatcher only then. So nothing acknowledged is lost in a crash, and
//! nothing is dispatched twice. Without an inbox (`[inbox] enabled = false`) the same steps
//! run and nothing is kept ([`Keeper::Nothing`]).
//!
//! While [`MAX_BACKLOG`] updates wait for their handlers, what comes next is held back in the
//! inbox (its id in memory) and handed on, oldest first, as the handlers catch up — except
//! the queries Telegram waits on (pre-checkout, shipping), which go to the dispatcher at once
//! and run ahead. So fetching never stops, and a payment is answered in time however long
//! the queue. Without an inbox nothing can be held: polling pauses instead.

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
use crate::telegram::update;
use serde_json::Value;
use status::BotStatus;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;
use tokio::sync::watch::Receiver;
use tokio::task::JoinHandle;

/// How many taken updates may wait for their handlers before more are held back (in the
/// inbox; without one, polling pauses): the rest wait on disk or at Telegram, not in memory.
pub const MAX_BACKLOG: u64 = 1000;
/// How many held updates are read back from the inbox at a time.
const RELEASE_BATCH: usize = 100;

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
    /// Updates kept in the inbox and held back while the handlers were busy, oldest first.
    held: Mutex<VecDeque<(i64, Origin)>>,
    /// Told when updates are held.
    held_more: Notify,
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
            held: Mutex::default(),
            held_more: Notify::new(),
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
        self.spawn(self.clone().release_held(stopped.clone()));
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

    /// Hand `updates` to the dispatcher, or hold them back (kept in the inbox) while it has
    /// [`MAX_BACKLOG`] waiting or holds some already — but for those that run ahead.
    fn hand(&self, updates: Vec<Value>, origin: Origin) {
        if self.inbox().is_none() {
            updates
                .into_iter()
                .for_each(|update| self.dispatcher.dispatch(update, origin));
            return;
        }
        let progress = self.dispatcher.progress();
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let before = held.len();
        for update in updates {
            let busy = !held.is_empty() || progress.backlog() >= MAX_BACKLOG;
            match (
                busy && !update::runs_ahead(&update),
                update["update_id"].as_i64(),
            ) {
                (true, Some(id)) => held.push_back((id, origin)),
                _ => self.dispatcher.dispatch(update, origin),
            }
        }
        if held.len() > before {
            if before == 0 {
                tracing::info!(
                    "bot {}: {MAX_BACKLOG} updates wait for their handlers; the next ones wait in the inbox until they catch up",
                    self.bot
                );
            }
            self.held_more.notify_one();
        }
    }

    /// Hand the held updates to the dispatcher as it catches up (below half of
    /// [`MAX_BACKLOG`]), oldest first, [`RELEASE_BATCH`] at a time, until `stop`; what is
    /// still held then stays pending in the inbox for the next start.
    async fn release_held(self: Arc<Self>, mut stop: Receiver<bool>) {
        let Some(inbox) = self.inbox().cloned() else {
            return;
        };
        let progress = self.dispatcher.progress();
        loop {
            let first: Vec<(i64, Origin)> = self
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .take(RELEASE_BATCH)
                .copied()
                .collect();
            if first.is_empty() {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    _ = self.held_more.notified() => continue,
                }
            }
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = progress.wait_backlog_below(MAX_BACKLOG / 2) => {}
            }
            let ids: Vec<i64> = first.iter().map(|(id, _)| *id).collect();
            let reader = inbox.clone();
            let read = match tokio::task::spawn_blocking(move || reader.pending_of(&ids)).await {
                Ok(read) => read.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let mut updates: HashMap<i64, Value> = match read {
                Ok(updates) => updates
                    .into_iter()
                    .filter_map(|u| Some((u["update_id"].as_i64()?, u)))
                    .collect(),
                Err(why) => {
                    tracing::warn!(
                        "bot {}: held updates cannot be read back from the inbox ({why}); trying again",
                        self.bot
                    );
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                    }
                }
            };
            // Handed on under the lock, so nothing newer overtakes them; only this task
            // takes from the front.
            let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            for (id, origin) in held.drain(..first.len()) {
                if let Some(update) = updates.remove(&id) {
                    self.dispatcher.dispatch(update, origin);
                }
            }
        }
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
        // Albums half-received gather on, their waiting parts and new ones joining them.
        for album in inbox.open_albums()? {
            self.dispatcher.reopen(album);
        }
        self.hand_stored(left.waiting);
        Ok(())
    }
}
