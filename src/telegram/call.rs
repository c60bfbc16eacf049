//! One Bot API call, as a trait every layer of the client shares: call a method with JSON
//! parameters, get Telegram's `result` or why there is none ([`BotError`]). The transport
//! ([`super::http::Http`]) implements it, and so does each layer around it
//! ([`super::layers`]), after teloxide's adaptors around its `Requester`.
//!
//! Generic, not boxed: the layers compose into one concrete type, so a call through the whole
//! stack is one future with no allocation or dynamic dispatch of its own, and the parameters
//! are borrowed all the way down (a layer that must change them copies them then).

use serde_json::Value;
use std::future::Future;

/// Calls Bot API methods: the HTTP transport, or a layer around another caller.
pub trait Caller: Send + Sync {
    /// Call Bot API `method` with JSON `params`.
    fn call(
        &self,
        method: &str,
        params: &Value,
    ) -> impl Future<Output = Result<Value, BotError>> + Send;
}

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
