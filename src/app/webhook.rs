//! The webhook listener (`[webhook] listen`): Telegram posts each update of a webhook bot to
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

use super::AppError;
use super::status::BotStatus;
use crate::cluster::ingress::Ingress;
use crate::config::WebhookConfig;
use crate::host::Host;
use crate::inbox::{Inbox, Origin};
use crate::scenario::dispatch::Dispatcher;
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
/// The updates a webhook bot asks Telegram for: every kind a scenario can handle, member
/// changes included (Telegram leaves `chat_member` out unless asked).
const ALLOWED_UPDATES: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "message_reaction",
    "inline_query",
    "poll_answer",
];

/// What the secret of a cluster's webhook bot is derived for (with its token).
const CLUSTER_SECRET: &str = "tgscript webhook";

/// Where one webhook bot's deliveries go.
pub struct Route {
    secret: String,
    sink: Sink,
}

/// What is done with a checked delivery.
enum Sink {
    /// Kept in this process's inbox (when on) and handed to its dispatcher; each delivery
    /// noted in `status`.
    Here {
        inbox: Option<Arc<Inbox>>,
        dispatcher: Arc<Dispatcher>,
        status: Arc<BotStatus>,
    },
    /// Written to the cluster's stream, for the bot's owner.
    Cluster(Ingress),
}

impl Route {
    /// A route into `inbox` (when on) and `dispatcher`, with a new random secret; each
    /// delivery is noted in `status`.
    pub fn new(
        inbox: Option<Arc<Inbox>>,
        dispatcher: Arc<Dispatcher>,
        status: Arc<BotStatus>,
    ) -> Result<Self, AppError> {
        Ok(Self {
            secret: new_secret()?,
            sink: Sink::Here {
                inbox,
                dispatcher,
                status,
            },
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
pub async fn bind(config: &WebhookConfig) -> Result<tokio::net::TcpListener, AppError> {
    let listen = config.listen.as_deref().unwrap_or_default();
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        AppError::Config(format!(
            "[webhook] listen = {listen:?}: cannot listen there ({e})"
        ))
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
) -> Result<(), AppError> {
    let Some(bot) = host.bot() else {
        return Err(AppError::Failed(format!("bot {id}: no Bot API client")));
    };
    let base = config.public_url.as_deref().unwrap_or_default();
    let url = format!("{}/webhook/{id}", base.trim_end_matches('/'));
    let params = json!({
        "url": url,
        "secret_token": route.secret,
        "allowed_updates": ALLOWED_UPDATES,
        "max_connections": config.max_connections,
    });
    bot.call("setWebhook", &params)
        .await
        .map_err(|e| AppError::Failed(format!("bot {id}: setWebhook to {url} failed: {e}")))?;
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
    let (inbox, dispatcher, status) = match &route.sink {
        Sink::Here {
            inbox,
            dispatcher,
            status,
        } => (inbox, dispatcher, status),
        Sink::Cluster(ingress) => {
            let update_id = update["update_id"].as_i64().unwrap_or_default();
            return match ingress.publish(&id, update_id, body).await {
                Ok(_) => (StatusCode::OK, "ok\n").into_response(),
                Err(e) => not_kept(&id, &e.to_string()),
            };
        }
    };
    let fresh = match inbox {
        None => vec![update],
        Some(inbox) => {
            let (inbox, batch) = (inbox.clone(), [update]);
            match tokio::task::spawn_blocking(move || inbox.accept(&batch)).await {
                Ok(Ok(fresh)) => fresh,
                Ok(Err(e)) => return not_kept(&id, &e.to_string()),
                Err(e) => return not_kept(&id, &e.to_string()),
            }
        }
    };
    status.ok();
    fresh
        .into_iter()
        .for_each(|update| dispatcher.dispatch(update, Origin::Fetched));
    (StatusCode::OK, "ok\n").into_response()
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
fn new_secret() -> Result<String, AppError> {
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| {
            AppError::Failed(format!("cannot make a webhook secret: /dev/urandom: {e}"))
        })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
