//! `GET /health`, `/livez`, `/readyz` and `/metrics`, served by the gateway and by the
//! webhook listener.

use crate::telemetry::{self, Report};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::sync::Arc;

/// `GET /health` (200, or 503 while `report` says something configured cannot work, a Bot
/// API that does not answer included; just `{"ok": true}` without one), `GET /livez` (200
/// while the process's loops turn, whatever Telegram does), `GET /readyz` (200 while it can
/// take work, else 503 with the reasons) and `GET /metrics` (Prometheus text), open to any
/// client: put them behind the proxy's own rules if the listener is public.
pub fn report_routes(report: Option<Arc<dyn Report>>) -> Router {
    let (health_report, ready_report, gauge_report) = (report.clone(), report.clone(), report);
    let health = move || {
        let report = health_report.clone();
        async move {
            let Some(report) = report else {
                return (StatusCode::OK, axum::Json(json!({"ok": true}))).into_response();
            };
            answer(tokio::task::spawn_blocking(move || report.health()).await)
        }
    };
    let ready = move || {
        let report = ready_report.clone();
        async move {
            let read = tokio::task::spawn_blocking(move || {
                let mut reasons: Vec<String> = telemetry::stopping_why()
                    .map(str::to_string)
                    .into_iter()
                    .collect();
                reasons.extend(report.iter().flat_map(|report| report.unready()));
                (
                    reasons.is_empty(),
                    json!({"ok": reasons.is_empty(), "reasons": reasons}),
                )
            });
            answer(read.await)
        }
    };
    let metrics = move || {
        let report = gauge_report.clone();
        async move {
            let gauges = match report {
                Some(report) => tokio::task::spawn_blocking(move || report.gauges())
                    .await
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                format!(
                    "{}{}",
                    telemetry::render(),
                    telemetry::render_gauges(&gauges)
                ),
            )
        }
    };
    Router::new()
        .route("/health", get(health))
        .route("/livez", get(live))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
}

/// `/livez`: 200 while a loop of the process turned within [`telemetry::STUCK_AFTER`].
async fn live() -> Response {
    let silent = telemetry::heartbeat().silent_for();
    let alive = silent < telemetry::STUCK_AFTER;
    let body = json!({"ok": alive, "silent_seconds": silent.as_secs_f64()});
    answer(Ok((alive, body)))
}

/// 200 with `body` when `ok`, else 503; 500 when reading it failed.
fn answer(read: Result<(bool, Value), tokio::task::JoinError>) -> Response {
    match read {
        Ok((true, body)) => (StatusCode::OK, axum::Json(body)).into_response(),
        Ok((false, body)) => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"ok": false, "error": e.to_string()})),
        )
            .into_response(),
    }
}
