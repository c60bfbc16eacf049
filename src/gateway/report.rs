//! `GET /health` and `GET /metrics`, served by the gateway and by the webhook listener.

use crate::telemetry::Report;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use std::sync::Arc;

/// `GET /health` (200, or 503 while `report` says something configured cannot work; just
/// `{"ok": true}` without one) and `GET /metrics` (Prometheus text), open to any client: put
/// them behind the proxy's own rules if the listener is public.
pub fn report_routes(report: Option<Arc<dyn Report>>) -> Router {
    let health = move || {
        let report = report.clone();
        async move {
            let Some(report) = report else {
                return (StatusCode::OK, axum::Json(json!({"ok": true}))).into_response();
            };
            match tokio::task::spawn_blocking(move || report.health()).await {
                Ok((true, body)) => (StatusCode::OK, axum::Json(body)).into_response(),
                Ok((false, body)) => {
                    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
                }
                Err(e) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({"ok": false, "error": e.to_string()})),
                )
                    .into_response(),
            }
        }
    };
    let metrics = || async {
        (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            crate::telemetry::render(),
        )
    };
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
}
