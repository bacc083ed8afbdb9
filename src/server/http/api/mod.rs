//! The REST API under `/api/v1`: JSON in, JSON out, errors as `{"error": {code, message,
//! fields?}}`. Each handler is one call into the same service code the UI uses.

mod admin;
mod auth;
mod deployments;
mod discord;
pub mod openapi;
mod providers;
mod streams;

use axum::{
    extract::{rejection::JsonRejection, FromRequest, FromRequestParts, Request},
    http::{header::AUTHORIZATION, request::Parts},
    Router,
};
use serde::de::DeserializeOwned;
use utoipa::OpenApi as _;
use utoipa_axum::{router::OpenApiRouter, routes};

use tower_sessions::Session;

use crate::{
    error::AppError,
    server::{
        auth::{service, tokens},
        db::users::UserRow,
        error::internal,
        AppState,
    },
};

/// The account a request acts for: the bearer token's owner when an `Authorization` header
/// is sent (a bad token is 401, never a fall-back to the cookie), else the session's.
pub struct Caller(pub UserRow);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(AppError::Unauthorized)?;
            return tokens::authenticate(state, token.trim()).await.map(Caller);
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| internal("session layer", why))?;
        service::current_user(state, &session).await.map(Caller)
    }
}

/// The API's routes and the OpenAPI document that describes them. A route can only be
/// registered here through `routes!` from its `#[utoipa::path]`, so the two cannot drift.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::providers))
        .routes(routes!(auth::me, auth::update_me))
        .routes(routes!(auth::hello))
        .routes(routes!(auth::sessions))
        .routes(routes!(auth::revoke_session))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::reauthenticate))
        .routes(routes!(auth::identities))
        .routes(routes!(auth::unlink))
        .routes(routes!(auth::list_tokens, auth::create_token))
        .routes(routes!(auth::revoke_token))
        .routes(routes!(discord::mine))
        .routes(routes!(discord::refresh))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::update_user, admin::delete_user))
        .routes(routes!(admin::reset_password))
        .routes(routes!(admin::get_registration, admin::put_registration))
        .routes(routes!(admin::audit))
        .routes(routes!(admin::create_invite))
        .routes(routes!(providers::list, providers::create))
        .routes(routes!(
            providers::get,
            providers::update,
            providers::delete
        ))
        .routes(routes!(providers::test))
        .routes(routes!(providers::presets))
        .routes(routes!(discord::status))
        .routes(routes!(discord::register_metadata))
        .routes(routes!(discord::register_commands))
        .routes(routes!(deployments::list, deployments::create))
        .routes(routes!(
            deployments::get,
            deployments::update,
            deployments::delete
        ))
        .routes(routes!(deployments::redeploy))
        .routes(routes!(deployments::stop))
        .routes(routes!(deployments::start))
        .routes(routes!(deployments::restart))
        .routes(routes!(deployments::releases))
        .routes(routes!(deployments::routing))
        .routes(routes!(deployments::rollback))
        .routes(routes!(streams::logs))
        .routes(routes!(deployments::reveal_env))
        .routes(routes!(
            deployments::webhook,
            deployments::enable_webhook,
            deployments::disable_webhook
        ))
        .routes(routes!(deployments::webhook_deliveries))
        .routes(routes!(streams::events))
        .routes(routes!(deployments::release_log))
        .routes(routes!(deployments::subdomain))
        .routes(routes!(deployments::ports))
        .routes(routes!(openapi::document));
    let (router, mut doc) = OpenApiRouter::new().nest("/api/v1", api).split_for_parts();
    openapi::complete(&mut doc);
    (router, doc)
}

/// `Json<T>` whose rejections (wrong content type, malformed or mistyped body) come back in
/// the API's error format instead of axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(AppError::BadRequest {
                message: match rejection {
                    JsonRejection::MissingJsonContentType(_) => {
                        "Send the body as JSON with Content-Type: application/json.".to_owned()
                    }
                    other => other.body_text(),
                },
            }),
        }
    }
}
