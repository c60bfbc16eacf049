//! `tgscript serve [--listen ADDR]`: the JSON command gateway.

use super::{EXIT_FAILURE, EXIT_USAGE, open_store, runtime};
use crate::config::Config;
use crate::engine::ScriptEngine;
use crate::gateway::{self, Gateway};
use crate::host::Host;
use crate::telegram::BotClient;
use std::net::SocketAddr;
use std::sync::Arc;

pub(super) fn serve(config: &Config, listen: Option<String>) -> u8 {
    let addr = listen
        .or_else(|| config.gateway.listen.clone())
        .unwrap_or_else(|| gateway::DEFAULT_LISTEN.to_string());
    let addr: SocketAddr = match addr.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "tgscript serve: --listen {addr}: {e} (expected an address like 127.0.0.1:8377)"
            );
            return EXIT_USAGE;
        }
    };
    let token = config
        .gateway
        .token
        .as_ref()
        .map(|t| t.expose().to_string());
    if let Err(e) = gateway::check_bind(&addr, token.as_deref()) {
        eprintln!("tgscript serve: {e}");
        return EXIT_USAGE;
    }
    if let Some(token) = &token {
        crate::logging::add_secret(token);
    }
    let runtime = match runtime("serve") {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let handle = tokio::runtime::Handle::current();
        let accounts = match crate::accounts::from_config(config, &handle, true) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("tgscript serve: {e}");
                return EXIT_USAGE;
            }
        };
        let host = match std::env::var("TELOXIDE_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
            Some(bot_token) => {
                crate::logging::add_secret(&bot_token);
                match BotClient::new(&bot_token, std::env::var("TELOXIDE_API_URL").ok().as_deref()) {
                    Ok(bot) => Host::with_bot(bot, handle.clone()).and_accounts(accounts),
                    Err(e) => {
                        eprintln!("tgscript serve: {e}");
                        return EXIT_USAGE;
                    }
                }
            }
            None => Host::with_accounts_only(accounts, handle.clone()),
        };
        let state = match open_store(config, "serve") {
            Ok(state) => state,
            Err(code) => return code,
        };
        let host = Arc::new(host.and_store(Arc::new(state)));
        let engine = Arc::new(ScriptEngine::with_host(config.limits.clone(), &config.scripts.dir, host.clone()));
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("tgscript serve: cannot listen on {addr}: {e}");
                return EXIT_FAILURE;
            }
        };
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| addr.to_string());
        tracing::info!(
            "gateway listening on http://{local} (WebSocket /ws, POST /command, GET /health){}; accounts {:?}",
            if token.is_some() { ", bearer token required" } else { "" },
            host.accounts().ids()
        );
        let app = Gateway::new(host, engine, token).router();
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        match served {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("tgscript serve: {e}");
                EXIT_FAILURE
            }
        }
    })
}
