//! Who may ask the gateway: web pages only of the allowed origins, and with a token
//! configured, only clients presenting it (`Authorization: Bearer`, or for browsers, which
//! cannot set headers on a WebSocket, the subprotocol `bearer.<token>`), compared in
//! constant time and never logged.

use super::Gateway;
use super::admin::AdminToken;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// The WebSocket subprotocol the gateway speaks: a client offering it (beside
/// `bearer.<token>`, for browsers, which cannot set `Authorization`) gets it selected.
pub const SUBPROTOCOL: &str = "tgscript";

/// What the `Sec-WebSocket-Protocol` value carrying the token starts with.
const BEARER_PROTOCOL: &[u8] = b"bearer.";

/// The token a request presents: `Authorization: Bearer <token>`, else a
/// `Sec-WebSocket-Protocol` value `bearer.<token>`; empty when neither.
fn presented_token(headers: &axum::http::HeaderMap) -> &[u8] {
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
    {
        return token;
    }
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .find_map(|offered| offered.strip_prefix(BEARER_PROTOCOL))
        .unwrap_or_default()
}

/// Refuse what a client may not ask: a request from a web page of an origin not allowed (a
/// page open in the operator's browser must not drive the gateway), and one without the
/// token (as a header or a WebSocket subprotocol, see [`presented_token`]), when a token is
/// configured.
pub(super) async fn authorize(
    State(gw): State<Arc<Gateway>>,
    request: Request,
    next: Next,
) -> Response {
    let refuse = |status: StatusCode, error: String| {
        (status, axum::Json(json!({"error": error}))).into_response()
    };
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        if !gw.allowed_origins.iter().any(|allowed| *allowed == origin) {
            return refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "requests from web pages of {origin} are refused: add it to [gateway] allowed_origins to allow them"
                ),
            );
        }
    }
    use subtle::ConstantTimeEq;
    let given = presented_token(request.headers());
    let matches = |token: &Option<String>| {
        token
            .as_ref()
            .is_some_and(|t| bool::from(given.ct_eq(t.as_bytes())))
    };
    let admin = matches(&gw.admin_token);
    if gw.token.is_some() && !admin && !matches(&gw.token) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "a valid Authorization: Bearer token (or WebSocket subprotocol bearer.<token>) is required".into(),
        );
    }
    let mut request = request;
    if admin {
        request.extensions_mut().insert(AdminToken);
    }
    next.run(request).await
}
