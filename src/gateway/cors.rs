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

/// Whether a request comes from a page the gateway served itself (the console): its
/// `Origin` is `http(s)://` and its `Host`. Only for a `Host` that is an IP address or
/// `localhost`, unless a token is configured: a DNS name rebound to this address by a
/// foreign page would match too, and then still needs the token.
fn own_origin(headers: &axum::http::HeaderMap, token_required: bool) -> bool {
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST))
    else {
        return false;
    };
    let (Ok(origin), Ok(host)) = (origin.to_str(), host.to_str()) else {
        return false;
    };
    let same = ["http://", "https://"]
        .iter()
        .any(|scheme| origin.strip_prefix(scheme) == Some(host));
    same && (token_required || literal_host(host))
}

/// Whether `host` (`name[:port]`) names this machine by address: an IP or `localhost`.
fn literal_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        // `[::1]:8080`, `127.0.0.1:8080`, `localhost:8080`; a bare IPv6 has more colons.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// Whether a request carrying `headers` may come from the page it comes from: no `Origin`
/// (not a browser's page), an origin of `[gateway] allowed_origins`, or the gateway's own.
pub(super) fn origin_allowed(gw: &Gateway, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    own_origin(headers, gw.token.is_some())
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(origin: &str, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_str(origin).expect("origin"),
        );
        headers.insert(header::HOST, HeaderValue::from_str(host).expect("host"));
        headers
    }

    #[test]
    fn a_page_of_the_gateway_itself_is_its_own_origin() {
        for host in ["127.0.0.1:8080", "[::1]:9000", "localhost:8080", "10.0.0.5"] {
            let own = headers(&format!("http://{host}"), host);
            assert!(own_origin(&own, false), "{host}");
        }
        assert!(own_origin(
            &headers("https://example.org", "example.org"),
            true
        ));
    }

    #[test]
    fn another_origin_or_a_rebound_name_without_a_token_is_not() {
        assert!(!own_origin(
            &headers("http://evil.example:8080", "127.0.0.1:8080"),
            true
        ));
        assert!(!own_origin(
            &headers("http://127.0.0.1:8081", "127.0.0.1:8080"),
            false
        ));
        // A DNS name rebound to this machine: the same origin as the page, but no token.
        assert!(!own_origin(
            &headers("http://evil.example:8080", "evil.example:8080"),
            false
        ));
        assert!(!own_origin(&HeaderMap::new(), true));
    }
}
