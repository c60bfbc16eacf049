//! `tgscript run [DIR]`: load the scenarios, receive updates by long polling, keep them in the
//! inbox and hand them to the handlers. Without `TELOXIDE_TOKEN` it runs on the sandbox: a
//! local Bot API server with a simulated group, fed from stdin.

use super::{EXIT_FAILURE, EXIT_USAGE, open_store, runtime};
use crate::config::Config;
use crate::engine::ScriptEngine;
use crate::host::Host;
use crate::inbox::Inbox;
use crate::sandbox::console::{self, Input, Users};
use crate::sandbox::{BotApiServer, World};
use crate::scenario::dispatch::{Dispatcher, Progress};
use crate::scenario::registry::Registry;
use crate::scenario::watch;
use crate::telegram::polling::Poller;
use crate::telegram::{BotClient, BotError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch::Receiver;

/// Token the sandbox bot uses with the local server.
const SANDBOX_TOKEN: &str = "0:sandbox";
/// Long-polling timeout of `getUpdates`.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait before asking again after `getUpdates` failed.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(30);
/// How often a running `run` looks for updates `inbox retry` queued.
const REQUEUE_EVERY: Duration = Duration::from_secs(1);
/// How often a running `run` drops handled updates older than a day.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Sandbox input (no TELOXIDE_TOKEN): each line is a message from alice; \
`/as NAME text` speaks as NAME (`owner` owns the group), `/join NAME` joins the group, \
`/reply ID text` replies to message #ID, `/press DATA` presses a button under the newest bot \
message with buttons. Every Bot API call is printed as `→ method {json}`. End of input stops."
)]
pub struct RunArgs {
    /// Scenario folder (default: [scripts] dir, `scripts`).
    pub dir: Option<PathBuf>,
}

pub(super) fn run(config: &Config, args: RunArgs) -> u8 {
    let dir = args.dir.unwrap_or_else(|| config.scripts.dir.clone());
    if !dir.is_dir() {
        eprintln!(
            "tgscript run: scenario folder {} not found (pass a folder or set [scripts] dir)",
            dir.display()
        );
        return EXIT_USAGE;
    }
    let runtime = match runtime("run") {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(serve(config, dir))
}

async fn serve(config: &Config, dir: PathBuf) -> u8 {
    let token = std::env::var("TELOXIDE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let sandbox = match token {
        Some(_) => None,
        None => match BotApiServer::start(World::new(), Some(SANDBOX_TOKEN)) {
            Ok(server) => Some(Arc::new(server)),
            Err(e) => {
                eprintln!("tgscript run: cannot start the sandbox: {e}");
                return EXIT_FAILURE;
            }
        },
    };
    let bot = match (&token, &sandbox) {
        (Some(token), _) => {
            crate::logging::add_secret(token);
            BotClient::new(token, std::env::var("TELOXIDE_API_URL").ok().as_deref())
        }
        (None, Some(server)) => BotClient::new(SANDBOX_TOKEN, Some(&server.url())),
        (None, None) => Err("no bot and no sandbox".to_string()),
    };
    let bot = match bot {
        Ok(bot) => bot,
        Err(e) => {
            eprintln!("tgscript run: {e}");
            return EXIT_USAGE;
        }
    };
    match bot.call("getMe", &serde_json::json!({})).await {
        Ok(me) => tracing::info!("connected as @{}", me["username"].as_str().unwrap_or("?")),
        Err(
            e @ BotError::Api {
                code: 401 | 404, ..
            },
        ) => {
            eprintln!(
                "tgscript run: the Bot API refused the bot token ({e}): check TELOXIDE_TOKEN (and TELOXIDE_API_URL)"
            );
            return EXIT_USAGE;
        }
        Err(e) => tracing::warn!("getMe failed, polling anyway: {e}"),
    }
    // The sandbox is a fresh simulation each time: its state and inbox live in memory.
    let store = Arc::new(match &sandbox {
        Some(_) => crate::store::Store::in_memory(),
        None => match open_store(config, "run") {
            Ok(store) => store,
            Err(code) => return code,
        },
    });
    // Before anything else starts (TDLib clients included): one `run` per database.
    let _claim = match store.claim() {
        Ok(claim) => claim,
        Err(e) => {
            eprintln!("tgscript run: {e}");
            return EXIT_USAGE;
        }
    };
    let runtime = tokio::runtime::Handle::current();
    let accounts = match crate::accounts::from_config(config, &runtime, sandbox.is_some()) {
        Ok(accounts) => accounts,
        Err(e) => {
            eprintln!("tgscript run: {e}");
            return EXIT_USAGE;
        }
    };
    let inbox = config
        .inbox
        .enabled
        .then(|| Arc::new(Inbox::new(store.clone(), config.inbox.max_attempts)));
    let host = Arc::new(
        Host::with_bot(bot.clone(), runtime)
            .and_accounts(accounts)
            .and_store(store),
    );
    let engine = Arc::new(ScriptEngine::with_host(
        config.limits.clone(),
        &dir,
        host.clone(),
    ));
    tracing::info!("limits: {}", config.limits.summary());

    if let Some(listen) = &config.gateway.listen
        && let Err(e) = start_gateway(config, listen, host.clone(), engine.clone()).await
    {
        eprintln!("tgscript run: {e}");
        return EXIT_USAGE;
    }
    let report_to = config
        .scripts
        .report_errors_to
        .map(|chat| (host.clone(), chat));
    let registry = Arc::new(Registry::new(engine, &dir, report_to));
    // Watch first, so no change made during the first load is missed.
    let _watcher = if config.scripts.hot_reload {
        match watch::watch(&dir, registry.clone()) {
            Ok(watcher) => Some(watcher),
            Err(e) => {
                tracing::warn!("hot reload is off: cannot watch {}: {e}", dir.display());
                None
            }
        }
    } else {
        None
    };
    let initial = registry.clone();
    match tokio::task::spawn_blocking(move || initial.reload()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            eprintln!("tgscript run: cannot read {}: {e}", dir.display());
            return EXIT_FAILURE;
        }
        Err(e) => {
            eprintln!("tgscript run: loading the scenarios failed: {e}");
            return EXIT_FAILURE;
        }
    }
    if registry.snapshot().is_empty() {
        tracing::warn!("no scenario loaded from {} yet", dir.display());
    }
    let dispatcher = Arc::new(Dispatcher::new(registry, inbox.clone()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);

    if let Some(inbox) = &inbox {
        let left = match inbox.unfinished() {
            Ok(left) => left,
            Err(e) => {
                eprintln!("tgscript run: {e}");
                return EXIT_FAILURE;
            }
        };
        let count = left.interrupted.len() + left.waiting.len();
        if count > 0 {
            tracing::info!(
                "inbox: {count} update(s) left unfinished or queued for a retry; handling them first"
            );
        }
        // The first update of each chat may have been running when the process stopped:
        // those run one at a time, so a crash they cause is counted against them alone.
        let progress = dispatcher.progress();
        for update in left.interrupted {
            let before = progress.handled();
            dispatcher.dispatch(update);
            progress.wait_handled(before + 1).await;
        }
        left.waiting
            .into_iter()
            .for_each(|u| dispatcher.dispatch(u));
        tokio::spawn(take_requeued(
            inbox.clone(),
            dispatcher.clone(),
            stopped.clone(),
        ));
    }
    if let Err(e) = bot.call("deleteWebhook", &serde_json::json!({})).await {
        tracing::warn!("deleteWebhook failed, polling anyway: {e}");
    }

    let signal_stop = stop.clone();
    tokio::spawn(async move {
        if stop_signal().await {
            tracing::info!("stopping: waiting for running handlers to finish");
            let _ = signal_stop.send(true);
        }
    });

    if let Some(server) = &sandbox {
        eprintln!(
            "sandbox: no TELOXIDE_TOKEN, so scripts run against a simulated supergroup \"Sandbox Group\" ({}) \
             where the bot is an administrator. Type messages (you are alice); /as NAME text, /join NAME, \
             /reply ID text, /press DATA. End of input stops.",
            crate::sandbox::world::SANDBOX_CHAT_ID
        );
        console::print_calls(server);
        let progress = dispatcher.progress();
        let stop = stop.clone();
        let server = server.clone();
        // Each line is handled before the next is read, like a chat; end of input stops.
        tokio::spawn(async move {
            feed_stdin(&server, &progress).await;
            let _ = stop.send(true);
        });
    }

    let mut poller = Poller::new(bot, POLL_TIMEOUT);
    poll(&mut poller, inbox.as_ref(), &dispatcher, stopped).await;
    dispatcher.finish().await;
    if let Err(e) = poller.confirm().await {
        tracing::debug!(
            "could not confirm the last updates (they come again and are skipped): {e}"
        );
    }
    host.accounts().close_all().await;
    drop(sandbox);
    0
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM (`systemctl stop`, `docker stop`); `false` if
/// neither can be listened for.
async fn stop_signal() -> bool {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.is_ok(),
            _ = term.recv() => true,
        },
        Err(_) => tokio::signal::ctrl_c().await.is_ok(),
    }
}

/// Resolves once `stop` has been set.
async fn stopped(mut stop: Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Fetch updates until `stop`: keep each batch in the inbox before it is acknowledged, then
/// hand the updates not seen before to the dispatcher.
async fn poll(
    poller: &mut Poller,
    inbox: Option<&Arc<Inbox>>,
    dispatcher: &Dispatcher,
    stop: Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let fetched = tokio::select! {
            _ = stopped(stop.clone()) => return,
            fetched = poller.fetch() => fetched,
        };
        let failure = match fetched {
            Ok(batch) if batch.is_empty() => None,
            Ok(batch) => {
                let kept = match inbox {
                    Some(inbox) => {
                        let (inbox, owned) = (inbox.clone(), batch.clone());
                        tokio::task::spawn_blocking(move || inbox.accept(&owned))
                            .await
                            .unwrap_or_else(|e| Err(e.to_string()))
                    }
                    None => Ok(batch.clone()),
                };
                match kept {
                    Ok(fresh) => {
                        poller.acknowledge(&batch);
                        fresh.into_iter().for_each(|u| dispatcher.dispatch(u));
                        None
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

/// Hand updates that `tgscript inbox retry` queued to the dispatcher, and now and then prune
/// old handled updates, until `stop`.
async fn take_requeued(inbox: Arc<Inbox>, dispatcher: Arc<Dispatcher>, stop: Receiver<bool>) {
    let mut last_prune = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = stopped(stop.clone()) => return,
            _ = tokio::time::sleep(REQUEUE_EVERY) => {}
        }
        let inbox = inbox.clone();
        let prune = last_prune.elapsed() >= PRUNE_EVERY;
        if prune {
            last_prune = std::time::Instant::now();
        }
        let looked = tokio::task::spawn_blocking(move || {
            if prune && let Err(e) = inbox.prune() {
                tracing::warn!("{e}");
            }
            inbox.requeued()
        });
        match looked.await {
            Ok(Ok(updates)) => {
                for update in updates {
                    tracing::info!(
                        "inbox: update {} queued again by `inbox retry`",
                        update["update_id"]
                    );
                    dispatcher.dispatch(update);
                }
            }
            Ok(Err(e)) => tracing::warn!("{e}"),
            Err(e) => tracing::warn!("inbox: {e}"),
        }
    }
}

/// Read stdin to the end, turning each line into sandbox updates and waiting until the
/// scenarios have handled them before reading the next line.
async fn feed_stdin(server: &BotApiServer, progress: &Progress) {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut users = Users::default();
    let mut queued = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        let (input, added) = server.world(|w| {
            let before = w.pending();
            let input = console::apply_line(w, &mut users, &line);
            (input, w.pending() - before)
        });
        match input {
            Input::Queued(echo) => {
                println!("{echo}");
                queued += added as u64;
                progress.wait_handled(queued).await;
            }
            Input::Invalid(why) => eprintln!("sandbox: {why}"),
        }
    }
}

/// Serve the JSON gateway beside the bot (`[gateway] listen`).
async fn start_gateway(
    config: &Config,
    listen: &str,
    host: Arc<Host>,
    engine: Arc<ScriptEngine>,
) -> Result<(), String> {
    let addr: std::net::SocketAddr = listen
        .parse()
        .map_err(|e| format!("[gateway] listen = {listen:?}: {e}"))?;
    let token = config
        .gateway
        .token
        .as_ref()
        .map(|t| t.expose().to_string());
    crate::gateway::check_bind(&addr, token.as_deref())?;
    if let Some(token) = &token {
        crate::logging::add_secret(token);
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    tracing::info!("gateway listening on http://{addr} beside the bot");
    let app = crate::gateway::Gateway::new(host, engine, token).router();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("gateway stopped: {e}");
        }
    });
    Ok(())
}
