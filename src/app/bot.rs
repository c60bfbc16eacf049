//! One bot of a `run` (see [`super::fleet`] for the set): load its scenarios (hot reload
//! on), start its intake ([`crate::intake`]: polling, or a webhook bot's deliveries from the
//! listener or a cluster's feed; account events, due jobs and retried updates), and stop
//! cleanly on Ctrl-C or SIGTERM.
use super::bots::{BotSetup, BotSource};
use super::{App, AppError};
use crate::cluster::ingress::Feed;
use crate::config::BotMode;
use crate::host::Host;
use crate::inbox::Inbox;
use crate::intake::status::BotStatus;
use crate::intake::{Intake, account_events};
use crate::scenario::dispatch::Dispatcher;
use crate::scenario::registry::Registry;
use crate::scenario::runner::Runner;
use crate::scenario::watch;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch::{Receiver, Sender};

/// One bot started: its scenarios loaded (and watched), its intake into its inbox and
/// dispatcher.
pub(super) struct Running {
    pub(super) id: String,
    pub(super) host: Arc<Host>,
    pub(super) mode: BotMode,
    /// Its updates in: kept, acknowledged, dispatched.
    pub(super) intake: Arc<Intake>,
    /// Where its scripts run.
    pub(super) runner: Arc<Runner>,
    /// Where it comes from.
    pub(super) source: BotSource,
    /// Its scenario folder.
    pub(super) dir: std::path::PathBuf,
    _watcher: Option<watch::Watch>,
}

impl Running {
    /// Its inbox, unless `[inbox] enabled = false`.
    pub(super) fn inbox(&self) -> Option<&Arc<Inbox>> {
        self.intake.inbox()
    }

    /// Its dispatcher.
    pub(super) fn dispatcher(&self) -> &Arc<Dispatcher> {
        self.intake.dispatcher()
    }

    /// How it is doing (for `/health`).
    pub(super) fn status(&self) -> &Arc<BotStatus> {
        self.intake.status()
    }

    /// The bot as the gateway's actions on a bot reach it, its scripts held to `limits`.
    pub(super) fn scope(&self, limits: &crate::engine::Limits) -> crate::gateway::admin::BotScope {
        crate::gateway::admin::BotScope {
            id: self.id.clone(),
            host: self.host.clone(),
            dir: self.dir.clone(),
            inbox: self.inbox().cloned(),
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
    let account_events = account_events::subscribe(app.host().accounts().hub(), registry.clone());
    let watcher = load(&registry, &setup.dir, config.scripts.hot_reload).await?;
    let dispatcher = Arc::new(Dispatcher::new(
        registry,
        inbox.clone(),
        std::time::Duration::from_millis(config.scripts.album_wait_ms),
    ));
    let intake = Arc::new(Intake::new(
        &setup.id,
        inbox,
        setup.host.store().clone(),
        dispatcher,
        Arc::default(),
    ));
    intake
        .resume()
        .await
        .map_err(|e| AppError::Failed(e.to_string()))?;
    // After what a previous run left is taken up (due jobs wait in the database, new events
    // in the subscription, meanwhile).
    intake.start_sources(account_events, setup.host.clock().clone(), stopped.clone());
    Ok(Running {
        id: setup.id,
        host: setup.host,
        mode: setup.mode,
        intake,
        runner,
        source: setup.source,
        dir: setup.dir.clone(),
        _watcher: watcher,
    })
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

/// Serve `bot` until `stop` (see [`Intake::serve`]).
pub(super) async fn serve(bot: Arc<Running>, stop: Receiver<bool>, feed: Option<Feed>) {
    let Some(client) = bot.host.bot().cloned() else {
        return;
    };
    bot.intake.serve(client, bot.mode, stop, feed).await;
}

/// Serve the JSON gateway beside the bot (`[gateway] listen`), bound before the bot starts so
/// a port in use is a start-up error.
pub(super) async fn start_gateway(
    app: &App,
    runner: Arc<Runner>,
    report: Arc<dyn crate::telemetry::Report>,
    bots: Arc<dyn crate::gateway::actions::BotControl>,
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
        let admin = crate::gateway::account_admin::AccountAdmin::new(
            app.config(),
            app.host(),
            app.runtime.handle().clone(),
        )
        .in_cluster(announcer, patience);
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
