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
#[utoipa::path(
    post,
    path = "/auth/register",
    tag = "account",
    summary = "Register an account (and sign in)",
    request_body = RegisterRequest,
    responses((status = 201, description = "Registered and signed in", body = Me), (status = 403, description = "The registration policy forbids it", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
    security(()),
)]
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
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "account",
    summary = "Sign in with a username or email and a password",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = Me), (status = 401, description = "Wrong username, email or password", body = crate::server::error::ErrorBody), (status = 429, description = "Too many attempts (Retry-After)", body = crate::server::error::ErrorBody)),
    security(()),
)]
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
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "account",
    summary = "Sign out: the session is deleted on the server",
    responses((status = 204, description = "Signed out")),
    security(()),
)]
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    client: Client,
) -> Result<StatusCode, AppError> {
    service::logout(&state, &session, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me` → the caller's account, or 401.
#[utoipa::path(
    get,
    path = "/me",
    tag = "account",
    summary = "The caller's account",
    responses((status = 200, description = "The account", body = Me)),
)]
pub async fn me(Caller(user): Caller) -> Json<Me> {
    Json(service::me(&user))
}

/// `GET /api/v1/hello`: the protected example endpoint.
#[utoipa::path(
    get,
    path = "/hello",
    tag = "account",
    summary = "A protected example",
    responses((status = 200, description = "A greeting", body = serde_json::Value)),
)]
pub async fn hello(_: Caller) -> Json<Value> {
    Json(json!({ "message": "hello world" }))
}

/// `GET /api/v1/me/sessions`: my signed-in sessions, the current one marked.
#[utoipa::path(
    get,
    path = "/me/sessions",
    tag = "account",
    summary = "My signed-in sessions",
    responses((status = 200, description = "Sessions, the current one marked", body = Vec<SessionInfo>)),
)]
pub async fn sessions(
    State(state): State<AppState>,
    Caller(user): Caller,
    session: Session,
) -> Result<Json<Vec<SessionInfo>>, AppError> {
    sessions::list(&state, &user, &session).await.map(Json)
}

/// `DELETE /api/v1/me/sessions/{id}` → 204, or 404 for an id that is not mine.
#[utoipa::path(
    delete,
    path = "/me/sessions/{id}",
    tag = "account",
    summary = "End one of my sessions",
    params(("id" = String, Path, description = "The session's public id")),
    responses((status = 204, description = "Ended"), (status = 404, description = "No such session of mine", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    post,
    path = "/me/password",
    tag = "account",
    summary = "Change my password (my other sessions end), or set the first one of an account without",
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed"), (status = 403, description = "Setting a first password needs a recent confirmation", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/me/tokens",
    tag = "account",
    summary = "My API tokens (never the tokens themselves)",
    responses((status = 200, description = "Tokens", body = Vec<TokenInfo>)),
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<TokenInfo>>, AppError> {
    tokens::list(&state, &user).await.map(Json)
}

/// `POST /api/v1/me/tokens` → 201 with the token, shown this once.
#[utoipa::path(
    post,
    path = "/me/tokens",
    tag = "account",
    summary = "Make an API token, shown this once",
    request_body = CreateTokenRequest,
    responses((status = 201, description = "The token", body = CreatedToken), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    delete,
    path = "/me/tokens/{id}",
    tag = "account",
    summary = "Revoke an API token",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such token of mine", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/auth/providers",
    tag = "account",
    summary = "The enabled sign-in providers",
    responses((status = 200, description = "Providers", body = Vec<ProviderButton>)),
    security(()),
)]
pub async fn providers(
    State(state): State<AppState>,
) -> Result<Json<Vec<ProviderButton>>, AppError> {
    oauth::providers::buttons(&state).await.map(Json)
}

/// `GET /api/v1/me/identities`: how I can sign in.
#[utoipa::path(
    get,
    path = "/me/identities",
    tag = "account",
    summary = "How I can sign in: password and linked providers",
    responses((status = 200, description = "Sign-in methods", body = SignInMethods)),
)]
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
#[utoipa::path(
    delete,
    path = "/me/identities/{slug}",
    tag = "account",
    summary = "Unlink a provider",
    params(("slug" = String, Path, description = "The provider's slug")),
    responses((status = 204, description = "Unlinked; the grant is revoked at the provider"), (status = 403, description = "A confirmation from the last 10 minutes is needed", body = crate::server::error::ErrorBody), (status = 404, description = "No such linked provider", body = crate::server::error::ErrorBody), (status = 409, description = "It is the last way to sign in", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    post,
    path = "/me/reauthenticate",
    tag = "account",
    summary = "Confirm who I am with my password, for 10 minutes",
    request_body = ReauthenticateRequest,
    responses((status = 204, description = "Confirmed"), (status = 403, description = "Only a browser session can hold a confirmation", body = crate::server::error::ErrorBody), (status = 422, description = "Not my password", body = crate::server::error::ErrorBody), (status = 429, description = "Too many attempts (Retry-After)", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    patch,
    path = "/me",
    tag = "account",
    summary = "Change my display name or email (an email needs a recent confirmation)",
    request_body = UpdateProfileRequest,
    responses((status = 200, description = "The account as it is now", body = Me), (status = 403, description = "A confirmation from the last 10 minutes is needed", body = crate::server::error::ErrorBody), (status = 409, description = "The email belongs to another account", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
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
