//! The `users` table.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A user row. Never serialized: what leaves the server is [`crate::features::auth::types::Me`].
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
}

/// Which unique value a new account collided with.
#[derive(Debug)]
pub enum InsertError {
    UsernameTaken,
    EmailTaken,
    Db(sqlx::Error),
}

#[tracing::instrument(skip_all)]
pub async fn insert(db: &mut PgConnection, new: NewUser<'_>) -> Result<UserRow, InsertError> {
    sqlx::query_as!(
        UserRow,
        r#"INSERT INTO users (username, email, display_name, password_hash, role)
           VALUES ($1, $2, $3, $4, $5)
           RETURNING id, username, email, display_name, password_hash, role, disabled_at, created_at"#,
        new.username,
        new.email,
        new.display_name,
        new.password_hash,
        new.role,
    )
    .fetch_one(db)
    .await
    .map_err(|e| match e.as_database_error().and_then(|d| d.constraint()) {
        Some("users_username_key") => InsertError::UsernameTaken,
        Some("users_email_key") => InsertError::EmailTaken,
        _ => InsertError::Db(e),
    })
}

/// Finds an account by username or email, whichever `login` is.
#[tracing::instrument(skip_all)]
pub async fn find_by_login(
    db: impl PgExecutor<'_>,
    login: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, username, email, display_name, password_hash, role, disabled_at, created_at
           FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1)
           LIMIT 1"#,
        login
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn find_by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, username, email, display_name, password_hash, role, disabled_at, created_at
           FROM users WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Whether any account exists: the first one is made through the setup token.
#[tracing::instrument(skip_all)]
pub async fn any_exist(db: impl PgExecutor<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "exists!""#)
        .fetch_one(db)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn record_login(
    db: impl PgExecutor<'_>,
    id: Uuid,
    new_hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET last_login_at = now(), password_hash = COALESCE($2, password_hash) WHERE id = $1",
        id,
        new_hash
    )
    .execute(db)
    .await
    .map(|_| ())
}

#[tracing::instrument(skip_all)]
pub async fn set_password(
    db: impl PgExecutor<'_>,
    id: Uuid,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        id,
        hash
    )
    .execute(db)
    .await
    .map(|_| ())
}
