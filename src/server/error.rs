//! Turning errors into HTTP responses, in one place. Internal causes are logged here with the
//! request id and replaced by [`AppError::Internal`], which carries only that id.

use std::{collections::BTreeMap, fmt::Display};

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

use super::http::request_context::current_request_id;
use crate::error::AppError;

/// Logs an unexpected failure and returns the error a client may see.
pub fn internal(context: &str, cause: impl Display) -> AppError {
    tracing::error!(error = %cause, "{context}");
    AppError::Internal {
        request_id: current_request_id(),
    }
}

/// Every REST error answer: `{"error": {"code", "message", "fields"?}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `validation`, `not_found`, `unauthorized`…
    pub code: String,
    /// A sentence a person can read.
    pub message: String,
    /// For `validation`: what is wrong with each field, by field name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                fields: match &self {
                    AppError::Validation { fields, .. } => Some(fields.clone()),
                    _ => None,
                },
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let AppError::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
