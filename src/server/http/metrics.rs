use axum::{extract::State, http::header, response::IntoResponse};

use crate::server::AppState;

/// `GET /metrics` in the Prometheus text format. Gauges that describe shared state
/// (deployments by state, active sessions) are read at scrape time, so every Slipway process
/// reports the same truth.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    crate::server::telemetry::record_state_gauges(&state).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
