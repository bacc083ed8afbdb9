//! The `api_tokens` table.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    name: &str,
    token_sha256: &str,
    prefix: &str,
) -> Result<TokenRow, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        "INSERT INTO api_tokens (user_id, name, token_sha256, prefix) VALUES ($1, $2, $3, $4)
         RETURNING id, name, prefix, created_at, last_used_at",
        user_id,
        name,
        token_sha256,
        prefix
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn list(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens
         WHERE user_id = $1 ORDER BY created_at DESC",
        user_id
    )
    .fetch_all(db)
    .await
}

/// Deletes one of `user_id`'s tokens; `false` when there was no such token of theirs.
#[tracing::instrument(skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, user_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!(
        "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2",
        id,
        user_id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The owner of the token with this digest, marking it used.
#[tracing::instrument(skip_all)]
pub async fn use_token(
    db: impl PgExecutor<'_>,
    token_sha256: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE api_tokens SET last_used_at = now() WHERE token_sha256 = $1 RETURNING user_id",
        token_sha256
    )
    .fetch_optional(db)
    .await
}
