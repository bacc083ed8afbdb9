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
        "INSERT INTO audit_log (actor_id, actor_name, action, subject, ip, details)
         VALUES ($1, (SELECT username FROM users WHERE id = $1), $2, $3, ($4::text)::inet, $5)",
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

/// Which entries to read: all conditions given must hold.
#[derive(Default)]
pub struct Filter<'a> {
    /// Entries older than this entry id (paging).
    pub before: Option<i64>,
    /// An action (`login.failed`) or a family of them (`login`).
    pub action: Option<&'a str>,
    /// The actor's username, as it was when the entry was made.
    pub actor: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Newest first, at most `limit` entries that pass `filter`.
#[tracing::instrument(skip_all)]
pub async fn page(
    db: impl PgExecutor<'_>,
    filter: &Filter<'_>,
    limit: i64,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    sqlx::query_as!(
        EntryRow,
        r#"SELECT a.id, a.at, COALESCE(u.username, a.actor_name) AS "actor?", a.action, a.subject,
                  host(a.ip) AS ip, a.details
           FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
           WHERE ($1::bigint IS NULL OR a.id < $1)
             AND ($2::text IS NULL OR a.action = $2 OR left(a.action, length($2) + 1) = $2 || '.')
             AND ($3::text IS NULL OR lower(a.actor_name) = lower($3))
             AND ($4::text IS NULL OR a.subject = $4)
             AND ($5::timestamptz IS NULL OR a.at >= $5)
             AND ($6::timestamptz IS NULL OR a.at < $6)
           ORDER BY a.id DESC
           LIMIT $7"#,
        filter.before,
        filter.action,
        filter.actor,
        filter.subject,
        filter.since,
        filter.until,
        limit
    )
    .fetch_all(db)
    .await
}
