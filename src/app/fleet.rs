//! The bots of a `run` as a set that changes while it runs: each bot is started (scenarios,
//! dispatcher, inbox; a webhook bot's route and `setWebhook`) and served on a task of its
//! own; an edit of the config file starts the `[[bot]]`s added, stops those removed (their
//! running handlers finish; their inboxes stay in the database) and restarts those changed,
//! leaving the others alone. In a cluster ([`seat`]) the set is every bot of the cluster, and
//! each runs here only while this instance owns it.

mod account_seat;
mod config_file;
mod saved;
mod seat;

use super::bot::{self, Running};
use super::bots::{BotSetup, BotSource};
use super::control::{self, Control, FleetControl};
use super::health::{FleetReport, RunningBots};
use super::sandbox_chat::SandboxChat;
use super::{App, AppError};
use crate::cluster::ingress::Feed;
use crate::cluster::relay::{Answering, Owned};
use crate::config::{BotConfig, BotMode, Config};
use crate::intake::webhook;
use crate::store::SavedBot;
use crate::telemetry::Report;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Why a `run` stops when its PostgreSQL session ends (it is not made again).
const SESSION_ENDED: &str = "the store's PostgreSQL session ended, and with it the claims this process held on it (its bots, or the whole store): the bots are stopped; restart tgscript once PostgreSQL is reachable";

/// Quiet time after the last change of the config file before it is read again.
const CONFIG_DEBOUNCE: Duration = Duration::from_millis(200);
/// How often the main loop beats the heartbeat (`/livez`, systemd's watchdog).
const HEARTBEAT: Duration = Duration::from_secs(1);

/// One bot of the set, served on its own task.
struct Member {
    bot: Arc<Running>,
    stop: watch::Sender<bool>,
    served: JoinHandle<()>,
    /// In a cluster: what answers the gateway requests other instances relay for it.
    answering: Option<Answering>,
}

/// The bots being served.
struct Fleet<'a> {
    app: &'a App,
    routes: webhook::Routes,
    members: HashMap<String, Member>,
    /// The same bots, as `/health` reads them.
    running: RunningBots,
    /// This instance's seat, in a cluster.
    seat: Option<seat::Seat>,
}

impl Fleet<'_> {
    /// Start `setup`'s bot and serve it; in a cluster, add it to the bots of the cluster,
    /// run here once this instance owns it.
    async fn start(&mut self, setup: BotSetup) -> Result<(), AppError> {
        match &mut self.seat {
            None => self.serve_here(setup).await,
            Some(seat) => {
                // Any instance takes the deliveries of any of the cluster's webhook bots.
                if let (BotMode::Webhook, Some(client)) = (setup.mode, setup.host.bot()) {
                    let route = webhook::Route::cluster(client, seat.ingress().clone());
                    self.routes.insert(&setup.id, route);
                }
                seat.want(setup);
                self.rebalance().await;
                Ok(())
            }
        }
    }

    /// Whether bot `id` is one of the set (running here, or, in a cluster, anywhere).
    fn has(&self, id: &str) -> bool {
        self.members.contains_key(id) || self.seat.as_ref().is_some_and(|s| s.wants(id))
    }

    /// Start `setup`'s bot here and serve it; in a cluster, answer the gateway requests
    /// relayed for it from before it starts.
    async fn serve_here(&mut self, setup: BotSetup) -> Result<(), AppError> {
        let answering = match &self.seat {
            Some(seat) => {
                let scope = crate::gateway::admin::BotScope {
                    id: setup.id.clone(),
                    host: setup.host.clone(),
                    dir: setup.dir.clone(),
                    inbox: bot::inbox_of(self.app, &setup.id),
                    runner: self.app.runner(&setup.dir)?,
                    limits: self.app.config().limits.clone(),
                };
                let handler = crate::gateway::elsewhere::handler(scope);
                let answering =
                    Answering::start(seat.relay(), &Owned::Bot(setup.id.clone()), handler).await;
                Some(answering.map_err(|e| AppError::Failed(e.to_string()))?)
            }
            None => None,
        };
        let (stop, stop_seen) = watch::channel(false);
        let bot = match bot::start(self.app, setup, &stop_seen).await {
            Ok(bot) => Arc::new(bot),
            Err(e) => {
                if let Some(answering) = answering {
                    answering.close().await;
                }
                return Err(e);
            }
        };
        let feed = match self.receive_webhooks(&bot).await {
            Ok(feed) => feed,
            Err(e) => {
                let _ = stop.send(true);
                bot.intake.wind_down().await;
                if let Some(answering) = answering {
                    answering.close().await;
                }
                return Err(e);
            }
        };
        let served = tokio::spawn(bot::serve(bot.clone(), stop_seen, feed));
        self.running
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(bot.id.clone(), bot.clone());
        let member = Member {
            bot,
            stop,
            served,
            answering,
        };
        self.members.insert(member.bot.id.clone(), member);
        Ok(())
    }

    /// A webhook bot's webhook set, and where its deliveries go: its route here, or in a
    /// cluster its feed from the cluster's stream (every instance's route writes there).
    async fn receive_webhooks(&mut self, bot: &bot::Running) -> Result<Option<Feed>, AppError> {
        if bot.mode != BotMode::Webhook {
            return Ok(None);
        }
        let webhook = &self.app.config().webhook;
        match (&self.seat, bot.host.bot()) {
            (Some(seat), Some(client)) => {
                let route = webhook::Route::cluster(client, seat.ingress().clone());
                webhook::set_webhook(&bot.id, &bot.host, webhook, &route).await?;
                let feed = seat.ingress().feed(&bot.id).await;
                Ok(Some(feed.map_err(|e| AppError::Failed(e.to_string()))?))
            }
            _ => {
                let route = webhook::Route::new(bot.intake.clone())?;
                webhook::set_webhook(&bot.id, &bot.host, webhook, &route).await?;
                self.routes.insert(&bot.id, route);
                Ok(None)
            }
        }
    }

    /// Take bot `id` out of the set: stop it and wait until its running handlers have
    /// finished.
    async fn stop(&mut self, id: &str) {
        if let Some(seat) = &mut self.seat {
            seat.unwant(id);
        }
        self.routes.remove(id);
        self.stop_here(id).await;
    }

    /// Stop bot `id` here and wait until its running handlers have finished (then, in a
    /// cluster, let another instance claim it; its deliveries are still taken here).
    async fn stop_here(&mut self, id: &str) {
        self.running
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        if let Some(member) = self.members.remove(id) {
            let _ = member.stop.send(true);
            let _ = member.served.await;
            if let Some(answering) = member.answering {
                answering.close().await;
            }
        }
        if let Some(seat) = &mut self.seat {
            seat.release(id).await;
        }
    }

    /// Do what the gateway asked.
    async fn control(&mut self, control: Control) {
        match control {
            Control::Add {
                setup,
                saved,
                reply,
            } => {
                let id = setup.id.clone();
                let added = match self.has(&id) {
                    true => Err(format!("bot {id:?} runs already")),
                    false => self.add(*setup, &saved).await,
                };
                if added.is_ok() {
                    tracing::info!("bot {id}: added through the gateway ({})", saved.mode);
                    self.tell_bots_changed().await;
                }
                let _ = reply.send(added);
            }
            Control::Remove { id, reply } => {
                let removable = match self.source(&id) {
                    None => Err(format!("no bot {id:?} runs here")),
                    Some(source) => control::removable(&source)
                        .map_err(|why| format!("bot {id:?} cannot be removed here: {why}")),
                };
                if removable.is_ok() {
                    self.stop(&id).await;
                    if let Err(e) = self.app.host().store().forget_bot(&id) {
                        tracing::error!("bot {id}: stopped, but still kept in the database: {e}");
                    }
                    tracing::info!("bot {id}: removed through the gateway (its inbox stays)");
                    self.tell_bots_changed().await;
                }
                let _ = reply.send(removable);
            }
        }
    }

    /// Start a bot added through the gateway once its token is accepted, and keep it.
    async fn add(&mut self, setup: BotSetup, saved: &SavedBot) -> Result<(), String> {
        if let Some(client) = setup.host.bot()
            && let Err(e) = client.call("getMe", &serde_json::json!({})).await
        {
            return Err(format!("the Bot API refused the bot: {e}"));
        }
        self.start(setup).await.map_err(|e| e.to_string())?;
        self.app
            .host()
            .store()
            .save_bot(saved)
            .map_err(|e| format!("started, but not kept for the next start: {e}"))
    }

    /// Where bot `id` of the set comes from.
    fn source(&self, id: &str) -> Option<BotSource> {
        match self.members.get(id) {
            Some(member) => Some(member.bot.source.clone()),
            None => self.seat.as_ref().and_then(|seat| seat.source(id)),
        }
    }

    /// Stop every bot.
    async fn stop_all(&mut self) {
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for member in self.members.values() {
            let _ = member.stop.send(true);
        }
        for id in ids {
            self.stop(&id).await;
        }
    }

    /// Make the bots of the config `next` run: start the added, stop the removed, restart
    /// the changed; failures are logged and leave the other bots alone.
    async fn reconfigure(&mut self, next: &Config) {
        let now: BTreeMap<String, BotConfig> = match &self.seat {
            Some(seat) => seat.configured(),
            None => self
                .members
                .values()
                .filter_map(|m| match &m.bot.source {
                    BotSource::Config(c) => Some((m.bot.id.clone(), c.clone())),
                    _ => None,
                })
                .collect(),
        };
        let wanted: BTreeMap<String, &BotConfig> =
            next.bots.iter().map(|b| (b.id.clone(), b)).collect();
        for id in now.keys().filter(|id| !wanted.contains_key(*id)) {
            tracing::info!(
                "bot {id}: removed from the config; stopping it (its inbox stays in the database)"
            );
            self.stop(id).await;
            tracing::info!("bot {id}: stopped");
        }
        for (id, bot) in wanted {
            let changed = match now.get(&id) {
                Some(old) if old == bot => continue,
                Some(_) => true,
                None => false,
            };
            if changed {
                tracing::info!("bot {id}: changed in the config; restarting it");
                self.stop(&id).await;
            } else if self.has(&id) {
                tracing::warn!("bot {id}: already running (not from the config); left alone");
                continue;
            }
            let started = match self.app.bot_from_config(bot) {
                Ok(setup) => self.start(setup).await,
                Err(e) => Err(e),
            };
            match started {
                Ok(()) => tracing::info!("bot {id}: started ({})", bot.mode.name()),
                Err(e) => tracing::error!("bot {id}: cannot start: {e}"),
            }
        }
    }
}

/// Run the bots (those of `[[bot]]`, else the one of `TELOXIDE_TOKEN` or the sandbox with the
/// scenarios of `dir`) until stopped; `[[bot]]` edits of the config file take effect while
/// running.
pub async fn run(app: &App, dir: &Path) -> Result<(), AppError> {
    let config = app.config();
    let setups = app.bots(dir)?;
    tracing::debug!("limits: {}", config.limits.summary());
    tracing::info!("flood control: {}", config.flood.summary());
    tokio::spawn(crate::accounts::open::warn_not_logged_in(
        app.host().accounts().clone(),
    ));
    // Bound before any bot starts, so a port in use is a start-up error.
    let listener = match config.webhook.listen.is_some()
        || setups.iter().any(|b| b.mode == BotMode::Webhook)
    {
        true => Some(webhook::bind(&config.webhook).await?),
        false => None,
    };
    let (stop, stop_seen) = watch::channel(false);
    let stop = Arc::new(stop);
    // Before any bot starts: a Ctrl-C while one takes up what a crash left stops it cleanly
    // once that is done, instead of killing it mid-way.
    tokio::spawn(bot::stop_on_signal(stop.clone()));
    let membership = match config.cluster.nats_url {
        Some(_) => Some(
            crate::cluster::Membership::join(&config.cluster)
                .await
                .map_err(|e| AppError::Config(e.to_string()))?,
        ),
        None => None,
    };
    let view = membership.as_ref().map(|m| m.view());
    let mut fleet = Fleet {
        app,
        routes: webhook::Routes::default(),
        members: HashMap::new(),
        running: RunningBots::default(),
        seat: membership.map(seat::Seat::new),
    };
    let report: Arc<dyn Report> = Arc::new(FleetReport {
        bots: fleet.running.clone(),
        accounts: app.host().accounts().clone(),
        workers: app.workers.clone(),
    });
    // Whatever ends the run, the accounts open here are closed (their claims let go) and the
    // bots stopped.
    let outcome = serve(
        &mut fleet,
        setups,
        listener,
        report,
        (stop, stop_seen),
        view,
    )
    .await;
    // First the accounts: when the store's session ended, their claims went with it.
    fleet.close_accounts().await;
    if let Some(seat) = &mut fleet.seat {
        seat.leave().await;
    }
    fleet.stop_all().await;
    outcome
}

/// Start `setups` and what serves them, then follow stops, controls, the cluster and config
/// edits until the run ends.
async fn serve(
    fleet: &mut Fleet<'_>,
    setups: Vec<BotSetup>,
    listener: Option<tokio::net::TcpListener>,
    report: Arc<dyn Report>,
    (stop, stop_seen): (Arc<watch::Sender<bool>>, watch::Receiver<bool>),
    mut view: Option<watch::Receiver<crate::cluster::View>>,
) -> Result<(), AppError> {
    let app = fleet.app;
    let config = app.config();
    // Before any bot starts: the accounts its scenarios use are in the registry.
    fleet.join_accounts().await?;
    let first = setups.first().map(|s| s.id.clone());
    // run_script runs where the first bot's scenarios do (in a cluster, perhaps elsewhere).
    let gateway_runner = match (config.gateway.listen.is_some(), setups.first()) {
        (true, Some(setup)) => Some(app.runner(&setup.dir)?),
        _ => None,
    };
    for setup in setups {
        fleet.start(setup).await?;
    }
    let first = first.and_then(|id| fleet.members.get(&id).map(|m| m.bot.clone()));
    let sandbox_chat = match (app.sandbox(), &first) {
        (Some(server), Some(first)) => Some(Arc::new(SandboxChat::new(
            server.clone(),
            first.dispatcher().progress(),
            app.host().accounts().clone(),
        ))),
        _ => None,
    };
    // Bots added through the gateway in an earlier run.
    let mut bot_changes = fleet.seat.as_mut().and_then(|seat| seat.bot_changes());
    let mut account_changes = fleet
        .seat
        .as_mut()
        .and_then(|seat| seat.membership.account_changes());
    fleet.start_saved().await;
    let (control, mut controls) = mpsc::unbounded_channel();
    if let Some(runner) = gateway_runner {
        let elsewhere = fleet.seat.as_ref().map(|seat| seat.elsewhere().clone());
        let running = fleet.running.clone();
        let bots = Arc::new(
            FleetControl::new(app, control, running, elsewhere).with_sandbox(sandbox_chat.clone()),
        );
        let announcer = fleet.seat.as_ref().map(|seat| seat.membership.announcer());
        bot::start_gateway(app, runner, report.clone(), bots, announcer).await?;
    }
    if let Some(listener) = listener {
        tokio::spawn(webhook::serve(
            listener,
            fleet.routes.clone(),
            report,
            crate::intake::polling::stopped(stop_seen.clone()),
        ));
    }
    if let Some(chat) = sandbox_chat {
        eprintln!("{}", chat.introduction());
        let stop = stop.clone();
        let console = config.gateway.listen.is_some();
        // Each line is handled before the next is read, like a chat; end of input stops,
        // unless the web console serves the sandbox (under nohup or systemd stdin ends at
        // once): then a stop signal does.
        tokio::spawn(async move {
            super::sandbox_chat::feed_stdin(&chat).await;
            match console {
                true => eprintln!(
                    "sandbox: end of input; the sandbox goes on for the web console (Ctrl-C or SIGTERM stops it)"
                ),
                false => {
                    let _ = stop.send(true);
                }
            }
        });
    }
    let (_config_watch, mut edits) = match (&config.source, config.bots.is_empty()) {
        (Some(path), false) => config_file::watch(path),
        _ => (None, mpsc::unbounded_channel().1),
    };
    let mut hangups = config_file::hangups();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut failed = None;
    super::systemd::ready();
    loop {
        tokio::select! {
            _ = heartbeat.tick() => crate::telemetry::heartbeat().beat(),
            () = crate::intake::polling::stopped(stop_seen.clone()) => break,
            () = app.host().store().session_ended() => {
                failed = Some(AppError::Failed(SESSION_ENDED.into()));
                break;
            }
            Some(control) = controls.recv() => fleet.control(control).await,
            Some(()) = seat::changed(&mut bot_changes) => fleet.follow_saved().await,
            Some(()) = seat::changed(&mut account_changes) => fleet.follow_saved_accounts().await,
            changed = seat::view_changed(&mut view) => match changed {
                true => fleet.rebalance().await,
                false => {
                    tracing::error!("cluster: the lease is no longer kept; stopping");
                    break;
                }
            },
            Some(()) = edits.recv() => {
                while let Ok(Some(())) = tokio::time::timeout(CONFIG_DEBOUNCE, edits.recv()).await {}
                fleet.reload(config).await;
            }
            Some(()) = hangups.recv() => match config.bots.is_empty() {
                false => {
                    tracing::info!("SIGHUP: reloading the config file");
                    super::systemd::reloading();
                    fleet.reload(config).await;
                    super::systemd::reloaded();
                }
                true => tracing::warn!(
                    "SIGHUP: nothing to reload: a reload applies the [[bot]]s of a config file, and this run has none"
                ),
            },
        }
    }
    let why = match &failed {
        Some(e) => e.to_string(),
        None => "stopping: the running handlers finish, no new work is taken".into(),
    };
    crate::telemetry::stopping(&why);
    super::systemd::stopping();
    failed.map_or(Ok(()), Err)
}

impl Fleet<'_> {
    /// Read the config file again and apply its `[[bot]]`s, as a save of it does; a file
    /// that does not load changes nothing.
    async fn reload(&mut self, config: &Config) {
        let Some(path) = &config.source else { return };
        match Config::load(Some(path)) {
            Ok(next) => self.reconfigure(&next).await,
            Err(e) => tracing::error!("{e}; the bots stay as they are"),
        }
    }
}
