//! Routing updates to scenario handlers: updates of one chat are handled in order, different
//! chats concurrently, queries Telegram waits on (pre-checkout, shipping) at once; handlers run on blocking threads; a failing handler is logged with its
//! location, handler name and update id, and everything else goes on.
//!
//! With an [`Inbox`], each handler that finishes is recorded, its calls are journaled, and an
//! update whose handlers fail is tried again (only the failed handlers) up to
//! `[inbox] max_attempts` times, then parked; later updates of its chat wait for that.

use super::albums::{Albums, Gathering};
use super::registry::Registry;
use super::route;
use super::runner::Runner;
use super::{Handler, Scenario};
use crate::effects::Effects;
use crate::inbox::{Failure, Inbox, Journaled, OpenAlbum, Origin};
use crate::lanes::Lanes;
use crate::store::Store;
use crate::telegram::UpdateContext;
use crate::telegram::{album, update};
use crate::telemetry;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Pause before the second try of a failing update; it doubles for each further try.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(200);
/// The longest pause between tries.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// How many of the last handled updates' ids [`Progress`] remembers.
const RECENT_IDS: usize = 1024;

/// Counts of updates taken in and fully handled, to wait for the dispatcher to go idle, and
/// the ids of the last ones handled, to wait for particular updates.
#[derive(Debug, Default)]
pub struct Progress {
    received: AtomicU64,
    handled: AtomicU64,
    recent: std::sync::Mutex<std::collections::VecDeque<i64>>,
    changed: Notify,
}

impl Progress {
    /// Update `id` (`None`: one without an id) was fully handled.
    fn handled_one(&self, id: Option<i64>) {
        if let Some(id) = id {
            let mut recent = self
                .recent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if recent.len() == RECENT_IDS {
                recent.pop_front();
            }
            recent.push_back(id);
        }
        self.handled.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// Wait until every update of `ids` has been handled (one of the last [`RECENT_IDS`]
    /// handled, should more have come meanwhile).
    pub async fn wait_updates(&self, ids: &[i64]) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let done = {
                let recent = self
                    .recent
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                ids.iter().all(|id| recent.contains(id))
            };
            if done {
                return;
            }
            changed.await;
        }
    }

    /// Updates taken in and not yet fully handled (queued or being handled).
    pub fn backlog(&self) -> u64 {
        self.received
            .load(Ordering::SeqCst)
            .saturating_sub(self.handled())
    }

    /// Updates fully handled so far.
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::SeqCst)
    }

    /// Wait until fewer than `limit` updates taken in are still to be handled.
    pub async fn wait_backlog_below(&self, limit: u64) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let received = self.received.load(Ordering::SeqCst);
            if received.saturating_sub(self.handled()) < limit {
                return;
            }
            changed.await;
        }
    }

    /// Wait until at least `count` updates have been handled.
    pub async fn wait_handled(&self, count: u64) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.handled() >= count {
                return;
            }
            changed.await;
        }
    }
}

/// What a chat's lane works on.
enum Work {
    /// An update, from where it came.
    Update(Arc<Value>, Origin),
    /// An album being gathered: handled once complete.
    Album(Arc<Gathering>),
}

/// Hands updates to per-chat workers that call the scenarios' handlers.
pub struct Dispatcher {
    lanes: Lanes<i64, Work>,
    progress: Arc<Progress>,
    albums: Arc<Albums>,
    /// Its bot (metrics label).
    bot: String,
}

impl Dispatcher {
    /// A dispatcher over the scenarios of `registry` (called in file-name order for each
    /// update; each try sees one version of the set, even across a reload), recording in
    /// `inbox` what was handled; an album is complete once no part of it came for
    /// `album_wait`.
    pub fn new(registry: Arc<Registry>, inbox: Option<Arc<Inbox>>, album_wait: Duration) -> Self {
        let progress = Arc::new(Progress::default());
        let bot = registry.bot().to_string();
        let albums = Arc::new(Albums::default());
        let worker = Arc::new(ChatWorker {
            registry,
            inbox,
            progress: progress.clone(),
            albums: albums.clone(),
            album_wait,
            last_album_id: AtomicI64::new(0),
        });
        let lanes = Lanes::new(move |work: Work| {
            let worker = worker.clone();
            async move {
                match work {
                    Work::Update(update, origin) => worker.handle_counted(&update, origin).await,
                    Work::Album(gathering) => worker.album(&gathering).await,
                }
            }
        });
        Self {
            lanes,
            progress,
            albums,
            bot,
        }
    }

    /// How far handling has got.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Queue `update` (from `origin`) behind the earlier updates of its chat, or run it at
    /// once if it runs ahead ([`update::runs_ahead`]: a query Telegram waits on). Must be
    /// called within the runtime. After [`Self::finish`] began, updates are not taken (the
    /// inbox keeps them for the next start).
    pub fn dispatch(&self, update: Value, origin: Origin) {
        let id = update["update_id"].clone();
        self.progress.received.fetch_add(1, Ordering::SeqCst);
        metrics::counter!(telemetry::UPDATES_RECEIVED, "bot" => self.bot.clone()).increment(1);
        let update = Arc::new(update);
        let taken = match update::runs_ahead(&update) {
            true => self.lanes.run_now(Work::Update(update.clone(), origin)),
            false => self.lanes.push(
                update::chat_key(&update),
                Work::Update(update.clone(), origin),
            ),
        };
        if !taken {
            self.progress.received.fetch_sub(1, Ordering::SeqCst);
            tracing::debug!("stopping: update {id} is left for the next start");
            return;
        }
        if let Some(part) = album::part(&update)
            && let Some(gathering) = self.albums.add(&part)
        {
            self.lanes.push(part.chat, Work::Album(gathering));
        }
    }

    /// Gather `album` on (its parts kept by the inbox before a restart), in its chat's
    /// order from here.
    pub fn reopen(&self, album: OpenAlbum) {
        let chat = album.chat;
        if let Some(gathering) = self.albums.reopen(album) {
            self.lanes.push(chat, Work::Album(gathering));
        }
    }

    /// Stop taking updates and wait until every queued and running handler has finished.
    pub async fn finish(&self) {
        self.lanes.finish().await;
    }
}

/// Handles the updates of one chat, one after another.
struct ChatWorker {
    registry: Arc<Registry>,
    inbox: Option<Arc<Inbox>>,
    progress: Arc<Progress>,
    albums: Arc<Albums>,
    album_wait: Duration,
    /// The id the last album update got, without an inbox.
    last_album_id: AtomicI64,
}

impl ChatWorker {
    /// Handle `update` (see [`Self::handle`]) and count it handled.
    async fn handle_counted(&self, update: &Arc<Value>, origin: Origin) {
        self.handle(update, origin).await;
        self.progress.handled_one(update["update_id"].as_i64());
    }

    /// Wait until `gathering` is complete, keep it as one update (in the inbox, with the
    /// parts it kept) and handle that. Without a scenario that has `on_album` the album does
    /// not hold its chat up.
    async fn album(&self, gathering: &Gathering) {
        let wanted = self
            .registry
            .snapshot()
            .iter()
            .any(|scenario| scenario.has(Handler::OnAlbum));
        let wait = if wanted {
            self.album_wait
        } else {
            Duration::ZERO
        };
        let here = self.albums.complete(gathering, wait).await;
        let media_group_id = &gathering.album.media_group_id;
        let closed = match &self.inbox {
            Some(inbox) => {
                let (inbox, open) = (inbox.clone(), gathering.album.clone());
                tokio::task::spawn_blocking(move || inbox.close_album(&open))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|closed| closed.map_err(|e| e.to_string()))
            }
            None => {
                let last = self.last_album_id.load(Ordering::SeqCst);
                let id = crate::inbox::local_id_after(last);
                self.last_album_id.store(id, Ordering::SeqCst);
                Ok(album::update(id, media_group_id, here))
            }
        };
        match closed {
            Ok(Some(update)) => {
                self.progress.received.fetch_add(1, Ordering::SeqCst);
                self.handle_counted(&Arc::new(update), Origin::Fetched)
                    .await;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(
                bot = self.registry.bot(),
                "album {media_group_id}: cannot keep it as one update ({e}); its parts stay kept and the next start gathers it again"
            ),
        }
    }

    /// Handle `update`, trying again while handlers fail and tries are left.
    async fn handle(&self, update: &Arc<Value>, mut origin: Origin) {
        let mut delay = FIRST_RETRY_DELAY;
        loop {
            let (registry, inbox, owned) =
                (self.registry.clone(), self.inbox.clone(), update.clone());
            let outcome = tokio::task::spawn_blocking(move || {
                try_update(&registry, inbox.as_deref(), &owned, origin)
            })
            .await;
            // A later try reads back what this one left.
            origin = Origin::Stored;
            match outcome {
                Ok(Some(attempts)) => {
                    tracing::warn!(
                        bot = self.registry.bot(),
                        "update {}: try {attempts} failed; trying again in {} ms",
                        update["update_id"],
                        delay.as_millis()
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(
                        "update {}: the handler thread failed: {e}",
                        update["update_id"]
                    );
                    return;
                }
            }
        }
    }
}

/// What routing an update needs besides the scenarios.
#[derive(Default)]
pub struct Routing<'a> {
    /// The bot's username, when known: commands to other bots are not its.
    pub me: Option<&'a str>,
    /// Where the bot's `expect_message` waits and its ledger of payments are kept, and the
    /// bot.
    pub kept: Option<(&'a Store, &'a str)>,
}

/// Why a try of an update failed, and whether another may succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryFailed {
    /// Every failure of the try, in words.
    pub error: String,
    /// Whether trying again may succeed (see [`crate::engine::ScriptError::is_transient`]).
    pub transient: bool,
}

/// One try of `update` (from `origin`): run the handlers and record the outcome in `inbox`.
/// Returns the number of failed tries when the update gets another one.
fn try_update(
    registry: &Registry,
    inbox: Option<&Inbox>,
    update: &Value,
    origin: Origin,
) -> Option<u32> {
    let started = std::time::Instant::now();
    // A panic is a failed try like any other, so the update is still retried or parked.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle_update(
            registry.runner(),
            registry.effects(),
            &registry.snapshot(),
            update,
            inbox.map(|inbox| (inbox, origin)),
            &Routing {
                me: registry.username().as_deref().map(String::as_str),
                kept: registry
                    .store()
                    .map(|store| (store.as_ref(), registry.bot())),
            },
        )
    }))
    .unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(TryFailed {
            error: format!("a handler panicked: {what}"),
            transient: true,
        })
    });
    let bot = registry.bot().to_string();
    let took = started.elapsed().as_secs_f64();
    metrics::histogram!(telemetry::HANDLER_SECONDS, "bot" => bot.clone()).record(took);
    crate::figures::recent().tried(&bot, took, result.is_ok());
    let counted = match &result {
        Ok(_) => telemetry::UPDATES_HANDLED,
        Err(_) => telemetry::UPDATES_FAILED,
    };
    metrics::counter!(counted, "bot" => bot.clone()).increment(1);
    let inbox = inbox?;
    let id = update["update_id"].as_i64().unwrap_or_default();
    let recorded = match result {
        Ok(had_failed) => {
            inbox.done(id);
            if had_failed {
                tracing::info!("update {id}: handled; the earlier failure is cleared");
            }
            Ok(())
        }
        Err(TryFailed { error, transient }) => match inbox.failed(id, &error, !transient) {
            Ok(Failure::Retry { attempts }) => return Some(attempts),
            Ok(Failure::Parked { attempts }) => {
                metrics::counter!(telemetry::UPDATES_PARKED, "bot" => bot.clone()).increment(1);
                crate::figures::recent().parked(&bot);
                let why = match transient {
                    true => format!("after {attempts} failed tries"),
                    false => "after one try: it would fail the same way again (a script error or a refusal)".to_string(),
                };
                let again = match inbox.store().is_in_memory() {
                    true => "fix the scenario, then retry it from the console's inbox page or with the gateway's inbox_retry (the sandbox's inbox lives in memory: `tgscript inbox retry` cannot reach it)".to_string(),
                    false => format!("fix the scenario, then `tgscript inbox retry --bot {bot} {id}` runs it again"),
                };
                tracing::error!(
                    bot = bot.as_str(),
                    "update {id} parked {why} ({error}); {again}"
                );
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = recorded {
        tracing::error!(
            "update {id}: cannot record the outcome ({e}); it stays pending until the next start"
        );
    }
    None
}

/// The charge id of the payment `update` brings (a message with `successful_payment`).
fn payment_charge(update: &Value) -> Option<&str> {
    update["message"]["successful_payment"]["telegram_payment_charge_id"].as_str()
}

/// Call every scenario's handler for `update`, in order, acting through `effects`, routed
/// as `routing` says (commands to other bots are not the bot's; a message some scenario
/// waits for goes to its waiting function; a payment an earlier update brought is not
/// handled again). Failures are
/// logged and every handler still runs, until one claims the update (`stop()`); the result
/// says which failed, or whether an earlier try had failed. With an inbox (and where the
/// update comes from), scenarios whose handler finished on an earlier try are skipped, and
/// each run gets its effects through its journal and is recorded; the completion of the
/// last one (or of the one that claimed the update, which runs again on a retry, replaying
/// its journal) is left to the update's `done`.
pub fn handle_update(
    runner: &Runner,
    effects: &Arc<dyn Effects>,
    scenarios: &[Scenario],
    update: &Value,
    inbox: Option<(&Inbox, Origin)>,
    routing: &Routing,
) -> Result<bool, TryFailed> {
    let ctx = Arc::new(UpdateContext::from_update(update));
    if let (Some((store, bot)), Some(charge)) = (routing.kept, payment_charge(update)) {
        let first = store
            .payment_update(
                bot,
                charge,
                ctx.update_id,
                crate::clock::system_ms().div_euclid(1000),
            )
            .map_err(|e| TryFailed {
                error: e.to_string(),
                transient: true,
            })?;
        if first != ctx.update_id {
            tracing::warn!(
                bot,
                "update {}: payment {charge} came in update {first} already and was handled there; not again",
                ctx.update_id
            );
            return Ok(false);
        }
    }
    if let (Some((store, bot)), Some(connection)) =
        (routing.kept, crate::telegram::business::announced(update))
    {
        // What the host checks calls on the account's behalf against, from now on.
        store
            .record_business_connection(bot, &connection)
            .map_err(|e| TryFailed {
                error: e.to_string(),
                transient: true,
            })?;
    }
    let waits = match (routing.kept, ctx.chat_id, ctx.user_id) {
        (Some((store, bot)), Some(chat), Some(user)) if update.get("message").is_some() => store
            .waits_on(bot, chat, user, ctx.update_id)
            .map_err(|e| TryFailed {
                error: e.to_string(),
                transient: true,
            })?,
        _ => Vec::new(),
    };
    let calls = route::calls(scenarios, update, routing.me, &waits).map_err(
        |route::Unroutable(error)| {
            tracing::error!("{error}");
            TryFailed {
                error,
                transient: false,
            }
        },
    )?;
    let earlier = inbox
        .map(|(i, origin)| i.begin_try(ctx.update_id, origin))
        .transpose()
        .map_err(|e| TryFailed {
            error: e.to_string(),
            transient: true,
        })?
        .unwrap_or_default();
    let calls: Vec<_> = calls
        .into_iter()
        .filter(|call| !earlier.finished.contains(&call.scenario.name))
        .collect();
    let last = calls.len().saturating_sub(1);
    let mut failures = Vec::new();
    // A try whose failures would all come back fails for good.
    let mut transient = false;
    for (n, call) in calls.into_iter().enumerate() {
        let (scenario, handler) = (call.scenario, call.function.as_str());
        let effects: Arc<dyn Effects> = match inbox {
            None => effects.clone(),
            Some((inbox, _)) => match inbox.journal(ctx.update_id, &scenario.name, &earlier) {
                Ok(journal) => Arc::new(Journaled::new(effects.clone(), journal)),
                Err(e) => {
                    failures.push(format!("{} {handler}: {e}", scenario.name));
                    transient = true;
                    continue;
                }
            },
        };
        let called = runner.call(scenario, handler, call.args, effects, Some(ctx.clone()));
        // An answered wait ends once its function succeeded (a failed one is tried again
        // with the wait still there); a try of this update run again still routes to it.
        if let (Ok(_), Some(wait), Some((store, _))) = (&called, call.answers, routing.kept)
            && let Err(e) = store.end_wait(wait, ctx.update_id)
        {
            tracing::error!(
                "{} {handler}: the answered wait {wait} stays: {e}",
                scenario.name
            );
        }
        match called {
            // Later scenarios do not get a claimed update; a retry runs the claim again.
            Ok(called) if called.claimed => break,
            // The update's `done` records the last one, unless the try failed.
            Ok(_) if n == last && failures.is_empty() => {}
            Ok(_) => {
                if let Some((inbox, _)) = inbox {
                    inbox.handler_finished(ctx.update_id, &scenario.name);
                }
            }
            Err(err) => {
                let (bot, own) = crate::store::namespace_owner(&scenario.namespace);
                tracing::error!(
                    bot,
                    scenario = own,
                    "{err} [{} {handler}, update {}]",
                    scenario.name,
                    ctx.update_id
                );
                transient |= err.is_transient();
                failures.push(format!("{err} [{} {handler}]", scenario.name));
            }
        }
    }
    if failures.is_empty() {
        Ok(earlier.had_failed)
    } else {
        Err(TryFailed {
            error: failures.join("; "),
            transient,
        })
    }
}
