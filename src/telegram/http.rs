//! The innermost Bot API caller: one JSON request over teloxide's HTTP client (same proxy and
//! TLS settings as teloxide's own requests), or a multipart one when the parameters carry
//! uploads, and its answer read as Telegram's `{"ok": …}`. No retry, no pacing, no counting:
//! those are the layers around it. The token never appears in errors.

use super::call::{BotError, Caller};
use super::upload;
use serde_json::{Value, json};
use std::time::Duration;

/// How long one HTTP request may take before it is abandoned.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends each call as one HTTP request with a teloxide [`teloxide::Bot`]'s token, API URL
/// and client.
#[derive(Clone)]
pub struct Http {
    bot: teloxide::Bot,
}

impl Http {
    /// The transport of `bot`.
    pub fn new(bot: teloxide::Bot) -> Self {
        Self { bot }
    }
}

impl Caller for Http {
    async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
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
