//! Webhook deliveries in: the listener (`[webhook] listen`) and a webhook bot's health. Telegram posts each update of a webhook bot to
//! `POST /webhook/<bot id>` with the secret tgscript gave it in `setWebhook`. The secret is
//! checked in constant time (401 without it, the same answer as for a bot id that is no
//! webhook bot's, so neither tells which ids exist; a peer refused too often gets 429, and
//! the log sums refusals up, [`refusals`]), the body must be an update with an `update_id`
//! of 0 or more (400, nothing stored: negative ids are the inbox's own, for jobs and account
//! events), and the update is in the inbox on disk before the 200: Telegram delivers again
//! whatever it got no 200 for, and a repeated `update_id` is answered 200 and not handled
//! again. In a cluster every instance takes every webhook bot's deliveries and writes them to
//! the cluster's stream ([`crate::cluster::ingress`]) before the 200; the bot's owner takes
//! them from there.

mod refusals;

use super::Intake;
use crate::cluster::ingress::Ingress;
use crate::config::WebhookConfig;
use crate::host::Host;
use crate::telegram::BotClient;
use crate::telemetry::Report;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use subtle::ConstantTimeEq;

/// What a request without the right secret, or for a bot id that is no webhook bot's, gets.
const UNAUTHORIZED: &str = "no webhook bot with this id and secret token\n";
/// What a peer gets once it has had too many requests refused.
const TOO_MANY: &str = "too many refused webhook requests from this address; try again later\n";
/// The header Telegram sends the secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// The most deliveries served at once (Telegram opens at most 100 per bot).
const MAX_CONNECTIONS: usize = 1024;
/// How often a webhook bot's deliveries are looked at (`getWebhookInfo`) for `/health`.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Why a webhook listener or bot cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// `[webhook] listen` cannot be bound.
    #[error("[webhook] listen = {listen:?}: cannot listen there ({error})")]
    Listen {
        /// The address.
        listen: String,
        /// Why.
        error: std::io::Error,
    },
    /// Telegram refused the webhook, or the bot has no client.
    #[error("bot {id}: {why}")]
    SetWebhook {
        /// The bot.
        id: String,
        /// Why, in words.
        why: String,
    },
    /// No secret could be made.
    #[error("cannot make a webhook secret: /dev/urandom: {0}")]
    Secret(std::io::Error),
}

/// What the secret of a cluster's webhook bot is derived for (with its token).
const CLUSTER_SECRET: &str = "tgscript webhook";

/// Where one webhook bot's deliveries go.
pub struct Route {
    secret: String,
    sink: Sink,
}

/// What is done with a checked delivery.
enum Sink {
    /// Taken in through this process's intake of the bot (kept, then dispatched).
    Here(Arc<Intake>),
    /// Written to the cluster's stream, for the bot's owner.
    Cluster(Ingress),
}

impl Route {
    /// A route into `intake`, with a new random secret.
    pub fn new(intake: Arc<Intake>) -> Result<Self, WebhookError> {
        Ok(Self {
            secret: new_secret()?,
            sink: Sink::Here(intake),
        })
    }

    /// A cluster's route for the bot of `client` into `ingress`, with the secret every
    /// instance derives from its token (any of them may be given a delivery).
    pub fn cluster(client: &BotClient, ingress: Ingress) -> Self {
        Self {
            secret: client.derived_secret(CLUSTER_SECRET),
            sink: Sink::Cluster(ingress),
        }
    }
}

/// The webhook bots by id.
#[derive(Clone, Default)]
pub struct Routes(Arc<RwLock<HashMap<String, Arc<Route>>>>);

impl Routes {
    /// Send bot `id`'s deliveries to `route`.
    pub fn insert(&self, id: &str, route: Route) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_string(), Arc::new(route));
    }

    /// Deliveries for bot `id` are refused (401) from now on.
    pub fn remove(&self, id: &str) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    fn get(&self, id: &str) -> Option<Arc<Route>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }
}

/// Bind `[webhook] listen`.
pub async fn bind(config: &WebhookConfig) -> Result<tokio::net::TcpListener, WebhookError> {
    let listen = config.listen.as_deref().unwrap_or_default();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| WebhookError::Listen {
            listen: listen.to_string(),
            error,
        })?;
    let local = listener
        .local_addr()
        .map_or_else(|_| listen.to_string(), |a| a.to_string());
    tracing::info!("webhook listener on http://{local} (POST /webhook/<bot id>)");
    Ok(listener)
}

/// Point bot `id`'s webhook (through `host`'s client) at `[webhook] public_url` +
/// `/webhook/<id>`, with `route`'s secret.
pub async fn set_webhook(
    id: &str,
    host: &Host,
    config: &WebhookConfig,
    route: &Route,
) -> Result<(), WebhookError> {
    let failed = |why: String| WebhookError::SetWebhook {
        id: id.to_string(),
        why,
    };
    let Some(bot) = host.bot() else {
        return Err(failed("no Bot API client".into()));
    };
    let base = config.public_url.as_deref().unwrap_or_default();
    let url = format!("{}/webhook/{id}", base.trim_end_matches('/'));
    let params = json!({
        "url": url,
        "secret_token": route.secret,
        "allowed_updates": crate::telegram::UpdateKind::allowed_updates(),
        "max_connections": config.max_connections,
    });
    bot.call("setWebhook", &params)
        .await
        .map_err(|e| failed(format!("setWebhook to {url} failed: {e}")))?;
    tracing::info!("bot {id}: webhook set to {url}");
    Ok(())
}

/// What a delivery is checked and routed with.
#[derive(Clone)]
struct Deliveries {
    routes: Routes,
    refusals: Arc<refusals::Refusals>,
}

/// Serve the deliveries of `routes` on `listener`, and `report` at `/health` and the metrics
/// at `/metrics`, until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    routes: Routes,
    report: Arc<dyn Report>,
    shutdown: impl Future<Output = ()>,
) {
    let refusals = Arc::new(refusals::Refusals::default());
    let router = Router::new()
        .route("/webhook/{id}", axum::routing::post(deliver))
        .with_state(Deliveries {
            routes,
            refusals: refusals.clone(),
        })
        .merge(crate::gateway::report_routes(Some(report)));
    tokio::select! {
        () = crate::gateway::listener::serve(listener, router, MAX_CONNECTIONS, shutdown) => {}
        () = refusals.summarize() => {}
    }
}

/// What a secret given for an unknown bot id is compared with (as long as a route's, 48
/// characters), so refusing it takes the time refusing a wrong secret takes.
const NO_SECRET: &str = "000000000000000000000000000000000000000000000000";

/// One delivery: checked, kept, then handed to the bot's dispatcher.
async fn deliver(
    State(deliveries): State<Deliveries>,
    Path(id): Path<String>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = deliveries.routes.get(&id);
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let secret = route
        .as_ref()
        .map_or(NO_SECRET, |route| route.secret.as_str());
    let right = bool::from(given.ct_eq(secret.as_bytes()));
    let (Some(route), true) = (route, right) else {
        let peer = peer.map(|axum::Extension(ConnectInfo(peer))| peer.ip());
        return match deliveries.refusals.refuse(peer, &id) {
            refusals::Refusal::Unauthorized => {
                (StatusCode::UNAUTHORIZED, UNAUTHORIZED).into_response()
            }
            refusals::Refusal::TooMany => (
                StatusCode::TOO_MANY_REQUESTS,
                [(axum::http::header::CONNECTION, "close")],
                TOO_MANY,
            )
                .into_response(),
        };
    };
    let update = match serde_json::from_slice::<Value>(&body) {
        Ok(update)
            if update.is_object() && update["update_id"].as_i64().is_some_and(|id| id >= 0) =>
        {
            update
        }
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "not an update: expected a JSON object with an update_id of 0 or more\n",
            )
                .into_response();
        }
    };
    match &route.sink {
        // Acknowledged by the 200 this answers with, once kept.
        Sink::Here(intake) => match intake.take(vec![update], || async {}).await {
            Ok(()) => {
                intake.status().ok();
                (StatusCode::OK, "ok\n").into_response()
            }
            Err(e) => not_kept(&id, &e.to_string()),
        },
        Sink::Cluster(ingress) => {
            let update_id = update["update_id"].as_i64().unwrap_or_default();
            match ingress.publish(&id, update_id, body).await {
                Ok(_) => (StatusCode::OK, "ok\n").into_response(),
                Err(e) => not_kept(&id, &e.to_string()),
            }
        }
    }
}

/// The answer when an update could not be kept: Telegram delivers it again later.
fn not_kept(id: &str, error: &str) -> Response {
    tracing::error!("bot {id}: cannot keep a webhook update ({error}); Telegram delivers it again");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the update could not be kept; deliver it again\n",
    )
        .into_response()
}

/// 48 random hex digits from the kernel (Telegram allows `A-Z`, `a-z`, `0-9`, `_`, `-`, up
/// to 256 characters).
fn new_secret() -> Result<String, WebhookError> {
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(WebhookError::Secret)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Until `stop`, ask now and then how Telegram's deliveries to `intake`'s webhook bot go
/// (`getWebhookInfo`): unreachable while the Bot API does not answer or Telegram reports a
/// delivery error newer than the last update that came.
pub async fn probe(intake: &Intake, client: &BotClient, stop: tokio::sync::watch::Receiver<bool>) {
    let status = intake.status();
    loop {
        tokio::select! {
            () = super::polling::stopped(stop.clone()) => return,
            () = tokio::time::sleep(PROBE_EVERY) => {}
        }
        // A bot that just got a delivery is known to work: no need to ask Telegram (with
        // many bots, the asking itself would be load).
        if crate::effects::system_now() - status.last_ok() < PROBE_EVERY.as_secs() as i64 {
            continue;
        }
        match client.call("getWebhookInfo", &json!({})).await {
            Ok(info) => match info["last_error_message"].as_str() {
                Some(error) if info["last_error_date"].as_i64() > Some(status.last_ok()) => {
                    status.failed(&format!("Telegram cannot deliver: {error}"));
                }
                _ => status.reachable_again(),
            },
            Err(e) => status.failed(&format!("getWebhookInfo failed: {e}")),
        }
    }
}
