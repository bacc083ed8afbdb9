//! Discord's two URLs: the Linked Roles verification URL and the interactions endpoint.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use tower_sessions::Session;

use super::oauth::redirect;
use crate::{
    error::AppError,
    server::{
        auth::oauth::flow::{self, Intent, StartRequest},
        discord::{interactions, PROVIDER},
        AppState,
    },
};

/// `GET /discord/linked-role`: the URL for the developer portal's "Linked Roles Verification
/// URL". Signed-out members sign in first and come back through `/discord/link`.
pub async fn linked_role(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, AppError> {
    let step = flow::start(
        &state,
        &session,
        PROVIDER,
        StartRequest {
            intent: Intent::LinkedRole,
            next: Some("/account?discord=connected".into()),
            invite: None,
        },
    )
    .await?;
    Ok(redirect(&state, step))
}

/// `POST /discord/interactions`: 401 for anything not signed by Discord just now.
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match interactions::handle(
        &state,
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
        &body,
    )
    .await
    {
        Some(answer) => Json(answer).into_response(),
        None => (StatusCode::UNAUTHORIZED, "invalid request signature").into_response(),
    }
}
