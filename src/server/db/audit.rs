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
