//! Discord: my role connection, and the admins' registration of metadata and commands.

use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use super::Caller;
use crate::{
    error::AppError,
    features::{
        admin::types::{DiscordMetadataRecord, DiscordStatus},
        auth::types::DiscordConnection,
    },
    server::{
        auth::{admin::require_admin, service::Client},
        discord::{self, metadata, roles},
        AppState,
    },
};

/// `GET /api/v1/me/discord`.
#[utoipa::path(
    get,
    path = "/me/discord",
    tag = "discord",
    summary = "My Discord role connection (Linked Roles)",
    responses((status = 200, description = "The connection", body = DiscordConnection)),
)]
pub async fn mine(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<DiscordConnection>, AppError> {
    roles::status(&state, &user).await.map(Json)
}

/// `POST /api/v1/me/discord/refresh` → 202: my values are sent again in the background.
#[utoipa::path(
    post,
    path = "/me/discord/refresh",
    tag = "discord",
    summary = "Send my values to Discord again",
    responses((status = 202, description = "Queued"), (status = 409, description = "No role connection yet", body = crate::server::error::ErrorBody)),
)]
pub async fn refresh(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<StatusCode, AppError> {
    roles::refresh(&state, &user).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /api/v1/admin/discord`: Slipway's metadata next to Discord's, and failing members.
#[utoipa::path(
    get,
    path = "/admin/discord",
    tag = "discord",
    summary = "Slipway's metadata next to Discord's, and failing members",
    responses((status = 200, description = "Status", body = DiscordStatus), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody)),
)]
pub async fn status(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<DiscordStatus>, AppError> {
    metadata::status(&state, &require_admin(user)?)
        .await
        .map(Json)
}

/// `POST /api/v1/admin/discord/metadata`: registers the role-connection metadata.
#[utoipa::path(
    post,
    path = "/admin/discord/metadata",
    tag = "discord",
    summary = "Register the role-connection metadata with Discord",
    responses((status = 200, description = "What Discord now has", body = Vec<DiscordMetadataRecord>), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 503, description = "Discord refused or cannot be reached", body = crate::server::error::ErrorBody)),
)]
pub async fn register_metadata(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
) -> Result<Json<Vec<DiscordMetadataRecord>>, AppError> {
    metadata::register_as(&state, &require_admin(user)?, &client)
        .await
        .map(Json)
}

/// `POST /api/v1/admin/discord/commands`: registers the slash commands.
#[utoipa::path(
    post,
    path = "/admin/discord/commands",
    tag = "discord",
    summary = "Register the slash commands with Discord",
    responses((status = 200, description = "The commands Discord now has", body = serde_json::Value), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 503, description = "Discord refused or cannot be reached", body = crate::server::error::ErrorBody)),
)]
pub async fn register_commands(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
) -> Result<Json<Value>, AppError> {
    let admin = require_admin(user)?;
    let commands = discord::interactions::register_as(&state, &admin, &client).await?;
    Ok(Json(json!(commands)))
}
