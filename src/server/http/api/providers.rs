//! `/api/v1/admin/providers`: sign-in providers, for admins.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;

use super::{ApiJson, Caller};
use crate::{
    error::AppError,
    features::admin::types::{ProviderInfo, ProviderPreset, ProviderRequest, ProviderTestResult},
    server::{
        auth::{admin::require_admin, oauth::providers, service::Client},
        AppState,
    },
};

pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<ProviderInfo>>, AppError> {
    providers::list(&state, &require_admin(user)?)
        .await
        .map(Json)
}

/// `POST` → 201 with the provider (never its secret).
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    ApiJson(request): ApiJson<ProviderRequest>,
) -> Result<(StatusCode, Json<ProviderInfo>), AppError> {
    let created = providers::create(&state, &require_admin(user)?, &client, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(slug): Path<String>,
) -> Result<Json<ProviderInfo>, AppError> {
    providers::get(&state, &require_admin(user)?, &slug)
        .await
        .map(Json)
}

pub async fn update(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(slug): Path<String>,
    ApiJson(request): ApiJson<ProviderRequest>,
) -> Result<Json<ProviderInfo>, AppError> {
    providers::update(&state, &require_admin(user)?, &client, &slug, request)
        .await
        .map(Json)
}

#[derive(Deserialize)]
pub struct DeleteParams {
    /// `unlink`: also unlink the accounts that sign in with it.
    linked_accounts: Option<String>,
}

/// `DELETE …/{slug}[?linked_accounts=unlink]` → 204; 409 while accounts are linked and no
/// choice was made, or when one would be left without a way to sign in.
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(slug): Path<String>,
    Query(params): Query<DeleteParams>,
) -> Result<StatusCode, AppError> {
    let unlink = match params.linked_accounts.as_deref() {
        None => false,
        Some("unlink") => true,
        Some(_) => return Err(AppError::field("linked_accounts", "must be unlink")),
    };
    providers::delete(&state, &require_admin(user)?, &client, &slug, unlink).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST …/{slug}/test`: discovery for OpenID providers, a token-endpoint probe for others.
pub async fn test(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(slug): Path<String>,
) -> Result<Json<ProviderTestResult>, AppError> {
    providers::test(&state, &require_admin(user)?, &slug)
        .await
        .map(Json)
}

/// `GET /api/v1/admin/provider-presets`: what each kind fills in.
pub async fn presets(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<ProviderPreset>>, AppError> {
    require_admin(user)?;
    Ok(Json(providers::presets(&state)))
}
