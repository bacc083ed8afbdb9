//! The `user_identities` table: provider accounts linked to Slipway accounts, with their
//! provider tokens sealed.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct IdentityRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub granted_scopes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// What the provider said about the person, refreshed at every sign-in.
pub struct Profile<'a> {
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub display_name: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
}

#[tracing::instrument(skip_all)]
pub async fn find(
    db: impl PgExecutor<'_>,
    provider: &str,
    subject: &str,
) -> Result<Option<IdentityRow>, sqlx::Error> {
    sqlx::query_as!(
        IdentityRow,
        "SELECT id, user_id, provider, subject, email, email_verified, display_name, avatar_url,
                access_token, refresh_token, token_expires_at, granted_scopes, created_at,
                last_login_at
         FROM user_identities WHERE provider = $1 AND subject = $2",
        provider,
        subject
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn of_user(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<IdentityRow>, sqlx::Error> {
    sqlx::query_as!(
        IdentityRow,
        "SELECT id, user_id, provider, subject, email, email_verified, display_name, avatar_url,
                access_token, refresh_token, token_expires_at, granted_scopes, created_at,
                last_login_at
         FROM user_identities WHERE user_id = $1 ORDER BY created_at",
        user_id
    )
    .fetch_all(db)
    .await
}

/// The account's identity at one provider, if linked.
#[tracing::instrument(skip_all)]
pub async fn of_user_at(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    provider: &str,
) -> Result<Option<IdentityRow>, sqlx::Error> {
    sqlx::query_as!(
        IdentityRow,
        "SELECT id, user_id, provider, subject, email, email_verified, display_name, avatar_url,
                access_token, refresh_token, token_expires_at, granted_scopes, created_at,
                last_login_at
         FROM user_identities WHERE user_id = $1 AND provider = $2",
        user_id,
        provider
    )
    .fetch_optional(db)
    .await
}

/// The identity locked for the rest of the transaction (a token refresh holds it, so two
/// refreshes never spend one refresh token).
#[tracing::instrument(skip_all)]
pub async fn lock(db: &mut PgConnection, id: Uuid) -> Result<Option<IdentityRow>, sqlx::Error> {
    sqlx::query_as!(
        IdentityRow,
        "SELECT id, user_id, provider, subject, email, email_verified, display_name, avatar_url,
                access_token, refresh_token, token_expires_at, granted_scopes, created_at,
                last_login_at
         FROM user_identities WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn of_provider(
    db: impl PgExecutor<'_>,
    provider: &str,
) -> Result<Vec<IdentityRow>, sqlx::Error> {
    sqlx::query_as!(
        IdentityRow,
        "SELECT id, user_id, provider, subject, email, email_verified, display_name, avatar_url,
                access_token, refresh_token, token_expires_at, granted_scopes, created_at,
                last_login_at
         FROM user_identities WHERE provider = $1 ORDER BY created_at",
        provider
    )
    .fetch_all(db)
    .await
}

/// Links a new identity. The id is chosen by the caller, because the sealed tokens are bound
/// to it.
#[tracing::instrument(skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    user_id: Uuid,
    provider: &str,
    subject: &str,
    profile: &Profile<'_>,
) -> Result<(), LinkError> {
    sqlx::query!(
        "INSERT INTO user_identities (id, user_id, provider, subject, email, email_verified,
             display_name, avatar_url, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())",
        id,
        user_id,
        provider,
        subject,
        profile.email,
        profile.email_verified,
        profile.display_name,
        profile.avatar_url,
    )
    .execute(db)
    .await
    .map(|_| ())
    .map_err(
        |e| match e.as_database_error().and_then(|d| d.constraint()) {
            Some("user_identities_provider_subject_key") => LinkError::IdentityTaken,
            Some("user_identities_user_id_provider_key") => LinkError::AlreadyLinked,
            _ => LinkError::Db(e),
        },
    )
}

#[derive(Debug)]
pub enum LinkError {
    /// This provider account belongs to another Slipway account.
    IdentityTaken,
    /// The account already has an identity at this provider.
    AlreadyLinked,
    Db(sqlx::Error),
}

#[tracing::instrument(skip_all)]
pub async fn record_sign_in(
    db: impl PgExecutor<'_>,
    id: Uuid,
    profile: &Profile<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE user_identities SET email = $2, email_verified = $3, display_name = $4,
             avatar_url = $5, last_login_at = now()
         WHERE id = $1",
        id,
        profile.email,
        profile.email_verified,
        profile.display_name,
        profile.avatar_url,
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Stores sealed tokens. A refresh token the provider did not repeat is kept.
#[tracing::instrument(skip_all)]
pub async fn store_tokens(
    db: impl PgExecutor<'_>,
    id: Uuid,
    access_token: &[u8],
    refresh_token: Option<&[u8]>,
    expires_at: Option<DateTime<Utc>>,
    scopes: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE user_identities SET access_token = $2,
             refresh_token = COALESCE($3, refresh_token), token_expires_at = $4,
             granted_scopes = COALESCE($5, granted_scopes)
         WHERE id = $1",
        id,
        access_token,
        refresh_token,
        expires_at,
        scopes,
    )
    .execute(db)
    .await
    .map(|_| ())
}

#[tracing::instrument(skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM user_identities WHERE id = $1", id)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Linked accounts per provider, for the admin list.
#[tracing::instrument(skip_all)]
pub async fn count_by_provider(db: impl PgExecutor<'_>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT provider, count(*) AS "count!" FROM user_identities GROUP BY provider"#
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.provider, r.count))
    .collect())
}
