//! The Bot API client scripts use: JSON requests over teloxide's HTTP client (same proxy and
//! TLS settings as teloxide's own requests), with Telegram's rules applied in one place:
//! `429 retry_after` is waited out and retried (bounded), `migrate_to_chat_id` is followed
//! once, and every error keeps Telegram's own description. The token never appears in errors.

use super::throttle::{FloodConfig, Throttle};
use super::upload;
use crate::telemetry;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long one HTTP request may take before it is abandoned.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How many times a `429` is retried.
pub const MAX_RETRIES: u32 = 3;
/// The longest `retry_after` that is waited out; longer ones are returned to the script.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Why a Bot API call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BotError {
    /// Telegram refused the request.
    #[error("{description}")]
    Api {
        /// `error_code` (400, 403, 429, …).
        code: i64,
        /// Telegram's own `description`.
        description: String,
        /// `parameters.retry_after`, seconds.
        retry_after: Option<u64>,
        /// `parameters.migrate_to_chat_id`.
        migrate_to_chat_id: Option<i64>,
    },
    /// The request did not get an answer (connection, TLS, timeout).
    #[error("network error: {0}")]
    Network(String),
    /// The request could not be made from the parameters (an upload that is not base64).
    #[error("{0}")]
    BadRequest(String),
    /// The answer was not a Bot API response.
    #[error("unexpected response from the Bot API: {0}")]
    BadResponse(String),
}

impl BotError {
    /// The Telegram error code, when Telegram gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            BotError::Api { code, .. } => Some(*code),
            // Nothing was sent: a refusal, like Telegram's 400.
            BotError::BadRequest(_) => Some(400),
            _ => None,
        }
    }
}

/// A Bot API client: a teloxide [`teloxide::Bot`] (token, API URL, HTTP client) plus the
/// retry rules and the bot's flood control (shared by its clones).
#[derive(Clone)]
pub struct BotClient {
    bot: teloxide::Bot,
    throttle: Option<Arc<Throttle>>,
}

impl std::fmt::Debug for BotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotClient")
            .field("api_url", &self.bot.api_url().as_str())
            .finish_non_exhaustive()
    }
}

impl BotClient {
    /// A client for `token` at `api_url` (Telegram's when `None`), using teloxide's HTTP
    /// client settings from the environment (`TELOXIDE_PROXY`).
    pub fn new(token: &str, api_url: Option<&str>) -> Result<Self, String> {
        // teloxide panics on a proxy it cannot use: refused here, as a configuration error.
        if let Some(proxy) = std::env::var("TELOXIDE_PROXY")
            .ok()
            .filter(|p| !p.is_empty())
        {
            reqwest::Proxy::all(&proxy).map_err(|e| {
                format!("TELOXIDE_PROXY is not a proxy address ({e}): set it to e.g. socks5://host:1080 or http://host:3128, or unset it")
            })?;
        }
        let mut bot = teloxide::Bot::with_client(token, teloxide::net::client_from_env());
        if let Some(url) = api_url {
            let url = reqwest::Url::parse(url)
                .map_err(|e| format!("TELOXIDE_API_URL is not a valid URL ({e})"))?;
            bot = bot.set_api_url(url);
        }
        Ok(Self {
            bot,
            throttle: None,
        })
    }

    /// The same client, keeping to the rates of `flood` before each request.
    pub fn with_flood(mut self, flood: &FloodConfig) -> Self {
        self.throttle = Throttle::new(flood, 1).map(Arc::new);
        self
    }

    /// A secret for `purpose` that only holders of this bot's token can compute (48 hex
    /// digits of SHA-256 over both): the same on every process that serves the bot.
    pub fn derived_secret(&self, purpose: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(purpose.as_bytes())
            .chain_update([0])
            .chain_update(self.bot.token().as_bytes())
            .finalize();
        digest[..24].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Call Bot API `method` with JSON `params`, applying the retry rules.
    pub async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        let mut params = params.clone();
        let mut retries = 0;
        let mut migrated = false;
        let label = telemetry::method_label(method);
        loop {
            if let Some(throttle) = &self.throttle {
                let waited = throttle.wait(method, params.get("chat_id")).await;
                if !waited.is_zero() {
                    metrics::counter!(telemetry::FLOOD_WAITS, "method" => label.clone())
                        .increment(1);
                    telemetry::flood_waited(waited);
                }
            }
            let result = self.call_once(method, &params).await;
            let outcome = match &result {
                Ok(_) => "ok",
                Err(e) if e.code().is_some_and(|code| code < 500) => "refused",
                Err(_) => "failed",
            };
            metrics::counter!(telemetry::BOT_API_CALLS, "method" => label.clone(), "outcome" => outcome)
                .increment(1);
            match result {
                Err(BotError::Api {
                    retry_after: Some(seconds),
                    ..
                }) if retries < MAX_RETRIES && Duration::from_secs(seconds) <= MAX_RETRY_AFTER => {
                    retries += 1;
                    metrics::counter!(telemetry::RATE_LIMITED, "method" => label.clone())
                        .increment(1);
                    tracing::warn!(
                        method,
                        seconds,
                        retries,
                        "rate limited by Telegram, waiting"
                    );
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                }
                Err(BotError::Api {
                    migrate_to_chat_id: Some(new_chat),
                    ..
                }) if !migrated && params.get("chat_id").is_some() => {
                    migrated = true;
                    tracing::info!(
                        method,
                        new_chat,
                        "group was upgraded to a supergroup, following"
                    );
                    params["chat_id"] = json!(new_chat);
                }
                other => return other,
            }
        }
    }

    async fn call_once(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        let mut url = self.bot.api_url();
        url.path_segments_mut()
            .map_err(|_| BotError::BadResponse("the Bot API URL cannot have a path".into()))?
            .pop_if_empty()
            .push(&format!("bot{}", self.bot.token()))
            .push(method);
        let request = self.bot.client().post(url).timeout(REQUEST_TIMEOUT);
        let request = if upload::has_uploads(params) {
            request.multipart(upload::multipart(params).map_err(BotError::BadRequest)?)
        } else {
            let body =
                serde_json::to_vec(params).map_err(|e| BotError::BadResponse(e.to_string()))?;
            request
                .header("content-type", "application/json")
                .body(body)
        };
        let response = request
            .send()
            .await
            .map_err(|e| BotError::Network(e.without_url().to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| BotError::Network(e.without_url().to_string()))?;
        parse_response(status.as_u16(), &bytes)
    }
}

/// Read a Bot API response body: `{"ok": true, "result": …}` or an error.
pub fn parse_response(status: u16, body: &[u8]) -> Result<Value, BotError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        BotError::BadResponse(format!(
            "HTTP {status} with a body that is not JSON ({} bytes)",
            body.len()
        ))
    })?;
    if value["ok"] == json!(true) {
        return Ok(value.get("result").cloned().unwrap_or(Value::Null));
    }
    Err(BotError::Api {
        code: value["error_code"].as_i64().unwrap_or(i64::from(status)),
        description: value["description"]
            .as_str()
            .unwrap_or("the Bot API refused the request without a description")
            .to_string(),
        retry_after: value["parameters"]["retry_after"].as_u64(),
        migrate_to_chat_id: value["parameters"]["migrate_to_chat_id"].as_i64(),
    })
}
