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
#[utoipa::path(
    get,
    path = "/users",
    tag = "admin",
    summary = "Search and page accounts",
    params(("query" = Option<String>, Query, description = "Part of a username, email or display name"), ("page" = Option<u32>, Query, description = "1-based page of 25")),
    responses((status = 200, description = "A page of accounts", body = UserPage), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    post,
    path = "/users",
    tag = "admin",
    summary = "Create an account",
    request_body = CreateUserRequest,
    responses((status = 201, description = "Created", body = UserSummary), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 409, description = "The username or email is taken", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "admin",
    summary = "Edit an account: role, disabled, display name, email",
    params(("id" = String, Path, description = "The account's id")),
    request_body = UpdateUserRequest,
    responses((status = 200, description = "The account now", body = UserSummary), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 404, description = "No such account", body = crate::server::error::ErrorBody), (status = 409, description = "The last admin, or a taken email", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    post,
    path = "/users/{id}/password-reset",
    tag = "admin",
    summary = "Set a new password (made up when none is given, returned once); the account's sessions end",
    params(("id" = String, Path, description = "The account's id")),
    request_body = PasswordResetRequest,
    responses((status = 200, description = "Done", body = PasswordReset), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 404, description = "No such account", body = crate::server::error::ErrorBody), (status = 422, description = "The password breaks a rule", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    delete,
    path = "/users/{id}",
    tag = "admin",
    summary = "Delete an account with its deployments; its provider grants are revoked",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 404, description = "No such account", body = crate::server::error::ErrorBody), (status = 409, description = "The last admin", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/settings/registration",
    tag = "admin",
    summary = "Who may register",
    responses((status = 200, description = "The policy", body = RegistrationSetting), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody)),
)]
pub async fn get_registration(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<RegistrationSetting>, AppError> {
    require_admin(user)?;
    let policy = service::registration_policy(&state).await?;
    Ok(Json(RegistrationSetting { policy }))
}

/// `PUT /api/v1/settings/registration` `{"policy": "open" | "invite" | "closed"}`
#[utoipa::path(
    put,
    path = "/settings/registration",
    tag = "admin",
    summary = "Set who may register",
    request_body = RegistrationSetting,
    responses((status = 200, description = "The policy now", body = RegistrationSetting), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/audit",
    tag = "admin",
    summary = "The audit log, newest first, filtered",
    params(AuditFilter),
    responses((status = 200, description = "Entries", body = Vec<AuditEntry>), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 422, description = "A filter is invalid", body = crate::server::error::ErrorBody)),
)]
pub async fn audit(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(filter): Query<AuditFilter>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let admin = require_admin(user)?;
    admin::audit_log(&state, &admin, filter).await.map(Json)
}

/// `POST /api/v1/invites` → 201 with a single-use registration link.
#[utoipa::path(
    post,
    path = "/invites",
    tag = "admin",
    summary = "A single-use registration link",
    request_body = CreateInviteRequest,
    responses((status = 201, description = "The invite, shown once", body = Invite), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
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
