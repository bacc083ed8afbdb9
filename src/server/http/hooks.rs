//! `/hooks/…`: where Git hosts and CI call in. Outside `/api/v1`: GitHub authenticates with a
//! signature, not a session or a token.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header::AUTHORIZATION, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};

use super::api::Caller;
use crate::{
    error::AppError,
    features::deployments::types::GenericDeployRequest,
    server::{auth::service::Client, deploy::webhooks, AppState},
};

/// GitHub allows payloads of up to 25 MB.
pub const GITHUB_BODY_LIMIT: usize = 25 * 1024 * 1024;

/// `POST /hooks/github/{id}`: 202 when a release was queued, 200 for a ping, an ignored event
/// or a delivery received before, 401 for a bad signature.
pub async fn github(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let answer = webhooks::github(&state, &client, &id, &headers, &body).await?;
    Ok((answer.status, Json(answer.body)).into_response())
}

/// `POST /hooks/deploy/{id}` with `Authorization: Bearer <API token>` and an optional
/// `Idempotency-Key`.
pub async fn deploy(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    Caller(user): Caller,
    body: Bytes,
) -> Result<Response, AppError> {
    if !headers.contains_key(AUTHORIZATION) {
        return Err(AppError::Unauthorized);
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    // The body is optional: none deploys the branch's head.
    let request: GenericDeployRequest = if body.iter().all(u8::is_ascii_whitespace) {
        GenericDeployRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest {
            message: format!("The body is not a deploy request: {e}"),
        })?
    };
    let answer = webhooks::generic(&state, &user, &client, &id, key, request).await?;
    Ok((answer.status, Json(answer.body)).into_response())
}
