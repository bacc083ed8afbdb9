use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde_json::{json, Value};
use tower_sessions::Session;

use super::{ApiJson, Caller};
use crate::{
    error::AppError,
    features::auth::types::{
        ChangePasswordRequest, CreateTokenRequest, CreatedToken, LoginRequest, Me, ProviderButton,
        ReauthenticateRequest, RegisterRequest, SessionInfo, SignInMethods, TokenInfo,
        UpdateProfileRequest,
    },
    server::{
        auth::{
            oauth,
            service::{self, Client},
            sessions, tokens,
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

/// `GET /api/v1/me` → the caller's account, or 401.
pub async fn me(Caller(user): Caller) -> Json<Me> {
    Json(service::me(&user))
}

/// `GET /api/v1/hello`: the protected example endpoint.
pub async fn hello(_: Caller) -> Json<Value> {
    Json(json!({ "message": "hello world" }))
}

/// `GET /api/v1/me/sessions`: my signed-in sessions, the current one marked.
pub async fn sessions(
    State(state): State<AppState>,
    Caller(user): Caller,
    session: Session,
) -> Result<Json<Vec<SessionInfo>>, AppError> {
    sessions::list(&state, &user, &session).await.map(Json)
}

/// `DELETE /api/v1/me/sessions/{id}` → 204, or 404 for an id that is not mine.
pub async fn revoke_session(
    State(state): State<AppState>,
    Caller(user): Caller,
    session: Session,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    sessions::revoke(&state, &user, &session, &client, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/me/password` → 204; my other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    Caller(user): Caller,
    session: Session,
    client: Client,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, AppError> {
    sessions::change_password(&state, &user, &session, &client, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me/tokens`.
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<TokenInfo>>, AppError> {
    tokens::list(&state, &user).await.map(Json)
}

/// `POST /api/v1/me/tokens` → 201 with the token, shown this once.
pub async fn create_token(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    ApiJson(request): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let created = tokens::create(&state, &user, &client, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /api/v1/me/tokens/{id}` → 204, or 404.
pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    tokens::revoke(&state, &user, &client, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/auth/providers`: the enabled sign-in providers (public).
pub async fn providers(
    State(state): State<AppState>,
) -> Result<Json<Vec<ProviderButton>>, AppError> {
    oauth::providers::buttons(&state).await.map(Json)
}

/// `GET /api/v1/me/identities`: how I can sign in.
pub async fn identities(
    State(state): State<AppState>,
    Caller(user): Caller,
    session: Session,
) -> Result<Json<SignInMethods>, AppError> {
    oauth::identities::methods(&state, &user, &session)
        .await
        .map(Json)
}

/// `DELETE /api/v1/me/identities/{slug}` → 204; 409 for the last way to sign in.
pub async fn unlink(
    State(state): State<AppState>,
    Caller(user): Caller,
    session: Session,
    client: Client,
    Path(slug): Path<String>,
) -> Result<StatusCode, AppError> {
    oauth::identities::unlink(&state, &user, &session, &client, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/me/reauthenticate` → 204: confirms who I am for the next 10 minutes.
pub async fn reauthenticate(
    State(state): State<AppState>,
    Caller(user): Caller,
    session: Session,
    client: Client,
    ApiJson(request): ApiJson<ReauthenticateRequest>,
) -> Result<StatusCode, AppError> {
    oauth::identities::confirm_with_password(&state, &user, &session, &client, request.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /api/v1/me` `{display_name?, email?}` → my account as it is now.
pub async fn update_me(
    State(state): State<AppState>,
    Caller(user): Caller,
    session: Session,
    client: Client,
    ApiJson(request): ApiJson<UpdateProfileRequest>,
) -> Result<Json<Me>, AppError> {
    crate::server::auth::profile::update(&state, &user, &session, &client, request)
        .await
        .map(Json)
}
