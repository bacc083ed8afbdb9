use leptos::prelude::*;

use super::types::HealthReport;
use crate::error::AppError;

/// The same report `GET /health` serves, for the home page.
#[server(prefix = "/rpc", endpoint = "platform_status")]
pub async fn platform_status() -> Result<HealthReport, AppError> {
    crate::server::health::report_in_context().await
}

/// The REST API's OpenAPI document, for the `/api/docs` page.
#[server(prefix = "/rpc", endpoint = "api_document")]
pub async fn api_document() -> Result<serde_json::Value, AppError> {
    Ok(crate::server::http::api_document())
}
