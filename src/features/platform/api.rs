use leptos::prelude::*;

use super::types::HealthReport;
use crate::error::AppError;

/// The same report `GET /health` serves, for the home page.
#[server(prefix = "/rpc", endpoint = "platform_status")]
pub async fn platform_status() -> Result<HealthReport, AppError> {
    crate::server::health::report_in_context().await
}
