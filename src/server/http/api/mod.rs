//! The REST API under `/api/v1`: JSON in, JSON out, errors as `{"error": {code, message,
//! fields?}}`. Each handler is one call into the same service code the UI uses.

mod auth;

use axum::{
    extract::{rejection::JsonRejection, FromRequest, Request},
    routing::{delete, get, post},
    Router,
};
use serde::de::DeserializeOwned;

use crate::{error::AppError, server::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/hello", get(auth::hello))
        .route("/me/sessions", get(auth::sessions))
        .route("/me/sessions/{id}", delete(auth::revoke_session))
        .route("/me/password", post(auth::change_password))
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
