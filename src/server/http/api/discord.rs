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
pub async fn mine(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<DiscordConnection>, AppError> {
    roles::status(&state, &user).await.map(Json)
}

/// `POST /api/v1/me/discord/refresh` → 202: my values are sent again in the background.
pub async fn refresh(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<StatusCode, AppError> {
    roles::refresh(&state, &user).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /api/v1/admin/discord`: Slipway's metadata next to Discord's, and failing members.
pub async fn status(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<DiscordStatus>, AppError> {
    metadata::status(&state, &require_admin(user)?)
        .await
        .map(Json)
}

/// `POST /api/v1/admin/discord/metadata`: registers the role-connection metadata.
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
pub async fn register_commands(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
) -> Result<Json<Value>, AppError> {
    let admin = require_admin(user)?;
    let commands = discord::interactions::register_as(&state, &admin, &client).await?;
    Ok(Json(json!(commands)))
}
