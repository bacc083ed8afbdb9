//! Turning errors into HTTP responses, in one place. Internal causes are logged here with the
//! request id and replaced by [`AppError::Internal`], which carries only that id.

use std::fmt::Display;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::http::request_context::current_request_id;
use crate::error::AppError;

/// Logs an unexpected failure and returns the error a client may see.
pub fn internal(context: &str, cause: impl Display) -> AppError {
    tracing::error!(error = %cause, "{context}");
    AppError::Internal {
        request_id: current_request_id(),
    }
}

impl IntoResponse for AppError {
    /// REST body: `{"error": {"code", "message", "fields"?}}`.
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({ "code": self.code(), "message": self.to_string() });
        if let AppError::Validation { fields, .. } = &self {
            body["fields"] = json!(fields);
        }
        let mut response = (status, Json(json!({ "error": body }))).into_response();
        if let AppError::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
