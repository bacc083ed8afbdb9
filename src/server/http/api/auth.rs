use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    Json,
};
use serde_json::json;
use tower_sessions::Session;

use super::ApiJson;
use crate::{
    error::AppError,
    features::auth::types::{
        ChangePasswordRequest, LoginRequest, Me, RegisterRequest, SessionInfo,
    },
    server::{
        auth::{
            service::{self, Client},
            sessions,
        },
        AppState,
    },
};

/// `POST /api/v1/auth/register` → 201 with the new account, signed in.
pub async fn register(
    State(state): State<AppState>,
    session: Session,
    client: Client,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<Me>), AppError> {
    let me = service::register(&state, &session, &client, request).await?;
    Ok((StatusCode::CREATED, Json(me)))
}

/// `POST /api/v1/auth/login` → 200 with the account, signed in.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    client: Client,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<Me>, AppError> {
    service::login(&state, &session, &client, request)
        .await
        .map(Json)
}

/// `POST /api/v1/auth/logout` → 204, whether or not anyone was signed in.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    client: Client,
) -> Result<StatusCode, AppError> {
    service::logout(&state, &session, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me` → the signed-in account, or 401.
pub async fn me(State(state): State<AppState>, session: Session) -> Result<Json<Me>, AppError> {
    let user = service::current_user(&state, &session).await?;
    Ok(Json(service::me(&user)))
}

/// `GET /api/v1/hello`: the protected example endpoint.
pub async fn hello(
    State(state): State<AppState>,
    session: Session,
) -> Result<impl IntoResponse, AppError> {
    service::current_user(&state, &session).await?;
    Ok(Json(json!({ "message": "hello world" })))
}

/// `GET /api/v1/me/sessions`: my signed-in sessions, the current one marked.
pub async fn sessions(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<SessionInfo>>, AppError> {
    sessions::list(&state, &session).await.map(Json)
}

/// `DELETE /api/v1/me/sessions/{id}` → 204, or 404 for an id that is not mine.
pub async fn revoke_session(
    State(state): State<AppState>,
    session: Session,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    sessions::revoke(&state, &session, &client, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/me/password` → 204; my other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    client: Client,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, AppError> {
    sessions::change_password(&state, &session, &client, request).await?;
    Ok(StatusCode::NO_CONTENT)
}
