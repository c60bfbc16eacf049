//! One bot of a `run` (see [`super::fleet`] for the set): load its scenarios (hot reload
//! on), receive its updates by long polling (a webhook bot's come to the listener), keep them
//! in its inbox before acknowledging them, hand them to its dispatcher, take up retried ones,
//! and stop cleanly on Ctrl-C or SIGTERM.
use super::bots::{BotSetup, BotSource};
use super::status::BotStatus;
use super::{App, AppError};
use crate::cluster::ingress::Feed;
use crate::config::BotMode;
use crate::host::Host;
use crate::inbox::{Inbox, Origin};
use crate::scenario::dispatch::Dispatcher;
use crate::scenario::registry::Registry;
use crate::scenario::runner::Runner;
use crate::scenario::watch;
use crate::telegram::polling::Poller;
use crate::telegram::{BotClient, BotError};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch::{Receiver, Sender};

/// Long-polling timeout of `getUpdates`.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait before asking again after `getUpdates` failed.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(30);
/// How many fetched updates may wait for their handlers before polling pauses: the rest
/// wait at Telegram (or in the inbox), not in memory.
const MAX_BACKLOG: u64 = 1000;
/// How often a webhook bot's deliveries are looked at (`getWebhookInfo`) for `/health`.
const WEBHOOK_PROBE_EVERY: Duration = Duration::from_secs(15);

/// One bot started: its scenarios loaded (and watched), its dispatcher, its inbox.
pub(super) struct Running {
    pub(super) id: String,
    pub(super) host: Arc<Host>,
    pub(super) mode: BotMode,
    pub(super) inbox: Option<Arc<Inbox>>,
    pub(super) dispatcher: Arc<Dispatcher>,
    /// Where its scripts run.
    pub(super) runner: Arc<Runner>,
    /// Where it comes from.
    pub(super) source: BotSource,
    /// Its scenario folder.
    pub(super) dir: std::path::PathBuf,
    /// How it is doing (for `/health`).
    pub(super) status: Arc<BotStatus>,
    /// Its tasks that dispatch besides the poller (retries, timers, account events): joined
    /// when it stops, before its handlers are waited for.
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    _watcher: Option<watch::Watch>,
}

impl Running {
    /// The bot as the gateway's actions on a bot reach it, its scripts held to `limits`.
    pub(super) fn scope(&self, limits: &crate::engine::Limits) -> crate::gateway::admin::BotScope {
        crate::gateway::admin::BotScope {
            id: self.id.clone(),
            host: self.host.clone(),
            dir: self.dir.clone(),
            inbox: self.inbox.clone(),
            runner: self.runner.clone(),
            limits: limits.clone(),
        }
    }
}

/// Bot `id`'s inbox, unless `[inbox] enabled = false`.
pub(super) fn inbox_of(app: &App, id: &str) -> Option<Arc<Inbox>> {
    let config = app.config();
    config.inbox.enabled.then(|| {
        Arc::new(
            Inbox::new(app.host().store().clone(), config.inbox.max_attempts)
                .for_bot(id)
                .with_journal_limit(config.limits.max_journal_bytes),
        )
    })
}

/// Start `setup`'s bot: its inbox, its scenarios (watched for changes), its dispatcher, and
/// what a previous run left of its updates.
pub(super) async fn start(
    app: &App,
    setup: BotSetup,
    stopped: &Receiver<bool>,
) -> Result<Running, AppError> {
    let config = app.config();
    let inbox = inbox_of(app, &setup.id);
    let runner = app.runner(&setup.dir)?;
    let registry = Arc::new(
        Registry::new(
            runner.clone(),
            &setup.dir,
            setup.host.clone(),
            config.scripts.report_errors_to,
        )
        .for_bot(&setup.id)
        .with_store(setup.host.store().clone()),
    );
    learn_username(&registry, &setup).await;
    let account_events =
        super::account_updates::subscribe(app.host().accounts().hub(), registry.clone());
    let watcher = load(&registry, &setup.dir, config.scripts.hot_reload).await?;
    let dispatcher = Arc::new(Dispatcher::new(registry.clone(), inbox.clone()));
    let mut tasks = Vec::new();
    if let Some(inbox) = &inbox {
        resume(inbox, &dispatcher).await?;
        tasks.push(tokio::spawn(super::requeued::take_requeued(
            inbox.clone(),
            dispatcher.clone(),
            stopped.clone(),
        )));
    }
    // After what a previous run left is taken up (due jobs wait in the database meanwhile).
    let timers = super::timers::Timers {
        bot: setup.id.clone(),
        store: setup.host.store().clone(),
        inbox: inbox.clone(),
        dispatcher: dispatcher.clone(),
        clock: setup.host.clock().clone(),
    };
    tasks.push(tokio::spawn(super::timers::run(timers, stopped.clone())));
    // After what a previous run left is taken up; the subscription holds new events meanwhile.
    tasks.push(tokio::spawn(super::account_updates::forward(
        account_events,
        registry,
        inbox.clone(),
        dispatcher.clone(),
        stopped.clone(),
    )));
    Ok(Running {
        id: setup.id,
        host: setup.host,
        mode: setup.mode,
        inbox,
        dispatcher,
        runner,
        source: setup.source,
        dir: setup.dir.clone(),
        status: Arc::default(),
        tasks: std::sync::Mutex::new(tasks),
        _watcher: watcher,
    })
}

/// Once `bot` is told to stop: wait for its tasks besides the poller (nothing of theirs is
/// dispatched after this; in a cluster, another instance may take the bot next), then for
/// its running handlers.
pub(super) async fn wind_down(bot: &Running) {
    let tasks = std::mem::take(
        &mut *bot
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for task in tasks {
        if let Err(e) = task.await {
            tracing::warn!("bot {}: a task ended badly: {e}", bot.id);
        }
    }
    bot.dispatcher.finish().await;
}

/// Ask the bot its username (`getMe`), so commands addressed to other bots
/// (`/warn@other_bot`) are not taken for its own; unknown, every command is.
async fn learn_username(registry: &Registry, setup: &BotSetup) {
    let Some(client) = setup.host.bot() else {
        return;
    };
    match client.call("getMe", &serde_json::json!({})).await {
        Ok(me) => match me["username"].as_str() {
            Some(username) => registry.set_username(username),
            None => tracing::warn!("bot {}: getMe gave no username", setup.id),
        },
        Err(e) => tracing::warn!(
            "bot {}: getMe failed ({e}): commands addressed to other bots (/cmd@other_bot) are taken as its own",
            setup.id
        ),
    }
}

/// Serve `bot` until `stop`: poll it (a polling bot) or wait (a webhook bot's updates come
/// to the listener, or in a cluster from its `feed`); then let its running handlers finish.
pub(super) async fn serve(bot: Arc<Running>, stop: Receiver<bool>, feed: Option<Feed>) {
    let Some(client) = bot.host.bot().cloned() else {
        return;
    };
    if bot.mode == BotMode::Webhook {
        match feed {
            Some(feed) => {
                tokio::join!(
                    probe_webhook(&bot, &client, stop.clone()),
                    super::ingress::consume(
                        super::ingress::Taker {
                            id: &bot.id,
                            inbox: bot.inbox.as_ref(),
                            dispatcher: &bot.dispatcher,
                            status: &bot.status,
                        },
                        feed,
                        stop
                    )
                );
            }
            None => probe_webhook(&bot, &client, stop).await,
        }
        wind_down(&bot).await;
        return;
    }
    remove_webhook(&bot.id, &client).await;
    let mut poller = Poller::new(client, POLL_TIMEOUT);
    poll(&mut poller, &bot, stop).await;
    wind_down(&bot).await;
    // The last completion marks are queued: on disk before the offset is confirmed.
    bot.host.store().flush();
    if let Err(e) = poller.confirm().await {
        tracing::debug!(
            "bot {}: could not confirm the last updates (they come again and are skipped): {e}",
            bot.id
        );
    }
}

/// Until `stop`, ask now and then how Telegram's deliveries to webhook `bot` go
/// (`getWebhookInfo`): unreachable while the Bot API does not answer or Telegram reports a
/// delivery error newer than the last update that came.
async fn probe_webhook(bot: &Running, client: &BotClient, stop: Receiver<bool>) {
    loop {
        tokio::select! {
            () = stopped(stop.clone()) => return,
            () = tokio::time::sleep(WEBHOOK_PROBE_EVERY) => {}
        }
        // A bot that just got a delivery is known to work: no need to ask Telegram (with
        // many bots, the asking itself would be load).
        if crate::effects::system_now() - bot.status.last_ok()
            < WEBHOOK_PROBE_EVERY.as_secs() as i64
        {
            continue;
        }
        match client.call("getWebhookInfo", &serde_json::json!({})).await {
            Ok(info) => match info["last_error_message"].as_str() {
                Some(error) if info["last_error_date"].as_i64() > Some(bot.status.last_ok()) => {
                    bot.status
                        .failed(&format!("Telegram cannot deliver: {error}"));
                }
                _ => bot.status.reachable_again(),
            },
            Err(e) => bot.status.failed(&format!("getWebhookInfo failed: {e}")),
        }
    }
}

/// A polling bot may not have a webhook (Telegram refuses `getUpdates` then): one that is set
/// is removed, and said so.
async fn remove_webhook(id: &str, client: &BotClient) {
    let info = client.call("getWebhookInfo", &serde_json::json!({})).await;
    let url = match &info {
        Ok(info) => info["url"].as_str().unwrap_or_default().to_string(),
        Err(e) => {
            tracing::warn!("bot {id}: getWebhookInfo failed ({e}); removing any webhook to poll");
            String::new()
        }
    };
    if info.is_ok() && url.is_empty() {
        return;
    }
    if !url.is_empty() {
        tracing::warn!(
            "bot {id}: removing its webhook {url} to poll for updates (set mode = \"webhook\" to keep it)"
        );
    }
    if let Err(e) = client.call("deleteWebhook", &serde_json::json!({})).await {
        tracing::warn!("bot {id}: deleteWebhook failed, polling anyway: {e}");
    }
}

/// Serve the JSON gateway beside the bot (`[gateway] listen`), bound before the bot starts so
/// a port in use is a start-up error.
pub(super) async fn start_gateway(
    app: &App,
    runner: Arc<Runner>,
    report: Arc<dyn crate::telemetry::Report>,
    bots: Arc<dyn crate::gateway::admin::BotControl>,
    cluster: Option<crate::cluster::Announcer>,
) -> Result<(), AppError> {
    let settings = super::gateway_settings(app.config(), None)?;
    let mut gateway = app
        .gateway(runner, &settings)?
        .with_report(report)
        .with_bots(bots);
    if let Some(announcer) = cluster {
        // An account's owner opens or closes it within about two leases.
        let patience = 2 * std::time::Duration::from_millis(app.config().cluster.lease_ms);
        let admin = super::account_admin::AccountAdmin::new(app).in_cluster(announcer, patience);
        gateway = gateway.with_accounts(Arc::new(admin), app.host().accounts().hub().clone());
    }
    let listener = crate::gateway::listen(&settings)
        .await
        .map_err(|e| AppError::Config(e.to_string()))?;
    tokio::spawn(crate::gateway::serve(
        listener,
        gateway,
        std::future::pending(),
    ));
    Ok(())
}

/// Watch `dir` (when `hot_reload`) and load its scenarios. The watcher starts first, so no
/// change made during the first load is missed; it runs while the returned value lives.
async fn load(
    registry: &Arc<Registry>,
    dir: &Path,
    hot_reload: bool,
) -> Result<Option<watch::Watch>, AppError> {
    let watcher = match hot_reload.then(|| watch::watch(dir, registry.clone())) {
        Some(Ok(watcher)) => Some(watcher),
        Some(Err(e)) => {
            tracing::warn!("hot reload is off: cannot watch {}: {e}", dir.display());
            None
        }
        None => None,
    };
    let initial = registry.clone();
    tokio::task::spawn_blocking(move || initial.reload())
        .await
        .map_err(|e| AppError::Failed(format!("loading the scenarios failed: {e}")))?
        .map_err(|e| AppError::Failed(format!("cannot read {}: {e}", dir.display())))?;
    if registry.snapshot().is_empty() {
        tracing::warn!("no scenario loaded from {} yet", dir.display());
    }
    Ok(watcher)
}

/// Hand what a previous run left to the dispatcher before anything new. The first update of
/// each chat may have been running when the process stopped: those run one at a time, so a
/// crash they cause is counted against them alone.
async fn resume(inbox: &Inbox, dispatcher: &Dispatcher) -> Result<(), AppError> {
    let left = inbox
        .unfinished()
        .map_err(|e| AppError::Failed(e.to_string()))?;
    let count = left.interrupted.len() + left.waiting.len();
    if count > 0 {
        tracing::info!(
            "inbox: {count} update(s) left unfinished or queued for a retry; handling them first"
        );
    }
    let progress = dispatcher.progress();
    for update in left.interrupted {
        let before = progress.handled();
        dispatcher.dispatch(update, Origin::Stored);
        progress.wait_handled(before + 1).await;
    }
    left.waiting
        .into_iter()
        .for_each(|u| dispatcher.dispatch(u, Origin::Stored));
    Ok(())
}

/// Resolves on the first Ctrl-C (SIGINT) or SIGTERM (`systemctl stop`, `docker stop`):
/// `run` and `serve` stop alike on either.
pub async fn stop_requested() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        },
        Err(e) => {
            tracing::warn!("cannot watch for SIGTERM ({e}): only Ctrl-C stops cleanly");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Sets `stop` on Ctrl-C (SIGINT) or SIGTERM; a second Ctrl-C exits at once.
pub(super) async fn stop_on_signal(stop: Arc<Sender<bool>>) {
    stop_requested().await;
    tracing::info!("stopping: waiting for running handlers to finish (Ctrl-C again to exit now)");
    let _ = stop.send(true);
    // A second Ctrl-C exits at once: the inbox keeps what was not finished.
    if tokio::signal::ctrl_c().await.is_ok() {
        tracing::warn!("second Ctrl-C: exiting now; unfinished updates run again next start");
        std::process::exit(130);
    }
}

/// Resolves once `stop` has been set.
pub(super) async fn stopped(mut stop: Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Fetch updates until `stop`: keep each batch in the inbox before it is acknowledged, then
/// hand the updates not seen before to the dispatcher. While [`MAX_BACKLOG`] of them wait
/// for their handlers, fetching pauses.
async fn poll(poller: &mut Poller, bot: &Running, stop: Receiver<bool>) {
    let (inbox, dispatcher) = (bot.inbox.as_ref(), &bot.dispatcher);
    let mut backoff = Duration::from_secs(1);
    let progress = dispatcher.progress();
    loop {
        tokio::select! {
            _ = stopped(stop.clone()) => return,
            _ = progress.wait_backlog_below(MAX_BACKLOG) => {}
        }
        let fetched = tokio::select! {
            _ = stopped(stop.clone()) => return,
            fetched = poller.fetch() => fetched,
        };
        match &fetched {
            Ok(_) => bot.status.ok(),
            Err(e) => bot.status.failed(&crate::logging::redact(&e.to_string())),
        }
        let failure = match fetched {
            Ok(batch) if batch.is_empty() => None,
            Ok(batch) => {
                let kept = match inbox {
                    Some(inbox) => {
                        let (inbox, owned) = (inbox.clone(), batch.clone());
                        tokio::task::spawn_blocking(move || inbox.accept(&owned))
                            .await
                            .map_err(|e| e.to_string())
                            .and_then(|kept| kept.map_err(|e| e.to_string()))
                    }
                    None => Ok(batch.clone()),
                };
                match kept {
                    Ok(fresh) => {
                        let acknowledged = poller.acknowledge(&batch);
                        fresh
                            .into_iter()
                            .for_each(|u| dispatcher.dispatch(u, Origin::Fetched));
                        // Items without an update_id cannot be acknowledged and would come
                        // again at once: wait before asking again.
                        (!acknowledged).then(|| {
                            format!(
                                "getUpdates returned {} item(s) without an update_id; they are skipped",
                                batch.len()
                            )
                        })
                    }
                    Err(e) => Some(format!(
                        "cannot keep {} update(s) in the inbox ({e}); they are not acknowledged and come again",
                        batch.len()
                    )),
                }
            }
            Err(e @ BotError::Api { code: 409, .. }) => Some(format!(
                "getUpdates refused ({e}): another process is polling this bot, or a webhook is set; stop it"
            )),
            Err(e) => Some(format!(
                "getUpdates failed: {}",
                crate::logging::redact(&e.to_string())
            )),
        };
        let Some(failure) = failure else {
            backoff = Duration::from_secs(1);
            continue;
        };
        tracing::warn!("{failure}; asking again in {} s", backoff.as_secs());
        tokio::select! {
            _ = stopped(stop.clone()) => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_POLL_BACKOFF);
    }
}
