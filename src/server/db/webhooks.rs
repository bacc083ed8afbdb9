//! `deployment_webhooks` and `webhook_deliveries`: push webhooks and what each delivery did.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

pub struct WebhookRow {
    pub secret: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all)]
pub async fn find(
    db: impl PgExecutor<'_>,
    deployment: Uuid,
) -> Result<Option<WebhookRow>, sqlx::Error> {
    sqlx::query_as!(
        WebhookRow,
        "SELECT secret, created_at, rotated_at FROM deployment_webhooks WHERE deployment_id = $1",
        deployment
    )
    .fetch_optional(db)
    .await
}

/// Turns the webhook on with `secret`, or replaces the secret (rotation).
#[tracing::instrument(skip_all)]
pub async fn put(
    db: impl PgExecutor<'_>,
    deployment: Uuid,
    secret: &[u8],
) -> Result<WebhookRow, sqlx::Error> {
    sqlx::query_as!(
        WebhookRow,
        "INSERT INTO deployment_webhooks (deployment_id, secret) VALUES ($1, $2)
         ON CONFLICT (deployment_id) DO UPDATE SET secret = EXCLUDED.secret, rotated_at = now()
         RETURNING secret, created_at, rotated_at",
        deployment,
        secret
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, deployment: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM deployment_webhooks WHERE deployment_id = $1",
        deployment
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub struct DeliveryRow {
    pub id: i64,
    pub source: String,
    pub delivery_id: Option<String>,
    pub event: String,
    pub outcome: String,
    pub detail: String,
    pub commit_sha: Option<String>,
    pub release_id: Option<Uuid>,
    pub repeats: i32,
    pub received_at: DateTime<Utc>,
}

pub struct NewDelivery<'a> {
    pub deployment: Uuid,
    pub source: &'a str,
    pub delivery_id: Option<&'a str>,
    pub event: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
    pub commit_sha: Option<&'a str>,
    pub release_id: Option<Uuid>,
}

/// Claims an accepted delivery's id. `Ok(None)`: the id was claimed before; the earlier
/// delivery (now counted as repeated once more) is returned instead.
#[tracing::instrument(skip_all)]
pub async fn claim(
    db: &mut PgConnection,
    d: &NewDelivery<'_>,
) -> Result<Result<i64, DeliveryRow>, sqlx::Error> {
    let inserted = sqlx::query_scalar!(
        "INSERT INTO webhook_deliveries (deployment_id, source, delivery_id, claimed, event, outcome, detail, commit_sha, release_id)
         VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8)
         ON CONFLICT (deployment_id, source, delivery_id) WHERE claimed DO NOTHING
         RETURNING id",
        d.deployment,
        d.source,
        d.delivery_id,
        d.event,
        d.outcome,
        d.detail,
        d.commit_sha,
        d.release_id,
    )
    .fetch_optional(&mut *db)
    .await?;
    if let Some(id) = inserted {
        return Ok(Ok(id));
    }
    let earlier = sqlx::query_as!(
        DeliveryRow,
        "UPDATE webhook_deliveries SET repeats = repeats + 1
         WHERE deployment_id = $1 AND source = $2 AND delivery_id = $3 AND claimed
         RETURNING id, source, delivery_id, event, outcome, detail, commit_sha, release_id, repeats, received_at",
        d.deployment,
        d.source,
        d.delivery_id,
    )
    .fetch_one(db)
    .await?;
    Ok(Err(earlier))
}

/// What came of a claimed delivery, once known.
#[tracing::instrument(skip_all)]
pub async fn settle(
    db: impl PgExecutor<'_>,
    id: i64,
    outcome: &str,
    detail: &str,
    release_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE webhook_deliveries SET outcome = $2, detail = $3, release_id = $4 WHERE id = $1",
        id,
        outcome,
        detail,
        release_id
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Records a delivery that was not accepted. Only the newest 50 refusals of a deployment are
/// kept, apart from the accepted ones, so a flood of forgeries cannot push real ones out.
#[tracing::instrument(skip_all)]
pub async fn record_refused(db: &mut PgConnection, d: &NewDelivery<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO webhook_deliveries (deployment_id, source, delivery_id, claimed, event, outcome, detail)
         VALUES ($1, $2, $3, false, $4, 'refused', $5)",
        d.deployment,
        d.source,
        d.delivery_id,
        d.event,
        d.detail,
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "DELETE FROM webhook_deliveries WHERE deployment_id = $1 AND NOT claimed AND id NOT IN (
             SELECT id FROM webhook_deliveries WHERE deployment_id = $1 AND NOT claimed
             ORDER BY id DESC LIMIT 50)",
        d.deployment
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Accepted delivery ids are kept for 30 days (GitHub redelivers for a few days at most).
#[tracing::instrument(skip_all)]
pub async fn forget_old(db: impl PgExecutor<'_>, deployment: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM webhook_deliveries WHERE deployment_id = $1 AND received_at < now() - interval '30 days'",
        deployment
    )
    .execute(db)
    .await
    .map(|_| ())
}

#[tracing::instrument(skip_all)]
pub async fn recent(
    db: impl PgExecutor<'_>,
    deployment: Uuid,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as!(
        DeliveryRow,
        "SELECT id, source, delivery_id, event, outcome, detail, commit_sha, release_id, repeats, received_at
         FROM webhook_deliveries WHERE deployment_id = $1 ORDER BY id DESC LIMIT $2",
        deployment,
        limit
    )
    .fetch_all(db)
    .await
}
