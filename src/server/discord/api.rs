//! Calls to Discord's REST API (`DISCORD_API_BASE`): as the bot (`Authorization: Bot …`) for
//! the application's metadata and commands, as a member (their OAuth2 token) for the role
//! connection, and through an interaction's token for follow-up messages.

use reqwest::Method;
use serde_json::Value;

use crate::server::{auth::oauth::plain_error, config::Config, AppState};

/// Discord's API as this installation's application: its HTTP client and settings. The
/// `slipway discord-*` commands make one without starting the server.
#[derive(Clone, Copy)]
pub struct Api<'a> {
    pub http: &'a reqwest::Client,
    pub config: &'a Config,
}

impl<'a> Api<'a> {
    pub fn of(state: &'a AppState) -> Self {
        Self {
            http: &state.oauth.http,
            config: &state.config,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status Discord answered, when it answered.
    pub status: Option<u16>,
    pub message: String,
}

impl ApiError {
    fn local(message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
        }
    }

    /// The member's grant is gone (revoked, or without the scope): retrying cannot help.
    pub fn grant_refused(&self) -> bool {
        matches!(self.status, Some(401 | 403))
    }
}

fn base<'a>(state: &Api<'a>) -> &'a str {
    &state.config.providers.discord_api_base
}

pub fn application_id<'a>(state: &Api<'a>) -> Result<&'a str, ApiError> {
    state
        .config
        .discord
        .application_id
        .as_deref()
        .ok_or_else(|| ApiError::local("DISCORD_APPLICATION_ID (or DISCORD_CLIENT_ID) is not set"))
}

fn bot_token<'a>(state: &Api<'a>) -> Result<&'a str, ApiError> {
    state
        .config
        .discord
        .bot_token
        .as_deref()
        .ok_or_else(|| ApiError::local("DISCORD_BOT_TOKEN is not set"))
}

async fn send(
    state: &Api<'_>,
    method: Method,
    path: &str,
    authorization: Option<String>,
    body: Option<&Value>,
) -> Result<Value, ApiError> {
    let mut request = state.http.request(method, format!("{}{path}", base(state)));
    if let Some(auth) = authorization {
        request = request.header(reqwest::header::AUTHORIZATION, auth);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::local(format!("Discord cannot be reached: {}", plain_error(&e))))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let json: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    if (200..300).contains(&status) {
        return Ok(json);
    }
    // Discord's errors are `{"message", "code"}`: safe to show, they never echo credentials.
    let message = json["message"]
        .as_str()
        .map(|m| m.chars().take(300).collect::<String>())
        .unwrap_or_else(|| "no message".into());
    Err(ApiError {
        status: Some(status),
        message: format!("Discord answered {status}: {message}"),
    })
}

async fn as_bot(
    state: &Api<'_>,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, ApiError> {
    let token = bot_token(state)?;
    send(state, method, path, Some(format!("Bot {token}")), body).await
}

pub async fn put_metadata(state: &Api<'_>, records: &Value) -> Result<Value, ApiError> {
    let app = application_id(state)?;
    as_bot(
        state,
        Method::PUT,
        &format!("/applications/{app}/role-connections/metadata"),
        Some(records),
    )
    .await
}

pub async fn get_metadata(state: &Api<'_>) -> Result<Value, ApiError> {
    let app = application_id(state)?;
    as_bot(
        state,
        Method::GET,
        &format!("/applications/{app}/role-connections/metadata"),
        None,
    )
    .await
}

/// Replaces the application's global commands (bulk overwrite).
pub async fn put_commands(state: &Api<'_>, commands: &Value) -> Result<Value, ApiError> {
    let app = application_id(state)?;
    as_bot(
        state,
        Method::PUT,
        &format!("/applications/{app}/commands"),
        Some(commands),
    )
    .await
}

/// `PUT /users/@me/applications/{app}/role-connection` with the member's token.
pub async fn put_role_connection(
    state: &Api<'_>,
    access_token: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let app = application_id(state)?;
    send(
        state,
        Method::PUT,
        &format!("/users/@me/applications/{app}/role-connection"),
        Some(format!("Bearer {access_token}")),
        Some(body),
    )
    .await
}

/// Edits the deferred answer to an interaction.
pub async fn edit_original(
    state: &Api<'_>,
    interaction_token: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let app = application_id(state)?;
    send(
        state,
        Method::PATCH,
        &format!("/webhooks/{app}/{interaction_token}/messages/@original"),
        None,
        Some(body),
    )
    .await
}

/// A follow-up message to an interaction.
pub async fn follow_up(
    state: &Api<'_>,
    interaction_token: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let app = application_id(state)?;
    send(
        state,
        Method::POST,
        &format!("/webhooks/{app}/{interaction_token}"),
        None,
        Some(body),
    )
    .await
}
