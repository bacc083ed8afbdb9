//! The `discord_role_connections` table: members whose Discord role connection Slipway keeps
//! current, with what was last sent and what is due.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct ConnectionRow {
    pub user_id: Uuid,
    pub version: i64,
    pub pushed_version: i64,
    pub pushed_values: Option<Value>,
    pub pushed_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub refused: bool,
}

/// Records a fresh push after the member connected (again): clears any refusal.
#[tracing::instrument(skip_all)]
pub async fn connected(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    values: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO discord_role_connections (user_id, version, pushed_version, pushed_values, pushed_at)
         VALUES ($1, 1, 1, $2, now())
         ON CONFLICT (user_id) DO UPDATE SET
             pushed_version = discord_role_connections.version, pushed_values = $2,
             pushed_at = now(), attempts = 0, last_error = NULL, refused = false,
             next_attempt_at = now()",
        user_id,
        values
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Marks the member's values as possibly changed. Changes within `coalesce_ms` of each other
/// are sent once; a backoff in progress is not cut short. `false` when the member has no
/// connection (nothing to do).
#[tracing::instrument(skip_all)]
pub async fn touch(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    coalesce_ms: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE discord_role_connections SET version = version + 1,
             next_attempt_at = CASE WHEN attempts > 0 THEN next_attempt_at
                                    ELSE GREATEST(next_attempt_at, now() + make_interval(secs => $2::bigint / 1000.0)) END
         WHERE user_id = $1",
        user_id,
        coalesce_ms
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// "Refresh now": due at once, whatever the backoff, and refused grants are tried again.
#[tracing::instrument(skip_all)]
pub async fn refresh_now(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE discord_role_connections SET version = version + 1, next_attempt_at = now(),
             attempts = 0, refused = false
         WHERE user_id = $1",
        user_id
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// The member most overdue for a push, locked for the transaction (the push runs under the
/// lock, so clearing a connection waits for it); with the version the push is for.
#[tracing::instrument(skip_all)]
pub async fn lock_due(db: &mut PgConnection) -> Result<Option<(Uuid, i64)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT user_id, version FROM discord_role_connections
         WHERE version > pushed_version AND NOT refused AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    .fetch_optional(db)
    .await?
    .map(|r| (r.user_id, r.version)))
}

/// When the next member is due (or `None` when nobody is waiting).
#[tracing::instrument(skip_all)]
pub async fn next_due(db: impl PgExecutor<'_>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT min(next_attempt_at) FROM discord_role_connections
         WHERE version > pushed_version AND NOT refused"
    )
    .fetch_one(db)
    .await
}

/// A push of `version` went through (or was not needed: the values were already there).
#[tracing::instrument(skip_all)]
pub async fn pushed(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    version: i64,
    values: &Value,
    sent: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE discord_role_connections SET
             pushed_version = GREATEST(pushed_version, $2), pushed_values = $3,
             pushed_at = CASE WHEN $4 THEN now() ELSE pushed_at END,
             attempts = 0, last_error = NULL
         WHERE user_id = $1",
        user_id,
        version,
        values,
        sent
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// A push failed: try again after `retry_secs`, or never (`refused`) until the member
/// connects again.
#[tracing::instrument(skip_all)]
pub async fn failed(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    error: &str,
    retry_secs: i64,
    refused: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE discord_role_connections SET attempts = attempts + 1, last_error = $2,
             next_attempt_at = now() + make_interval(secs => $3::bigint), refused = $4
         WHERE user_id = $1",
        user_id,
        error,
        retry_secs,
        refused
    )
    .execute(db)
    .await
    .map(|_| ())
}

#[tracing::instrument(skip_all)]
pub async fn find(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Option<ConnectionRow>, sqlx::Error> {
    sqlx::query_as!(
        ConnectionRow,
        "SELECT user_id, version, pushed_version, pushed_values, pushed_at, next_attempt_at,
                attempts, last_error, refused
         FROM discord_role_connections WHERE user_id = $1",
        user_id
    )
    .fetch_optional(db)
    .await
}

/// The row locked for the transaction: clearing a connection holds it so no push races it.
#[tracing::instrument(skip_all)]
pub async fn lock(
    db: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<ConnectionRow>, sqlx::Error> {
    sqlx::query_as!(
        ConnectionRow,
        "SELECT user_id, version, pushed_version, pushed_values, pushed_at, next_attempt_at,
                attempts, last_error, refused
         FROM discord_role_connections WHERE user_id = $1 FOR UPDATE",
        user_id
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM discord_role_connections WHERE user_id = $1",
        user_id
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Members whose pushes fail, for the admin page.
#[tracing::instrument(skip_all)]
pub async fn failing(db: impl PgExecutor<'_>) -> Result<Vec<(String, ConnectionRow)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT u.username, c.user_id, c.version, c.pushed_version, c.pushed_values, c.pushed_at,
                c.next_attempt_at, c.attempts, c.last_error, c.refused
         FROM discord_role_connections c JOIN users u ON u.id = c.user_id
         WHERE c.last_error IS NOT NULL ORDER BY c.next_attempt_at"
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| {
        (
            r.username,
            ConnectionRow {
                user_id: r.user_id,
                version: r.version,
                pushed_version: r.pushed_version,
                pushed_values: r.pushed_values,
                pushed_at: r.pushed_at,
                next_attempt_at: r.next_attempt_at,
                attempts: r.attempts,
                last_error: r.last_error,
                refused: r.refused,
            },
        )
    })
    .collect())
}

/// The member's metadata as Slipway sees it now: running deployments and whether admin.
#[tracing::instrument(skip_all)]
pub async fn running_deployments(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM deployments WHERE owner_id = $1 AND state = 'running'"#,
        user_id
    )
    .fetch_one(db)
    .await
}

/// A connection whose first push did not go through: due again soon, with the error shown.
#[tracing::instrument(skip_all)]
pub async fn pending(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    error: &str,
    retry_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO discord_role_connections (user_id, version, pushed_version, attempts, last_error, next_attempt_at)
         VALUES ($1, 1, 0, 1, $2, now() + make_interval(secs => $3::bigint))
         ON CONFLICT (user_id) DO UPDATE SET version = discord_role_connections.version + 1,
             attempts = 1, last_error = $2, refused = false,
             next_attempt_at = now() + make_interval(secs => $3::bigint)",
        user_id,
        error,
        retry_secs
    )
    .execute(db)
    .await
    .map(|_| ())
}
