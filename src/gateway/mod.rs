//! The JSON command gateway for no-code backends: the seed's protocol over WebSocket (`/ws`)
//! and HTTP (`POST /command`), every action through the same command layer as the builtins.
//! Requests of one account run in order, different accounts concurrently; bad input gets an
//! error event and never closes the connection.

pub mod accounts;
pub mod actions;
mod auth;
mod console;
mod cors;
pub mod elsewhere;
mod events;
pub use listener::HEADER_TIMEOUT;
pub mod admin;
pub mod listener;
mod outbox;
pub mod places;
pub mod reference;
mod report;
mod request;
pub mod schema;
pub mod subscribe;
pub mod tenants;

pub use auth::{SUBPROTOCOL, UNVERSIONED_SUBPROTOCOL};
pub use events::PROTOCOL_VERSION;
pub use report::report_routes;

use crate::accounts::EventHub;
use crate::telemetry::Report;
use accounts::AccountAdmin;
use actions::BotControl;
use events::{error_event, too_large};
pub use events::{handle, handle_as};
pub use tenants::{Client, TenantTokens};

use crate::effects::Effects;
use crate::lanes::Lanes;
use crate::scenario::runner::Runner;
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, options, post};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest request frame (or body) accepted; bigger ones get an error event.
pub const MAX_FRAME: usize = 1024 * 1024;
/// Frames past this size are cut off by the WebSocket layer while reading (the connection
/// closes); between [`MAX_FRAME`] and this, the request gets an error event.
const HARD_FRAME_LIMIT: usize = 4 * MAX_FRAME;
/// Requests one connection may have in flight; past them the connection is not read until
/// one is answered.
const PER_CONNECTION: usize = 16;
/// Requests all connections together may have running at once.
const OVERALL: usize = 64;
/// How long a `POST /command` body may take to arrive once its headers have.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Connections served at once: past them, the one idle the longest is closed for a new one;
/// while all are busy (WebSockets included), new ones wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 512;
pub use crate::config::DEFAULT_MAX_ANSWER_SIZE;
/// The smallest `[gateway] max_answer_size` taken (64 KiB): any error event fits.
pub const MIN_MAX_ANSWER_SIZE: usize = 64 * 1024;
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8377";

/// Why the gateway cannot listen or serve.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The listen address does not parse.
    #[error("listen address {listen:?}: {error} (expected an address like {DEFAULT_LISTEN})")]
    Address {
        /// What was given.
        listen: String,
        /// Why it does not parse.
        error: std::net::AddrParseError,
    },
    /// A non-loopback address without a token.
    #[error(
        "refusing to listen on {0} without a token: set [gateway] token (or TGSCRIPT_GATEWAY_TOKEN), or listen on 127.0.0.1"
    )]
    Unprotected(SocketAddr),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// Where the gateway listens and the token it requires, checked: an address that parses, and
/// never beyond loopback without a token.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address to listen on.
    pub addr: SocketAddr,
    /// The bearer token clients must present, if any.
    pub token: Option<String>,
    /// Web origins whose pages may call the gateway.
    pub allowed_origins: Vec<String>,
    /// The bearer token of the admin actions, if any.
    pub admin_token: Option<String>,
    /// The largest answer sent, in bytes (`[gateway] max_answer_size`).
    pub max_answer_size: usize,
}

impl Settings {
    /// Settings for `listen` (e.g. `127.0.0.1:8377`), `token` and the web origins allowed.
    pub fn new(
        listen: &str,
        token: Option<String>,
        allowed_origins: Vec<String>,
    ) -> Result<Self, GatewayError> {
        let addr: SocketAddr = listen.parse().map_err(|error| GatewayError::Address {
            listen: listen.to_string(),
            error,
        })?;
        if !addr.ip().is_loopback() && token.is_none() {
            return Err(GatewayError::Unprotected(addr));
        }
        Ok(Self {
            addr,
            token,
            allowed_origins,
            admin_token: None,
            max_answer_size: DEFAULT_MAX_ANSWER_SIZE,
        })
    }

    /// The same settings, taking admin actions from clients that send `token`.
    pub fn with_admin_token(mut self, token: Option<String>) -> Self {
        self.admin_token = token;
        self
    }

    /// The same settings, sending no answer over `bytes` (at least [`MIN_MAX_ANSWER_SIZE`]).
    pub fn with_max_answer_size(mut self, bytes: usize) -> Self {
        self.max_answer_size = bytes.max(MIN_MAX_ANSWER_SIZE);
        self
    }
}

/// What the gateway serves with.
pub struct Gateway {
    effects: Arc<dyn Effects>,
    runner: Arc<Runner>,
    token: Option<String>,
    admin_token: Option<String>,
    allowed_origins: Vec<String>,
    /// The bots of the process, for admin actions and `bot_id` (none under `serve`).
    bots: Option<Arc<dyn BotControl>>,
    /// Where `check_script` checks scripts when no bots run: the scripts folder.
    folder: Option<admin::BotScope>,
    /// Requests running now, across connections.
    running: Arc<tokio::sync::Semaphore>,
    /// What `/health` reports (the bots and accounts of a `run`); none: just `ok`.
    report: Option<Arc<dyn Report>>,
    /// The accounts, for the account admin actions.
    accounts: Option<Arc<AccountAdmin>>,
    /// Where account events are published, for `subscribe`.
    events: Option<Arc<EventHub>>,
    /// The tenants' tokens.
    tenants: TenantTokens,
    /// What a tenant's client acts as (its accounts, its outbound HTTP), and its
    /// `run_script`'s effects; none: no tenant's client is taken.
    host: Option<Arc<crate::host::Host>>,
    /// Where `run_script` runs for a client other than the admin: no scenario folder.
    sealed: Option<Arc<Runner>>,
    /// The largest answer sent, in bytes.
    max_answer_size: usize,
}

impl Gateway {
    /// A gateway whose actions act through `effects` and whose scripts run on `runner`,
    /// requiring `settings`' token as `Authorization: Bearer` when set and refusing web pages
    /// of other origins. Nothing it runs is journaled.
    pub fn new(effects: Arc<dyn Effects>, runner: Arc<Runner>, settings: &Settings) -> Self {
        Self {
            effects,
            runner,
            token: settings.token.clone(),
            admin_token: settings.admin_token.clone(),
            bots: None,
            folder: None,
            allowed_origins: settings.allowed_origins.clone(),
            max_answer_size: settings.max_answer_size,
            running: Arc::new(tokio::sync::Semaphore::new(OVERALL)),
            report: None,
            accounts: None,
            events: None,
            tenants: TenantTokens::default(),
            host: None,
            sealed: None,
        }
    }

    /// The same gateway taking the clients of `tenants`' tokens, each acting as its tenant
    /// through `host`; `run_script` of a client other than the admin runs on `sealed` (no
    /// scenario folder: it reaches no files).
    pub fn with_tenants(
        mut self,
        tenants: TenantTokens,
        host: Arc<crate::host::Host>,
        sealed: Arc<Runner>,
    ) -> Self {
        self.tenants = tenants;
        self.host = Some(host);
        self.sealed = Some(sealed);
        self
    }

    /// Whether clients must present a token (`[gateway] token` is set).
    pub(crate) fn requires_token(&self) -> bool {
        self.token.is_some()
    }

    /// What `client`'s requests act through: the gateway's effects, checked as a tenant's
    /// for a tenant's client (its accounts only, no state, its outbound HTTP).
    pub(crate) fn effects_for(
        &self,
        client: &Client,
        action: &str,
    ) -> Result<Arc<dyn Effects>, crate::request::CommandError> {
        match (client.tenant(), &self.host) {
            (None, _) => Ok(self.effects.clone()),
            (Some(tenant), Some(host)) => Ok(crate::authority::Checked::as_client(
                self.effects.clone(),
                host.client_of(tenant),
            )),
            (Some(_), None) => Err(crate::request::CommandError::invalid(
                action,
                "this gateway takes no tenant's client",
            )),
        }
    }

    /// The same gateway taking the account admin actions through `accounts` and pushing
    /// the events of `hub` to subscribed clients.
    pub fn with_accounts(mut self, accounts: Arc<AccountAdmin>, hub: Arc<EventHub>) -> Self {
        self.accounts = Some(accounts);
        self.events = Some(hub);
        self
    }

    /// The same gateway taking admin actions and `bot_id` through `bots`.
    pub fn with_bots(mut self, bots: Arc<dyn BotControl>) -> Self {
        self.bots = Some(bots);
        self
    }

    /// The same gateway checking scripts as scenarios of `folder` while no bots run.
    pub fn with_folder(mut self, folder: admin::BotScope) -> Self {
        self.folder = Some(folder);
        self
    }

    /// The same gateway answering `/health` with `report`.
    pub fn with_report(mut self, report: Arc<dyn Report>) -> Self {
        self.report = Some(report);
        self
    }

    /// The routes: `/v1/ws` and `POST /v1/command` (also as `/ws` and `/command`), their
    /// browsers' preflights (`OPTIONS`), `GET /health`, `/livez`, `/readyz`, `/metrics`, and
    /// the console (`GET /`).
    pub fn router(self) -> Router {
        let report = report_routes(self.report.clone());
        let state = Arc::new(self);
        let mut protected = Router::new();
        let mut preflights = Router::new();
        for (ws, command_path) in [("/v1/ws", "/v1/command"), ("/ws", "/command")] {
            protected = protected
                .route(ws, get(websocket))
                .route(command_path, post(command));
            preflights = preflights.route(command_path, options(cors::preflight));
        }
        let protected = protected.route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ));
        Router::new()
            .merge(protected)
            .merge(preflights)
            .with_state(state)
            .merge(report)
            .merge(console::routes())
    }
}

/// Listen as `settings` say; logs the address once it listens.
pub async fn listen(settings: &Settings) -> Result<tokio::net::TcpListener, GatewayError> {
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|error| GatewayError::Listen {
            addr: settings.addr,
            error,
        })?;
    let local = listener
        .local_addr()
        .map_or_else(|_| settings.addr.to_string(), |a| a.to_string());
    tracing::info!(
        "gateway listening on http://{local} (console /, WebSocket /v1/ws, POST /v1/command, GET /livez, /readyz, /health, /metrics){}",
        if settings.token.is_some() {
            ", bearer token required"
        } else {
            ""
        }
    );
    Ok(listener)
}

/// Serve `gateway` on `listener` until `shutdown` resolves, then let open connections
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Gateway,
    shutdown: impl Future<Output = ()>,
) {
    listener::serve(listener, gateway.router(), MAX_CONNECTIONS, shutdown).await;
}

async fn command(
    State(gw): State<Arc<Gateway>>,
    axum::Extension(client): axum::Extension<Client>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            axum::Json(error_event(
                None,
                None,
                "POST /command takes a JSON request: send it with Content-Type: application/json",
            )),
        )
            .into_response();
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let (event, status) = match declared {
        Some(size) if size > MAX_FRAME => {
            // Read (and drop) a body up to the hard limit, so the client gets to read the
            // answer instead of a broken pipe; past it the connection just closes.
            if size <= HARD_FRAME_LIMIT {
                let _ = tokio::time::timeout(
                    BODY_TIMEOUT,
                    axum::body::to_bytes(body, HARD_FRAME_LIMIT),
                )
                .await;
            }
            (too_large(size).to_string(), StatusCode::PAYLOAD_TOO_LARGE)
        }
        _ => match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_FRAME)).await {
            Ok(Ok(body)) => match request::Asked::parse(&String::from_utf8_lossy(&body)) {
                Ok(asked) => run(&gw, asked, client).await,
                Err(refused) => events::not_a_request(refused),
            },
            Ok(Err(e)) => (
                error_event(
                    None,
                    None,
                    &format!(
                        "the request body could not be read ({e}); the limit is {MAX_FRAME} bytes"
                    ),
                )
                .to_string(),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            Err(_) => {
                let error = format!(
                    "the request body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                );
                return (
                    StatusCode::REQUEST_TIMEOUT,
                    axum::Json(error_event(None, None, &error)),
                )
                    .into_response();
            }
        },
    };
    (status, [(header::CONTENT_TYPE, "application/json")], event).into_response()
}

async fn websocket(
    State(gw): State<Arc<Gateway>>,
    axum::Extension(client): axum::Extension<Client>,
    revocable: Option<axum::Extension<tenants::Revocable>>,
    place: Option<axum::Extension<places::Place>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let revocable = revocable.map(|axum::Extension(tenants::Revocable(token))| token);
    // The upgraded connection keeps its place (busy) for its whole life.
    let busy = place.map(|axum::Extension(place)| place.busy());
    upgrade
        .protocols([SUBPROTOCOL, UNVERSIONED_SUBPROTOCOL])
        .max_message_size(HARD_FRAME_LIMIT)
        .max_frame_size(HARD_FRAME_LIMIT)
        .on_upgrade(move |socket| async move {
            connection(gw, socket, client, revocable).await;
            drop(busy);
        })
}

/// What a connection whose tenant's token was removed is told before it is closed.
const REVOKED: &str = "this connection's token was removed: the connection is closed";
/// How often an open connection of a tenant's token kept in the store checks it still is.
const TOKEN_RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether the token `revocable` (of a tenant's client, kept in the store) still names the
/// client's tenant; a connection with no such token always is.
async fn still_valid(gw: &Arc<Gateway>, client: &Client, revocable: Option<&[u8]>) -> bool {
    let (Some(token), Some(tenant)) = (revocable, client.tenant()) else {
        return true;
    };
    let (gw, token, tenant) = (gw.clone(), token.to_vec(), tenant.to_string());
    tokio::task::spawn_blocking(
        move || matches!(gw.tenants.tenant_of(&token), Ok(Some(now)) if *now == *tenant),
    )
    .await
    .unwrap_or(false)
}

/// One client: frames are queued per account (in order within an account, concurrently
/// across accounts); answers go out through one writer, whose queue is bounded (a client too
/// slow to read them is closed). A client's Close is answered and ends the connection.
async fn connection(
    gw: Arc<Gateway>,
    socket: WebSocket,
    client: Client,
    revocable: Option<Vec<u8>>,
) {
    use futures::StreamExt;
    let (sink, mut stream) = socket.split();
    let (outbox, writer) = outbox::new();
    let writer = tokio::spawn(writer.run(sink));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(PER_CONNECTION));
    let events = gw.events.clone();
    let lanes = {
        let out = outbox.clone();
        let (gw, client) = (gw.clone(), client.clone());
        Lanes::new(
            move |(asked, slot): (request::Asked, tokio::sync::OwnedSemaphorePermit)| {
                let (gw, out, client) = (gw.clone(), out.clone(), client.clone());
                async move {
                    let event = match gw.running.clone().acquire_owned().await {
                        Ok(_running) => {
                            let gw = gw.clone();
                            tokio::task::spawn_blocking(move || {
                                events::respond(&gw, &asked, &client).0
                            })
                            .await
                            .unwrap_or_else(|e| {
                                error_event(None, None, &format!("internal error: {e}")).to_string()
                            })
                        }
                        Err(_) => error_event(None, None, "the gateway is stopping").to_string(),
                    };
                    out.send(event);
                    drop(slot);
                }
            },
        )
    };
    let mut subscriber = subscribe::Subscriber::default();
    let mut recheck = tokio::time::interval(TOKEN_RECHECK);
    loop {
        // A client whose answers cannot be written any more is done, even if it says nothing.
        let message = tokio::select! {
            message = stream.next() => message,
            () = outbox.closed() => break,
            _ = recheck.tick(), if revocable.is_some() => {
                if !still_valid(&gw, &client, revocable.as_deref()).await {
                    outbox.send(error_event(None, None, REVOKED).to_string());
                    break;
                }
                continue;
            }
        };
        let Some(Ok(message)) = message else { break };
        if !still_valid(&gw, &client, revocable.as_deref()).await {
            outbox.send(error_event(None, None, REVOKED).to_string());
            break;
        }
        let text = match message {
            Message::Text(text) => text.to_string(),
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(_) => {
                outbox.close(None);
                break;
            }
            _ => continue,
        };
        if text.len() > MAX_FRAME {
            outbox.send(too_large(text.len()).to_string());
            continue;
        }
        let asked = match request::Asked::parse(&text) {
            Ok(asked) => asked,
            Err(refused) => {
                outbox.send(events::not_a_request(refused).0);
                continue;
            }
        };
        if let actions::Action::Gateway(actions::ActionSpec {
            run: actions::Run::Connection(what),
            ..
        }) = asked.action
        {
            subscriber
                .handle(
                    *what,
                    events.as_ref(),
                    &asked,
                    &outbox,
                    &client,
                    gw.host.as_deref(),
                )
                .await;
            continue;
        }
        // Past PER_CONNECTION unanswered requests, wait: the client's frames stay unread.
        let slot = tokio::select! {
            slot = in_flight.clone().acquire_owned() => slot,
            () = outbox.closed() => break,
        };
        let Ok(slot) = slot else { break };
        lanes.push(queue_key(&asked), (asked, slot));
    }
    // The writer ends (and the socket closes) once every sender of the answers is gone: the
    // lanes' closure holds one.
    drop(stream);
    lanes.finish().await;
    drop(lanes);
    drop(subscriber);
    drop(outbox);
    let _ = writer.await;
}

/// Answer one request on a blocking thread, as one of the requests running at once, with
/// the HTTP status of its event.
async fn run(gw: &Arc<Gateway>, asked: request::Asked, client: Client) -> (String, StatusCode) {
    let Ok(_running) = gw.running.clone().acquire_owned().await else {
        let event = error_event(None, None, "the gateway is stopping");
        return (event.to_string(), StatusCode::SERVICE_UNAVAILABLE);
    };
    let gw = gw.clone();
    tokio::task::spawn_blocking(move || events::respond(&gw, &asked, &client))
        .await
        .unwrap_or_else(|e| {
            let event = error_event(None, None, &format!("internal error: {e}"));
            (event.to_string(), StatusCode::INTERNAL_SERVER_ERROR)
        })
}

/// How many queues one connection's requests are spread over.
const LANES_PER_CONNECTION: i64 = 32;

/// Requests of one account share a queue (accounts are spread over
/// [`LANES_PER_CONNECTION`] queues, so any number of ids costs a bounded number of them);
/// everything else (chat actions, scripts, bad input) shares queue 0.
fn queue_key(asked: &request::Asked) -> i64 {
    asked
        .userbot_id()
        .and_then(crate::request::as_int)
        .map_or(0, |id| 1 + id.rem_euclid(LANES_PER_CONNECTION))
}
