//! A Bot API server on a loopback port, answering from a simulated [`World`]: the sandbox of
//! `tgscript run` and the server the tests run against. Real HTTP, method names matched
//! case-insensitively, JSON, form and multipart bodies and parameters given as text read as
//! Telegram reads them ([`super::params`]), error bodies as Telegram sends them,
//! long-polling `getUpdates`, files handed out at `/file/bot<token>/<path>`, and every request
//! recorded.

use super::params;
use super::world::{Content, Refusal, World};
use crate::telegram::throttle::{FloodConfig, Throttle};
use crate::telegram::upload::Upload;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// One request the server received (except `getUpdates`, which polls all the time).
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The method name as the client spelled it.
    pub method: String,
    /// The parameters: the JSON body, or a form's fields with each file as an upload
    /// (`{"base64", "filename"}`).
    pub params: Value,
    /// When it arrived.
    pub at: Instant,
    /// The body's type as sent (`application/json`, `multipart/form-data; boundary=…`).
    pub content_type: String,
}

/// Called for each recorded request with the answer it got.
pub type Observer = Box<dyn Fn(&Recorded, &Result<Value, Refusal>) + Send + Sync>;

struct Shared {
    world: Mutex<World>,
    token: Option<String>,
    calls: Mutex<Vec<Recorded>>,
    calls_changed: Condvar,
    /// Bumped on every change of the world, to wake long polls.
    world_version: watch::Sender<u64>,
    observer: Mutex<Option<Observer>>,
    /// While set, every request gets `502 Bad Gateway` (an outage in front of the Bot API).
    down: std::sync::atomic::AtomicBool,
    /// Telegram's flood limits, when enforced: a request over them gets a `429`.
    flood: Mutex<Option<Throttle>>,
    /// How many `429`s flood enforcement answered.
    flood_refusals: AtomicUsize,
    /// The newest `getUpdates` request's number: as on Telegram, a newer one terminates
    /// the one still waiting (409).
    polls: watch::Sender<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running local Bot API server; stops when dropped.
pub struct BotApiServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BotApiServer {
    /// Start serving `world` on `127.0.0.1` (a free port) from a thread of its own. With a
    /// `token`, requests for any other token get Telegram's `401 Unauthorized`.
    pub fn start(world: World, token: Option<&str>) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            token: token.map(str::to_string),
            calls: Mutex::new(Vec::new()),
            calls_changed: Condvar::new(),
            world_version: watch::Sender::new(0),
            observer: Mutex::new(None),
            down: std::sync::atomic::AtomicBool::new(false),
            flood: Mutex::new(None),
            flood_refusals: AtomicUsize::new(0),
            polls: watch::Sender::new(0),
        });
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = Router::new()
            .route("/{token}/{method}", any(handle))
            .route("/file/{token}/{*path}", any(serve_file))
            .with_state(shared.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("bot-api-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })?;
        Ok(Self {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The base URL to give teloxide (`TELOXIDE_API_URL`).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Change the world (queue updates, set up members, inject failures); `getUpdates`
    /// waiters are woken afterwards.
    pub fn world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let value = f(&mut lock(&self.shared.world));
        self.shared.world_version.send_modify(|v| *v += 1);
        value
    }

    /// Stop answering (every request gets `502 Bad Gateway`, nothing is recorded) while
    /// `down`, as the Bot API does behind a failing proxy; a long poll waiting then ends.
    pub fn set_down(&self, down: bool) {
        self.shared
            .down
            .store(down, std::sync::atomic::Ordering::SeqCst);
        self.shared.world_version.send_modify(|v| *v += 1);
    }

    /// Answer requests over the rates of `limits` with `429 Too Many Requests` and a
    /// `retry_after`, as Telegram does (one request of jitter tolerated).
    pub fn enforce_flood(&self, limits: &FloodConfig) {
        *lock(&self.shared.flood) = Throttle::new(limits, 2);
    }

    /// How many requests flood enforcement refused.
    pub fn flood_refusals(&self) -> usize {
        self.shared.flood_refusals.load(Ordering::SeqCst)
    }

    /// Every request recorded so far.
    pub fn calls(&self) -> Vec<Recorded> {
        lock(&self.shared.calls).clone()
    }

    /// The recorded requests of `method` (case-insensitive).
    pub fn calls_of(&self, method: &str) -> Vec<Recorded> {
        self.calls()
            .into_iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .collect()
    }

    /// Block until `done(calls)` holds, or `timeout` passes; returns the calls either way
    /// (`Err` on timeout).
    pub fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Result<Vec<Recorded>, Vec<Recorded>> {
        let deadline = Instant::now() + timeout;
        let mut calls = lock(&self.shared.calls);
        loop {
            if done(&calls) {
                return Ok(calls.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(calls.clone());
            }
            calls = self
                .shared
                .calls_changed
                .wait_timeout(calls, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Call `observer` for every request recorded from now on.
    pub fn observe(&self, observer: Observer) {
        *lock(&self.shared.observer) = Some(observer);
    }
}

impl Drop for BotApiServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.shared.world_version.send_modify(|v| *v += 1);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The content type of a form body, as python-telegram-bot sends most calls.
const FORM: &str = "application/x-www-form-urlencoded";

/// The longest `getUpdates` long poll the server holds.
const MAX_POLL: Duration = Duration::from_secs(50);

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((token_segment, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = admit(&shared, &token_segment) {
        return reply(Err(refused));
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let form = content_type
        .get(..FORM.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(FORM));
    let mut params: Map<String, Value> = if body.is_empty() {
        Map::new()
    } else if let Ok(boundary) = multer::parse_boundary(content_type) {
        match form_fields(body, boundary).await {
            Ok(map) => map,
            Err(e) => return reply(Err(Refusal::bad_request(&format!("can't parse form: {e}")))),
        }
    } else if form {
        match params::form(&body) {
            Ok(map) => map,
            Err(e) => return reply(Err(Refusal::bad_request(&format!("can't parse form: {e}")))),
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(map)) => map,
            _ => return reply(Err(Refusal::bad_request("can't parse JSON object"))),
        }
    };
    for (key, value) in query {
        params.entry(key).or_insert(Value::String(value));
    }
    // Recorded as sent; answered as Telegram reads it.
    let read = params::as_telegram_reads(params.clone());
    if method.eq_ignore_ascii_case("getUpdates") {
        if lock(&shared.world).webhook().is_some() {
            return reply(Err(Refusal {
                code: 409,
                description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first".into(),
                parameters: None,
            }));
        }
        return reply(get_updates(&shared, &read).await);
    }
    let at = Instant::now();
    let flooded = lock(&shared.flood)
        .as_ref()
        .and_then(|limits| limits.check(&method, read.get("chat_id")).err());
    let result = match flooded {
        Some(wait) => {
            shared.flood_refusals.fetch_add(1, Ordering::SeqCst);
            Err(Refusal::too_many_requests(
                wait.as_secs_f64().ceil().max(1.0) as u64,
            ))
        }
        None => lock(&shared.world).call(&method, &read),
    };
    let recorded = Recorded {
        method,
        params: Value::Object(params),
        at,
        content_type: content_type.to_string(),
    };
    if let Some(observer) = lock(&shared.observer).as_ref() {
        observer(&recorded, &result);
    }
    lock(&shared.calls).push(recorded);
    shared.calls_changed.notify_all();
    reply(result)
}

/// Why a request for `token_segment` (`bot<token>`) is not served: the server is down (502),
/// the segment is not a token's (404), or another bot's (401).
fn admit(shared: &Shared, token_segment: &str) -> Result<(), Refusal> {
    if shared.down.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(Refusal::bad_gateway());
    }
    let token = token_segment.strip_prefix("bot").ok_or_else(not_found)?;
    match shared.token.as_deref() {
        Some(expected) if expected != token => Err(Refusal {
            code: 401,
            description: "Unauthorized".into(),
            parameters: None,
        }),
        _ => Ok(()),
    }
}

/// Telegram's `404 Not Found`.
fn not_found() -> Refusal {
    Refusal {
        code: 404,
        description: "Not Found".into(),
        parameters: None,
    }
}

/// The name a file download is recorded under (no Bot API method has it).
pub const FILE_DOWNLOAD: &str = "file";

/// `GET /file/bot<token>/<path>`: the bytes of the file `getFile` answered `path` for,
/// recorded as a call of [`FILE_DOWNLOAD`] with the path (never the token).
async fn serve_file(
    State(shared): State<Arc<Shared>>,
    Path((token_segment, path)): Path<(String, String)>,
) -> Response {
    if let Err(refused) = admit(&shared, &token_segment) {
        return reply(Err(refused));
    }
    let content = lock(&shared.world).file_at(&path);
    let recorded = Recorded {
        method: FILE_DOWNLOAD.into(),
        params: json!({ "path": path }),
        at: Instant::now(),
        // A GET: no body.
        content_type: String::new(),
    };
    lock(&shared.calls).push(recorded);
    shared.calls_changed.notify_all();
    match content {
        Some(Content::Bytes(bytes)) => (
            [(CONTENT_TYPE, "application/octet-stream")],
            bytes.as_slice().to_vec(),
        )
            .into_response(),
        Some(Content::Endless) => {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let endless = futures::stream::repeat_with(move || {
                Ok::<_, std::convert::Infallible>(chunk.clone())
            });
            axum::body::Body::from_stream(endless).into_response()
        }
        None => reply(Err(not_found())),
    }
}

/// The fields of a `multipart/form-data` body: each file an upload
/// (`{"base64", "filename"}`), each text as it is, unless it is a JSON object or array
/// (`reply_markup`, `reply_parameters`), which Telegram reads as JSON.
async fn form_fields(body: Bytes, boundary: String) -> Result<Map<String, Value>, multer::Error> {
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut fields = Map::new();
    while let Some(field) = form.next_field().await? {
        let name = field.name().unwrap_or_default().to_string();
        let value = match field.file_name().map(str::to_string) {
            Some(filename) => Upload {
                filename,
                bytes: field.bytes().await?.to_vec(),
            }
            .to_json(),
            None => {
                let text = field.text().await?;
                match text.starts_with(['{', '[']) {
                    true => serde_json::from_str(&text).unwrap_or(Value::String(text)),
                    false => Value::String(text),
                }
            }
        };
        fields.insert(name, value);
    }
    Ok(fields)
}

/// Answer `getUpdates`: at once when there are updates, else when one comes or the timeout
/// passes; Telegram's 409 when a newer `getUpdates` came meanwhile (two pollers of one bot,
/// or one that gave up waiting: its connection gone, the answer reaches no one).
async fn get_updates(shared: &Shared, params: &Map<String, Value>) -> Result<Value, Refusal> {
    let offset = params.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let limit = params
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(100, |l| l.clamp(1, 100) as usize);
    let timeout = params
        .get("timeout")
        .and_then(Value::as_u64)
        .map_or(Duration::ZERO, Duration::from_secs)
        .min(MAX_POLL);
    let deadline = tokio::time::Instant::now() + timeout;
    lock(&shared.world).poll_asks(params);
    // Subscribing marks the current version seen: any change after it wakes the poll.
    let mut changes = shared.world_version.subscribe();
    shared.polls.send_modify(|n| *n += 1);
    let mut newer = shared.polls.subscribe();
    loop {
        let updates = lock(&shared.world).updates_from(offset, limit);
        let down = shared.down.load(std::sync::atomic::Ordering::SeqCst);
        if !updates.is_empty() || down || tokio::time::Instant::now() >= deadline {
            return Ok(Value::Array(updates));
        }
        tokio::select! {
            changed = tokio::time::timeout_at(deadline, changes.changed()) => match changed {
                Ok(Ok(())) => continue,
                _ => return Ok(json!([])),
            },
            _ = newer.changed() => return Err(Refusal {
                code: 409,
                description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running".into(),
                parameters: None,
            }),
        }
    }
}

fn reply(result: Result<Value, Refusal>) -> Response {
    match result {
        Ok(value) => axum::Json(json!({"ok": true, "result": value})).into_response(),
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.code).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::Json(refusal.body())).into_response()
        }
    }
}
