//! `tgscript run [DIR]`: load the scenarios, receive updates by teloxide long polling and hand
//! them to the handlers. Without `TELOXIDE_TOKEN` it runs on the sandbox: a local Bot API
//! server with a simulated group, fed from stdin.

use super::{EXIT_FAILURE, EXIT_USAGE, open_store, runtime};
use crate::config::Config;
use crate::engine::ScriptEngine;
use crate::host::Host;
use crate::sandbox::console::{self, Input, Users};
use crate::sandbox::{BotApiServer, World};
use crate::scenario::dispatch::{Dispatcher, Progress};
use crate::scenario::registry::Registry;
use crate::scenario::watch;
use crate::telegram::{BotClient, BotError};
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use teloxide::types::AllowedUpdate;
use teloxide::update_listeners::{AsUpdateStream, Polling, UpdateListener};
use tokio::io::AsyncBufReadExt;

/// Token the sandbox bot uses with the local server.
const SANDBOX_TOKEN: &str = "0:sandbox";
/// Long-polling timeout of `getUpdates`.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);

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
    let runtime = tokio::runtime::Handle::current();
    let accounts = match crate::accounts::from_config(config, &runtime, sandbox.is_some()) {
        Ok(accounts) => accounts,
        Err(e) => {
            eprintln!("tgscript run: {e}");
            return EXIT_USAGE;
        }
    };
    // The sandbox is a fresh simulation each time: its state lives in memory.
    let state = match &sandbox {
        Some(_) => crate::store::StateStore::in_memory(),
        None => match open_store(config, "run") {
            Ok(state) => state,
            Err(code) => return code,
        },
    };
    let host = Arc::new(
        Host::with_bot(bot.clone(), runtime)
            .and_accounts(accounts)
            .and_state(state),
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
    let dispatcher = Arc::new(Dispatcher::new(registry));

    let mut polling = Polling::builder(bot.teloxide().clone())
        .timeout(POLL_TIMEOUT)
        .allowed_updates(allowed_updates())
        .delete_webhook()
        .await
        .build();
    let stop = polling.stop_token();

    let ctrl_c_stop = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("stopping: waiting for running handlers to finish");
            ctrl_c_stop.stop();
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
            stop.stop();
        });
    }

    {
        let mut stream = std::pin::pin!(polling.as_stream());
        while let Some(item) = stream.next().await {
            match item {
                Ok(update) => match serde_json::to_value(&update) {
                    Ok(value) => dispatcher.dispatch(value),
                    Err(e) => tracing::warn!("skipping an update that cannot be read: {e}"),
                },
                Err(e) => tracing::warn!(
                    "getUpdates failed: {}",
                    crate::logging::redact(&e.to_string())
                ),
            }
        }
    }
    dispatcher.finish().await;
    host.accounts().close_all().await;
    drop(sandbox);
    0
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

fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::EditedMessage,
        AllowedUpdate::ChannelPost,
        AllowedUpdate::EditedChannelPost,
        AllowedUpdate::CallbackQuery,
        AllowedUpdate::ChatMember,
        AllowedUpdate::MyChatMember,
        AllowedUpdate::ChatJoinRequest,
        AllowedUpdate::InlineQuery,
        AllowedUpdate::Poll,
        AllowedUpdate::PollAnswer,
        AllowedUpdate::MessageReaction,
    ]
}
