use axum::{extract::State, http::StatusCode, Json};

use crate::{
    features::platform::types::{HealthReport, HealthStatus},
    server::{health, AppState},
};

/// `GET /health`: 200 when every dependency answers, 503 naming the ones that do not.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthReport>) {
    let report = health::report(&state).await;
    let status = match report.status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Degraded => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(report))
}
