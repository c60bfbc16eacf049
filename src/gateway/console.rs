//! The web console at `/`: a page, its script and its style, embedded in the binary and
//! served as they are (nothing fetched from anywhere else). It logs in with the gateway's
//! token and does everything through the gateway's actions (`POST /command`); the files
//! themselves hold nothing secret, so they are served to anyone.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// What a console page may load and reach: this server only.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                      img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file, served as `content_type`, under the console's policy.
fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse + Clone {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// `GET /` (the page), `GET /console/console.js` and `GET /console/console.css`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let page = file(
        "text/html; charset=utf-8",
        include_str!("console/index.html"),
    );
    let script = file(
        "text/javascript; charset=utf-8",
        include_str!("console/console.js"),
    );
    let style = file(
        "text/css; charset=utf-8",
        include_str!("console/console.css"),
    );
    Router::new()
        .route("/", get(move || std::future::ready(page.clone())))
        .route(
            "/console/console.js",
            get(move || std::future::ready(script.clone())),
        )
        .route(
            "/console/console.css",
            get(move || std::future::ready(style.clone())),
        )
}
