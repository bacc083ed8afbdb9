//! The one error type the browser and API clients see. It carries a stable code, a sentence a
//! person can read and, for bad input, the message for each field. Internal causes never get
//! here: the server logs them with the request id and sends only [`AppError::Internal`].

use std::collections::BTreeMap;

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    #[error("{message}")]
    BadRequest { message: String },
    #[error("You need to log in first.")]
    Unauthorized,
    /// Unknown account, wrong password and disabled account alike: nothing tells them apart.
    #[error("Wrong username, email or password.")]
    InvalidCredentials,
    #[error("{message}")]
    Forbidden { message: String },
    #[error("Not found.")]
    NotFound,
    #[error("{message}")]
    Conflict { message: String },
    #[error("{message}")]
    Validation {
        message: String,
        /// Field name → what is wrong with it.
        fields: BTreeMap<String, String>,
    },
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{message}")]
    Unavailable { message: String },
    #[error("Something went wrong on our side.{}", request_id.as_deref().map(|id| format!(" Reference: {id}.")).unwrap_or_default())]
    Internal { request_id: Option<String> },
}

impl AppError {
    /// The stable, machine-readable code (also the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Validation { .. } => "validation",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::Unauthorized | Self::InvalidCredentials => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound => 404,
            Self::Conflict { .. } => 409,
            Self::Validation { .. } => 422,
            Self::TooManyRequests { .. } => 429,
            Self::Unavailable { .. } => 503,
            Self::Internal { .. } => 500,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
        }
    }

    /// A validation error about a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Validation {
            message: message.clone(),
            fields: BTreeMap::from([(field.to_owned(), message)]),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Malformed arguments are the caller's fault; everything else (transport, encoding)
            // is ours or the network's and reads the same to a person.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                Self::BadRequest { message }
            }
            ServerFnErrorErr::Request(_) => Self::Unavailable {
                message: "The server could not be reached. Check your connection and try again."
                    .into(),
            },
            _ => Self::Internal { request_id: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_a_stable_code_and_field_messages() {
        let err = AppError::field("subdomain", "is already taken");
        let json = serde_json_like(&err);
        assert!(json.contains(r#""code":"validation""#), "{json}");
        assert!(json.contains(r#""subdomain":"is already taken""#), "{json}");
        assert_eq!(err.status(), 422);
        assert_eq!(err.code(), "validation");
    }

    #[test]
    fn internal_errors_show_only_a_reference() {
        let err = AppError::Internal {
            request_id: Some("abc".into()),
        };
        assert_eq!(
            err.to_string(),
            "Something went wrong on our side. Reference: abc."
        );
    }

    fn serde_json_like(err: &AppError) -> String {
        String::from_utf8(err.ser().to_vec()).expect("utf-8")
    }
}
