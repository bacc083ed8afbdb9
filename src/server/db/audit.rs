//! The `audit_log` table: security events and admin actions, append-only.

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

pub struct Event<'a> {
    pub actor_id: Option<Uuid>,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub ip: Option<String>,
    pub details: Value,
}

#[tracing::instrument(skip_all, fields(action = event.action))]
pub async fn record(db: impl PgExecutor<'_>, event: Event<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO audit_log (actor_id, action, subject, ip, details) VALUES ($1, $2, $3, ($4::text)::inet, $5)",
        event.actor_id,
        event.action,
        event.subject,
        event.ip,
        event.details,
    )
    .execute(db)
    .await
    .map(|_| ())
}

pub struct EntryRow {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub details: Value,
}

/// Newest first, `limit` entries older than `before` (an entry id) when given.
#[tracing::instrument(skip_all)]
pub async fn page(
    db: impl PgExecutor<'_>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    sqlx::query_as!(
        EntryRow,
        r#"SELECT a.id, a.at, u.username AS "actor?", a.action, a.subject, host(a.ip) AS ip, a.details
           FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
           WHERE $1::bigint IS NULL OR a.id < $1
           ORDER BY a.id DESC
           LIMIT $2"#,
        before,
        limit
    )
    .fetch_all(db)
    .await
}
