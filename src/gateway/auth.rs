//! Who may ask the gateway: web pages only of the allowed origins, and with a token
//! configured, only clients presenting it (`Authorization: Bearer`), compared in constant
//! time and never logged.

use super::Gateway;
use super::admin::AdminToken;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// Refuse what a client may not ask: a request from a web page of an origin not allowed (a
/// page open in the operator's browser must not drive the gateway), and one without the
/// token, when a token is configured.
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
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .unwrap_or_default();
    let matches = |token: &Option<String>| {
        token
            .as_ref()
            .is_some_and(|t| bool::from(given.ct_eq(t.as_bytes())))
    };
    let admin = matches(&gw.admin_token);
    if gw.token.is_some() && !admin && !matches(&gw.token) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "a valid Authorization: Bearer token is required".into(),
        );
    }
    let mut request = request;
    if admin {
        request.extensions_mut().insert(AdminToken);
    }
    next.run(request).await
}
