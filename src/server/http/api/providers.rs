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

#[utoipa::path(
    get,
    path = "/admin/providers",
    tag = "admin",
    summary = "Sign-in providers (never their secrets)",
    responses((status = 200, description = "Providers", body = Vec<ProviderInfo>), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody)),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<ProviderInfo>>, AppError> {
    providers::list(&state, &require_admin(user)?)
        .await
        .map(Json)
}

/// `POST` → 201 with the provider (never its secret).
#[utoipa::path(
    post,
    path = "/admin/providers",
    tag = "admin",
    summary = "Add a sign-in provider; presets fill known endpoints",
    request_body = ProviderRequest,
    responses((status = 201, description = "Added", body = ProviderInfo), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    ApiJson(request): ApiJson<ProviderRequest>,
) -> Result<(StatusCode, Json<ProviderInfo>), AppError> {
    let created = providers::create(&state, &require_admin(user)?, &client, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    get,
    path = "/admin/providers/{slug}",
    tag = "admin",
    summary = "One provider",
    params(("slug" = String, Path, description = "The provider's slug")),
    responses((status = 200, description = "The provider", body = ProviderInfo), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 404, description = "No such provider", body = crate::server::error::ErrorBody)),
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(slug): Path<String>,
) -> Result<Json<ProviderInfo>, AppError> {
    providers::get(&state, &require_admin(user)?, &slug)
        .await
        .map(Json)
}

#[utoipa::path(
    patch,
    path = "/admin/providers/{slug}",
    tag = "admin",
    summary = "Change a provider (environment providers: only `enabled`)",
    params(("slug" = String, Path, description = "The provider's slug")),
    request_body = ProviderRequest,
    responses((status = 200, description = "The provider now", body = ProviderInfo), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 404, description = "No such provider", body = crate::server::error::ErrorBody), (status = 409, description = "It comes from the environment", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    delete,
    path = "/admin/providers/{slug}",
    tag = "admin",
    summary = "Delete a provider; with linked accounts, `linked_accounts=unlink` must be given",
    params(("slug" = String, Path, description = "The provider's slug"), ("linked_accounts" = Option<String>, Query, description = "`unlink`: also unlink the accounts that sign in with it")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 404, description = "No such provider", body = crate::server::error::ErrorBody), (status = 409, description = "Accounts are linked, one would have no way in, or it comes from the environment", body = crate::server::error::ErrorBody), (status = 422, description = "linked_accounts is not `unlink`", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    post,
    path = "/admin/providers/{slug}/test",
    tag = "admin",
    summary = "Test connection: discovery for OpenID providers, a token-endpoint probe for others",
    params(("slug" = String, Path, description = "The provider's slug")),
    responses((status = 200, description = "What the test found", body = ProviderTestResult), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 404, description = "No such provider", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/admin/provider-presets",
    tag = "admin",
    summary = "What each kind of provider fills in",
    responses((status = 200, description = "Presets", body = Vec<ProviderPreset>), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody)),
)]
pub async fn presets(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<ProviderPreset>>, AppError> {
    require_admin(user)?;
    Ok(Json(providers::presets(&state)))
}
