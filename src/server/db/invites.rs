//! The `invites` table.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[tracing::instrument(skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    token_sha256: &str,
    created_by: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO invites (token_sha256, created_by, expires_at) VALUES ($1, $2, $3)",
        token_sha256,
        created_by,
        expires_at
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Marks a live invite used; `false` when it is unknown, used or expired. One statement, so
/// two registrations racing for one invite cannot both win.
#[tracing::instrument(skip_all)]
pub async fn redeem(
    db: impl PgExecutor<'_>,
    token_sha256: &str,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!(
        "UPDATE invites SET used_at = now(), used_by = $2
         WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > now()",
        token_sha256,
        user_id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
