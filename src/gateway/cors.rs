//! Cross-origin requests from the web pages of `[gateway] allowed_origins` (and the
//! gateway's own console): a preflight (`OPTIONS`) from one of them is answered with what it
//! may send (`POST`, `Authorization`, `Content-Type`), one from any other origin is refused;
//! the answers to an allowed page carry the header that lets it read them. The origin rules
//! themselves are [`origin_allowed`], which the authorization reads too.

use super::Gateway;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The methods a page may use.
const METHODS: &str = "POST, OPTIONS";
/// The request headers a page may send.
const HEADERS: &str = "Authorization, Content-Type";
/// How long a browser may keep a preflight's answer, in seconds.
const MAX_AGE: &str = "600";

/// Whether a request carrying `headers` may come from the page it comes from: no `Origin`
/// (not a browser's page), an origin of `[gateway] allowed_origins`, or the gateway's own.
pub(super) fn origin_allowed(gw: &Gateway, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    super::auth::own_origin(headers, gw.token.is_some())
        || gw
            .allowed_origins
            .iter()
            .any(|allowed| allowed.as_bytes() == origin.as_bytes())
}

/// `OPTIONS` (a browser's preflight): 204 with the methods and headers a page of an allowed
/// origin may send, else 403 with no allow header.
pub(super) async fn preflight(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let Some(origin) = headers.get(header::ORIGIN).cloned() else {
        return refused("a preflight without an Origin header".to_string());
    };
    if !origin_allowed(&gw, &headers) {
        return refused(format!(
            "requests from web pages of {} are refused: add it to [gateway] allowed_origins to allow them",
            String::from_utf8_lossy(origin.as_bytes())
        ));
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let answer = response.headers_mut();
    answer.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    answer.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    answer.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(HEADERS),
    );
    answer.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    answer.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// Let the page of `origin` (an allowed one) read `response`.
pub(super) fn expose(response: &mut Response, origin: Option<HeaderValue>) {
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// The refusal of a page of an origin not allowed: 403, no allow header.
pub(super) fn refused(error: String) -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::Json(super::events::refusal(&error)),
    )
        .into_response()
}
