//! The `auth_providers` table: sign-in providers, their client secret sealed.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};

/// A provider row. The secret is still sealed; `server::auth::oauth::providers` opens it.
#[derive(Debug, Clone)]
pub struct ProviderRow {
    pub slug: String,
    pub kind: String,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: Vec<u8>,
    pub discovery_url: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub revocation_url: Option<String>,
    pub scopes: Vec<String>,
    pub field_map: Value,
    pub enabled: bool,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything a write sets (the whole row: updates read, change and write back).
pub struct ProviderWrite<'a> {
    pub slug: &'a str,
    pub kind: &'a str,
    pub display_name: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a [u8],
    pub discovery_url: Option<&'a str>,
    pub authorize_url: Option<&'a str>,
    pub token_url: Option<&'a str>,
    pub userinfo_url: Option<&'a str>,
    pub revocation_url: Option<&'a str>,
    pub scopes: &'a [String],
    pub field_map: &'a Value,
    pub enabled: bool,
    pub source: &'a str,
}

#[tracing::instrument(skip_all)]
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<ProviderRow>, sqlx::Error> {
    sqlx::query_as!(
        ProviderRow,
        "SELECT slug, kind, display_name, client_id, client_secret, discovery_url, authorize_url,
                token_url, userinfo_url, revocation_url, scopes, field_map, enabled, source,
                created_at, updated_at
         FROM auth_providers ORDER BY display_name, slug"
    )
    .fetch_all(db)
    .await
}

#[tracing::instrument(skip_all, fields(slug))]
pub async fn find(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<ProviderRow>, sqlx::Error> {
    sqlx::query_as!(
        ProviderRow,
        "SELECT slug, kind, display_name, client_id, client_secret, discovery_url, authorize_url,
                token_url, userinfo_url, revocation_url, scopes, field_map, enabled, source,
                created_at, updated_at
         FROM auth_providers WHERE slug = $1",
        slug
    )
    .fetch_optional(db)
    .await
}

/// The row, locked until the transaction ends.
#[tracing::instrument(skip_all, fields(slug))]
pub async fn lock(db: &mut PgConnection, slug: &str) -> Result<Option<ProviderRow>, sqlx::Error> {
    sqlx::query_as!(
        ProviderRow,
        "SELECT slug, kind, display_name, client_id, client_secret, discovery_url, authorize_url,
                token_url, userinfo_url, revocation_url, scopes, field_map, enabled, source,
                created_at, updated_at
         FROM auth_providers WHERE slug = $1 FOR UPDATE",
        slug
    )
    .fetch_optional(db)
    .await
}

/// Inserts a new provider; `Ok(false)` when the slug is taken.
#[tracing::instrument(skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, p: ProviderWrite<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO auth_providers (slug, kind, display_name, client_id, client_secret,
             discovery_url, authorize_url, token_url, userinfo_url, revocation_url, scopes,
             field_map, enabled, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (slug) DO NOTHING",
        p.slug,
        p.kind,
        p.display_name,
        p.client_id,
        p.client_secret,
        p.discovery_url,
        p.authorize_url,
        p.token_url,
        p.userinfo_url,
        p.revocation_url,
        p.scopes,
        p.field_map,
        p.enabled,
        p.source,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Writes every field of an existing provider (slug and kind never change).
#[tracing::instrument(skip_all)]
pub async fn update(db: impl PgExecutor<'_>, p: ProviderWrite<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE auth_providers SET display_name = $2, client_id = $3, client_secret = $4,
             discovery_url = $5, authorize_url = $6, token_url = $7, userinfo_url = $8,
             revocation_url = $9, scopes = $10, field_map = $11, enabled = $12, source = $13,
             updated_at = now()
         WHERE slug = $1",
        p.slug,
        p.display_name,
        p.client_id,
        p.client_secret,
        p.discovery_url,
        p.authorize_url,
        p.token_url,
        p.userinfo_url,
        p.revocation_url,
        p.scopes,
        p.field_map,
        p.enabled,
        p.source,
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Writes a provider from the environment: endpoints and credentials follow the settings,
/// while whether it is enabled stays the admin's choice.
#[tracing::instrument(skip_all)]
pub async fn upsert_from_env(
    db: impl PgExecutor<'_>,
    p: ProviderWrite<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO auth_providers (slug, kind, display_name, client_id, client_secret,
             discovery_url, authorize_url, token_url, userinfo_url, revocation_url, scopes,
             field_map, enabled, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, true, 'env')
         ON CONFLICT (slug) DO UPDATE SET kind = EXCLUDED.kind,
             client_id = EXCLUDED.client_id, client_secret = EXCLUDED.client_secret,
             discovery_url = EXCLUDED.discovery_url, authorize_url = EXCLUDED.authorize_url,
             token_url = EXCLUDED.token_url, userinfo_url = EXCLUDED.userinfo_url,
             revocation_url = EXCLUDED.revocation_url, scopes = EXCLUDED.scopes,
             field_map = EXCLUDED.field_map, source = 'env', updated_at = now()",
        p.slug,
        p.kind,
        p.display_name,
        p.client_id,
        p.client_secret,
        p.discovery_url,
        p.authorize_url,
        p.token_url,
        p.userinfo_url,
        p.revocation_url,
        p.scopes,
        p.field_map,
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Providers that came from the environment but whose settings are gone now: they become
/// the admins' to keep or delete, switched off.
#[tracing::instrument(skip_all)]
pub async fn release_from_env(
    db: impl PgExecutor<'_>,
    still_set: &[String],
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE auth_providers SET source = 'admin', enabled = false, updated_at = now()
         WHERE source = 'env' AND NOT (slug = ANY($1))",
        still_set
    )
    .execute(db)
    .await?
    .rows_affected())
}

#[tracing::instrument(skip_all, fields(slug))]
pub async fn delete(db: impl PgExecutor<'_>, slug: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM auth_providers WHERE slug = $1", slug)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}
