//! The `instance` row: what identifies this Slipway installation in shared places such as
//! the Docker engine, where several installations (or test runs) may meet.

use sqlx::PgExecutor;
use uuid::Uuid;

#[tracing::instrument(skip_all)]
pub async fn instance_id(db: impl PgExecutor<'_>) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!("SELECT instance_id FROM instance")
        .fetch_one(db)
        .await
}

/// The newest migration applied, which the health report shows so an operator can tell
/// which schema a running server sees.
#[tracing::instrument(skip_all)]
pub async fn schema_version(db: impl PgExecutor<'_>) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(db)
        .await
}
