//! The `settings` table: run-time settings as JSON values by key.

use serde_json::Value;
use sqlx::PgExecutor;

#[tracing::instrument(skip_all, fields(key))]
pub async fn get(db: impl PgExecutor<'_>, key: &str) -> Result<Option<Value>, sqlx::Error> {
    sqlx::query_scalar!("SELECT value FROM settings WHERE key = $1", key)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip_all, fields(key))]
pub async fn put(db: impl PgExecutor<'_>, key: &str, value: Value) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        key,
        value
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Deletes `key`, saying whether it was there: a one-time value is used by whoever deletes it.
#[tracing::instrument(skip_all, fields(key))]
pub async fn take(db: impl PgExecutor<'_>, key: &str) -> Result<Option<Value>, sqlx::Error> {
    sqlx::query_scalar!("DELETE FROM settings WHERE key = $1 RETURNING value", key)
        .fetch_optional(db)
        .await
}
