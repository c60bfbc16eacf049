//! Outbound HTTP for scripts (`http_get`, `http_post`): off unless `[http] allow` lists
//! hosts, HTTPS only unless a host is marked otherwise, no internal addresses after DNS
//! resolution ([`guard`]), redirects not followed, a timeout and a response size limit.
//! Requests and responses are plain data, so they cross to a script worker and into the
//! inbox's journal like every other effect.

pub mod guard;

use crate::request::CommandError;
use crate::telegram::upload;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// `[http]`: what scripts may reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// The hosts scripts may call (`api.example.com`, or `*.example.com` for every name
    /// under it); empty (the default): outbound HTTP is off.
    pub allow: Vec<String>,
    /// Hosts that may be called over plain `http://` (default none: HTTPS only).
    pub plain_http: Vec<String>,
    /// Hosts that may resolve to (or be) a private, loopback or link-local address (default
    /// none: such addresses are refused, so a script cannot reach internal services).
    pub private: Vec<String>,
    /// The longest a request may take, in milliseconds (default 10,000).
    pub timeout_ms: u64,
    /// The largest response body read, in bytes (default 1 MiB; 0 = no limit); a larger one
    /// is an error.
    pub max_response_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            plain_http: Vec::new(),
            private: Vec::new(),
            timeout_ms: 10_000,
            max_response_bytes: 1 << 20,
        }
    }
}

/// Why a request was refused or failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    /// `[http] allow` is empty.
    #[error("outbound HTTP is off: list the hosts scripts may call in [http] allow")]
    Off,
    /// `[http]` is wrong.
    #[error("[http]: {0}")]
    Config(String),
    /// The URL cannot be used.
    #[error("bad URL: {0}")]
    BadUrl(String),
    /// The body cannot be sent (a file in it is not valid).
    #[error("bad body: {0}")]
    BadBody(String),
    /// The host is not in `[http] allow`.
    #[error("{0} is not in [http] allow; add it there to let scripts call it")]
    NotAllowed(String),
    /// Plain `http://` to a host not in `[http] plain_http`.
    #[error("plain http to {0} is refused: use https, or list the host in [http] plain_http")]
    PlainHttp(String),
    /// The host is, or resolves to, an internal address.
    #[error(
        "{host} is {kind} address ({address}), refused so scripts cannot reach internal services; list the host in [http] private if it is meant to be reached"
    )]
    Internal {
        /// The host asked for.
        host: String,
        /// The address it is or resolved to.
        address: IpAddr,
        /// What kind of address (`a loopback`, …).
        kind: &'static str,
    },
    /// The response was longer than `[http] max_response_bytes`.
    #[error("the response is over [http] max_response_bytes ({0} bytes); it was refused")]
    TooLarge(usize),
    /// No answer in time.
    #[error("no answer within {0} ms")]
    Timeout(u64),
    /// The connection failed.
    #[error("request failed: {0}")]
    Network(String),
}

impl HttpError {
    /// The error as command `command`'s failure, with its [`Self::code`].
    pub fn for_command(&self, command: &str) -> CommandError {
        CommandError {
            code: self.code(),
            ..CommandError::invalid(command, self.to_string())
        }
    }

    /// An HTTP-like code for the error: 4xx when nothing was sent or the answer is final (the
    /// inbox's journal then keeps the error), 504 for a timeout, none for a failed
    /// connection (both may have reached the server, and may be tried again).
    pub fn code(&self) -> Option<i64> {
        match self {
            HttpError::Off
            | HttpError::NotAllowed(_)
            | HttpError::PlainHttp(_)
            | HttpError::Internal { .. } => Some(403),
            HttpError::Config(_) | HttpError::BadUrl(_) | HttpError::BadBody(_) => Some(400),
            HttpError::TooLarge(_) => Some(413),
            HttpError::Timeout(_) => Some(504),
            HttpError::Network(_) => None,
        }
    }
}

/// One request a script makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers to send.
    pub headers: BTreeMap<String, String>,
    /// The body: a string is sent as it is, a file (an upload) as its bytes, a map holding
    /// files as `multipart/form-data`, anything else as JSON.
    pub body: Option<Value>,
    /// A shorter timeout than `[http] timeout_ms`, in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// The client scripts' requests go through.
#[derive(Debug, Clone)]
pub struct HttpClient {
    config: HttpConfig,
    client: reqwest::Client,
}

impl HttpClient {
    /// A client for `config`; `None` when outbound HTTP is off.
    pub fn new(config: &HttpConfig) -> Result<Option<Self>, HttpError> {
        if config.allow.is_empty() {
            return Ok(None);
        }
        let lists = [&config.allow, &config.plain_http, &config.private];
        let not_a_host = |e: &&String| {
            e.contains('/') || (e.contains(':') && e.parse::<IpAddr>().is_err()) || e.is_empty()
        };
        if let Some(entry) = lists.iter().flat_map(|l| l.iter()).find(not_a_host) {
            return Err(HttpError::Config(format!(
                "list host names (api.example.com, *.example.com) or addresses, without scheme, port or path: {entry:?}"
            )));
        }
        if config.timeout_ms == 0 {
            return Err(HttpError::Config("timeout_ms must be at least 1".into()));
        }
        let client = reqwest::Client::builder()
            .dns_resolver(guard::resolver(config))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, past the address check.
            .no_proxy()
            .user_agent(concat!("tgscript/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Network(e.to_string()))?;
        Ok(Some(Self {
            config: config.clone(),
            client,
        }))
    }

    /// Send `request` and answer `#{status, headers, body, json}` (`json`: the body parsed,
    /// or null when it is not JSON).
    pub async fn send(&self, request: &HttpRequest) -> Result<Value, HttpError> {
        // The URL may carry credentials: errors do not repeat it.
        let url =
            reqwest::Url::parse(&request.url).map_err(|e| HttpError::BadUrl(e.to_string()))?;
        guard::check_url(&self.config, &url)?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| HttpError::BadUrl(format!("bad method {}", request.method)))?;
        let timeout_ms = request
            .timeout_ms
            .map_or(self.config.timeout_ms, |t| t.min(self.config.timeout_ms));
        let mut builder = self
            .client
            .request(method, url)
            .timeout(Duration::from_millis(timeout_ms));
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        builder = match (&request.body, request.body.as_ref().and_then(file_body)) {
            (_, Some(bytes)) => match request.headers.contains_key("content-type") {
                true => builder.body(bytes),
                false => builder
                    .header("content-type", "application/octet-stream")
                    .body(bytes),
            },
            (None, None) => builder,
            (Some(Value::String(text)), None) => builder.body(text.clone()),
            (Some(form), None) if upload::has_uploads(form) => {
                builder.multipart(upload::multipart(form).map_err(HttpError::BadBody)?)
            }
            (Some(other), None) => builder.json(other),
        };
        let failed = |e: reqwest::Error| match e.is_timeout() {
            true => HttpError::Timeout(timeout_ms),
            false => {
                refusal_in(&e).unwrap_or_else(|| HttpError::Network(describe(&e.without_url())))
            }
        };
        let mut response = builder.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let mut headers = Map::new();
        for (name, value) in response.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let joined = match headers.remove(name.as_str()) {
                Some(Value::String(before)) => format!("{before}, {value}"),
                _ => value,
            };
            headers.insert(name.as_str().to_string(), Value::String(joined));
        }
        let limit = self.config.max_response_bytes;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if limit > 0 && body.len() + chunk.len() > limit {
                return Err(HttpError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        let json = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
        Ok(json!({
            "status": status,
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
            "json": json,
        }))
    }
}

/// The bytes of a body that is one file (a blob or an asset, as an upload), if it is one.
fn file_body(body: &Value) -> Option<Vec<u8>> {
    upload::Upload::from_json(body)
        .ok()
        .flatten()
        .map(|file| file.bytes)
}

/// The address refusal of the resolver, when that is why `error` happened.
fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<HttpError> {
    let mut cause = error.source();
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<HttpError>() {
            return Some(refused.clone());
        }
        cause = e.source();
    }
    None
}

/// `error` and its causes in one line, without the URL (it may carry credentials).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(&format!(": {e}"));
        cause = e.source();
    }
    text
}
