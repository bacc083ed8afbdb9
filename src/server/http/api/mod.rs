//! The REST API under `/api/v1`: JSON in, JSON out, errors as `{"error": {code, message,
//! fields?}}`. Each handler is one call into the same service code the UI uses.

mod admin;
mod auth;
mod deployments;
mod discord;
mod providers;
mod streams;

use axum::{
    extract::{rejection::JsonRejection, FromRequest, FromRequestParts, Request},
    http::{header::AUTHORIZATION, request::Parts},
    routing::{delete, get, patch, post},
    Router,
};
use serde::de::DeserializeOwned;

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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/providers", get(auth::providers))
        .route("/me", get(auth::me).patch(auth::update_me))
        .route("/hello", get(auth::hello))
        .route("/me/sessions", get(auth::sessions))
        .route("/me/sessions/{id}", delete(auth::revoke_session))
        .route("/me/password", post(auth::change_password))
        .route("/me/reauthenticate", post(auth::reauthenticate))
        .route("/me/identities", get(auth::identities))
        .route("/me/identities/{slug}", delete(auth::unlink))
        .route("/me/discord", get(discord::mine))
        .route("/me/discord/refresh", post(discord::refresh))
        .route(
            "/me/tokens",
            get(auth::list_tokens).post(auth::create_token),
        )
        .route("/me/tokens/{id}", delete(auth::revoke_token))
        .route("/users", get(admin::list_users).post(admin::create_user))
        .route(
            "/users/{id}",
            patch(admin::update_user).delete(admin::delete_user),
        )
        .route("/users/{id}/password-reset", post(admin::reset_password))
        .route(
            "/settings/registration",
            get(admin::get_registration).put(admin::put_registration),
        )
        .route("/audit", get(admin::audit))
        .route(
            "/admin/providers",
            get(providers::list).post(providers::create),
        )
        .route(
            "/admin/providers/{slug}",
            get(providers::get)
                .patch(providers::update)
                .delete(providers::delete),
        )
        .route("/admin/providers/{slug}/test", post(providers::test))
        .route("/admin/provider-presets", get(providers::presets))
        .route("/admin/discord", get(discord::status))
        .route("/admin/discord/metadata", post(discord::register_metadata))
        .route("/admin/discord/commands", post(discord::register_commands))
        .route("/invites", post(admin::create_invite))
        .route(
            "/deployments",
            get(deployments::list).post(deployments::create),
        )
        .route(
            "/deployments/{id}",
            get(deployments::get)
                .patch(deployments::update)
                .delete(deployments::delete),
        )
        .route("/deployments/{id}/redeploy", post(deployments::redeploy))
        .route("/deployments/{id}/stop", post(deployments::stop))
        .route("/deployments/{id}/start", post(deployments::start))
        .route("/deployments/{id}/restart", post(deployments::restart))
        .route("/deployments/{id}/releases", get(deployments::releases))
        .route("/deployments/{id}/routing", get(deployments::routing))
        .route("/deployments/{id}/rollback", post(deployments::rollback))
        .route("/deployments/{id}/logs", get(streams::logs))
        .route("/deployments/{id}/env/{key}", get(deployments::reveal_env))
        .route(
            "/deployments/{id}/webhook",
            get(deployments::webhook)
                .post(deployments::enable_webhook)
                .delete(deployments::disable_webhook),
        )
        .route(
            "/deployments/{id}/webhook/deliveries",
            get(deployments::webhook_deliveries),
        )
        .route("/events", get(streams::events))
        .route("/releases/{id}/log", get(deployments::release_log))
        .route("/subdomains/{name}", get(deployments::subdomain))
        .route("/ports", get(deployments::ports))
        .fallback(|| async { AppError::NotFound })
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
