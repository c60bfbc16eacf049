//! Who may ask the gateway: web pages only of the allowed origins, and with a token
//! configured, only clients presenting it (`Authorization: Bearer`, or for browsers, which
//! cannot set headers on a WebSocket, the subprotocol `bearer.<token>`), compared in
//! constant time and never logged.

use super::tenants::Client;
use super::{Gateway, cors, events};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The WebSocket subprotocol of the protocol's version 1: a client offering it (beside
/// `bearer.<token>`, for browsers, which cannot set `Authorization`) gets it selected.
pub const SUBPROTOCOL: &str = "tgscript.v1";
/// The subprotocol's name before it had a version; still selected for a client offering it.
pub const UNVERSIONED_SUBPROTOCOL: &str = "tgscript";

/// The `Authorization` scheme of a token, with the space after it (any case: RFC 9110).
const BEARER: &[u8] = b"bearer ";
/// What the `Sec-WebSocket-Protocol` value carrying the token starts with.
const BEARER_PROTOCOL: &[u8] = b"bearer.";

/// The token a request presents: `Authorization: Bearer <token>` (the scheme in any case),
/// else a `Sec-WebSocket-Protocol` value `bearer.<token>`; empty when neither.
fn presented_token(headers: &axum::http::HeaderMap) -> &[u8] {
    if let Some(token) = headers.get(header::AUTHORIZATION).and_then(|v| {
        let (scheme, token) = v.as_bytes().split_at_checked(BEARER.len())?;
        scheme
            .eq_ignore_ascii_case(BEARER)
            .then(|| token.trim_ascii())
    }) {
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
/// page open in the operator's browser must not drive the gateway), and one without a
/// token (as a header or a WebSocket subprotocol, see [`presented_token`]), when a token is
/// configured; and say who the client is ([`Client`]): the admin's token, a tenant's, else
/// the operator's.
pub(super) async fn authorize(
    State(gw): State<Arc<Gateway>>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    if !cors::origin_allowed(&gw, request.headers()) {
        let origin = origin
            .as_ref()
            .map(|o| String::from_utf8_lossy(o.as_bytes()));
        return cors::refused(format!(
            "requests from web pages of {} are refused: add it to [gateway] allowed_origins to allow them",
            origin.unwrap_or_default()
        ));
    }
    // A page of an allowed origin reads every answer, refusals included.
    let mut response = match client(&gw, request).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal,
    };
    cors::expose(&mut response, origin);
    response
}

/// The request with who its client is ([`Client`]) as an extension, or the refusal of a
/// token that is no one's.
async fn client(gw: &Arc<Gateway>, request: Request) -> Result<Request, Response> {
    let refuse = |status: StatusCode, error: String| {
        Err((status, axum::Json(events::refusal(&error))).into_response())
    };
    use subtle::ConstantTimeEq;
    let given = presented_token(request.headers()).to_vec();
    let matches = |token: &Option<String>| {
        token
            .as_ref()
            .is_some_and(|t| bool::from(given.as_slice().ct_eq(t.as_bytes())))
    };
    let client = if matches(&gw.admin_token) {
        Some(Client::Admin)
    } else {
        // A tenant's token may be kept in the store (PostgreSQL in a cluster): asked off the
        // async threads.
        let found = match gw.tenants.store() {
            None => Ok(gw.tenants.tenant_of(&given)),
            Some(_) => {
                let (gw, given) = (gw.clone(), given.clone());
                tokio::task::spawn_blocking(move || gw.tenants.tenant_of(&given)).await
            }
        };
        match found {
            Ok(Ok(Some(tenant))) => Some(Client::Tenant(tenant)),
            Ok(Ok(None)) => None,
            Ok(Err(e)) => {
                tracing::warn!("gateway: a tenant token could not be looked up: {e}");
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the token could not be checked (the store did not answer): try again".into(),
                );
            }
            Err(e) => {
                return refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("internal error: {e}"),
                );
            }
        }
    };
    let client = match client {
        Some(client) => client,
        // No token, where none is required; a token that is no one's is refused even then
        // (a tenant's removed token must not come back as the operator's).
        None if matches(&gw.token) || (gw.token.is_none() && given.is_empty()) => Client::Operator,
        None => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "a valid Authorization: Bearer token (or WebSocket subprotocol bearer.<token>) is required".into(),
            );
        }
    };
    let mut request = request;
    if client.tenant().is_some() && !gw.tenants.configured(&given) {
        request
            .extensions_mut()
            .insert(super::tenants::Revocable(given.clone()));
    }
    request.extensions_mut().insert(client);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for value in ["Bearer t0k", "bearer t0k", "BEARER t0k", "bEaReR  t0k "] {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(value).expect("header"),
            );
            assert_eq!(presented_token(&headers), b"t0k", "{value}");
        }
        let mut basic = HeaderMap::new();
        basic.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic t0k"));
        assert_eq!(presented_token(&basic), b"");
    }
}
