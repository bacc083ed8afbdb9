//! Personal API tokens: `slp_` and 43 random characters, shown once, stored as SHA-256,
//! sent as `Authorization: Bearer …`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chrono::SecondsFormat;
use serde_json::json;
use uuid::Uuid;

use super::service::{self, Client};
use crate::{
    error::AppError,
    features::auth::types::{CreateTokenRequest, CreatedToken, TokenInfo},
    server::{
        db::{self, tokens::TokenRow, users::UserRow},
        error::internal,
        AppState,
    },
};

const PREFIX: &str = "slp_";

pub async fn create(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    request: CreateTokenRequest,
) -> Result<CreatedToken, AppError> {
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field("name", "must be 1 to 100 characters"));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| internal("randomness", e))?;
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let row = db::tokens::insert(
        &state.db,
        user.id,
        name,
        &super::sha256_hex(&token),
        &token[..PREFIX.len() + 6],
    )
    .await
    .map_err(|e| internal("insert token", e))?;
    service::audit(
        state,
        Some(user.id),
        "token.created",
        Some(name),
        client,
        json!({}),
    )
    .await?;
    Ok(CreatedToken {
        info: info(row),
        token,
    })
}

pub async fn list(state: &AppState, user: &UserRow) -> Result<Vec<TokenInfo>, AppError> {
    Ok(db::tokens::list(&state.db, user.id)
        .await
        .map_err(|e| internal("list tokens", e))?
        .into_iter()
        .map(info)
        .collect())
}

pub async fn revoke(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
) -> Result<(), AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    if !db::tokens::delete(&state.db, user.id, id)
        .await
        .map_err(|e| internal("delete token", e))?
    {
        return Err(AppError::NotFound);
    }
    service::audit(
        state,
        Some(user.id),
        "token.revoked",
        None,
        client,
        json!({ "token_id": id }),
    )
    .await
}

/// The enabled account a bearer token belongs to, or 401.
pub async fn authenticate(state: &AppState, bearer: &str) -> Result<UserRow, AppError> {
    if !bearer.starts_with(PREFIX) {
        return Err(AppError::Unauthorized);
    }
    let Some(user_id) = db::tokens::use_token(&state.db, &super::sha256_hex(bearer))
        .await
        .map_err(|e| internal("look up token", e))?
    else {
        return Err(AppError::Unauthorized);
    };
    service::enabled_user(state, user_id)
        .await?
        .ok_or(AppError::Unauthorized)
}

fn info(row: TokenRow) -> TokenInfo {
    TokenInfo {
        id: row.id.to_string(),
        name: row.name,
        prefix: row.prefix,
        created_at: row.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        last_used_at: row
            .last_used_at
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
    }
}
