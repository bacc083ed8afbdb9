use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;

use super::{ApiJson, Caller};
use crate::{
    error::AppError,
    features::admin::types::{
        AuditEntry, AuditFilter, CreateInviteRequest, CreateUserRequest, Invite, PasswordReset,
        PasswordResetRequest, RegistrationSetting, UpdateUserRequest, UserPage, UserSummary,
    },
    server::{
        auth::{
            admin::{self, require_admin},
            service::{self, Client},
        },
        AppState,
    },
};

#[derive(Deserialize)]
pub struct UserQuery {
    #[serde(default)]
    query: String,
    #[serde(default)]
    page: Option<u32>,
}

/// `GET /api/v1/users?query=&page=`
pub async fn list_users(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<UserQuery>,
) -> Result<Json<UserPage>, AppError> {
    let admin = require_admin(user)?;
    admin::list_users(&state, &admin, &q.query, q.page.unwrap_or(1))
        .await
        .map(Json)
}

/// `POST /api/v1/users` → 201.
pub async fn create_user(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserSummary>), AppError> {
    let admin = require_admin(user)?;
    let created = admin::create_user(&state, &admin, &client, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PATCH /api/v1/users/{id}`
pub async fn update_user(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateUserRequest>,
) -> Result<Json<UserSummary>, AppError> {
    let admin = require_admin(user)?;
    admin::update_user(&state, &admin, &client, &id, request)
        .await
        .map(Json)
}

/// `POST /api/v1/users/{id}/password-reset`
pub async fn reset_password(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<PasswordReset>, AppError> {
    let admin = require_admin(user)?;
    // No body means "make up a password".
    let request: PasswordResetRequest = optional_json(&body)?;
    admin::reset_password(&state, &admin, &client, &id, request)
        .await
        .map(Json)
}

/// `DELETE /api/v1/users/{id}` → 204.
pub async fn delete_user(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let admin = require_admin(user)?;
    admin::delete_user(&state, &admin, &client, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/settings/registration`
pub async fn get_registration(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<RegistrationSetting>, AppError> {
    require_admin(user)?;
    let policy = service::registration_policy(&state).await?;
    Ok(Json(RegistrationSetting { policy }))
}

/// `PUT /api/v1/settings/registration` `{"policy": "open" | "invite" | "closed"}`
pub async fn put_registration(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    ApiJson(request): ApiJson<RegistrationSetting>,
) -> Result<Json<RegistrationSetting>, AppError> {
    let admin = require_admin(user)?;
    let policy = admin::set_registration(&state, &admin, &client, request.policy).await?;
    Ok(Json(RegistrationSetting { policy }))
}

/// `GET /api/v1/audit?before=&action=&actor=&subject=&since=&until=&limit=` → newest first.
pub async fn audit(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(filter): Query<AuditFilter>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let admin = require_admin(user)?;
    admin::audit_log(&state, &admin, filter).await.map(Json)
}

/// `POST /api/v1/invites` → 201 with a single-use registration link.
pub async fn create_invite(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Invite>), AppError> {
    let admin = require_admin(user)?;
    let request: CreateInviteRequest = optional_json(&body)?;
    let invite = admin::create_invite(&state, &admin, &client, request).await?;
    Ok((StatusCode::CREATED, Json(invite)))
}

/// An optional JSON body: none (or blank) is the request's defaults.
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| AppError::BadRequest {
        message: format!("The body is not valid JSON for this request: {e}"),
    })
}
