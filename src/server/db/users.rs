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
    /// `None` for an account made through a sign-in provider.
    pub password_hash: Option<&'a str>,
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

/// One page of accounts whose username, email or display name contains `query`.
#[tracing::instrument(skip_all)]
pub async fn search(
    db: impl PgExecutor<'_>,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    let pattern = format!(
        "%{}%",
        query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = sqlx::query!(
        r#"SELECT id, username, email, display_name, password_hash, role, disabled_at, created_at,
                  count(*) OVER () AS "total!"
           FROM users
           WHERE username ILIKE $1 OR email ILIKE $1 OR display_name ILIKE $1
           ORDER BY lower(username)
           LIMIT $2 OFFSET $3"#,
        pattern,
        limit,
        offset
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |r| r.total);
    let users = rows
        .into_iter()
        .map(|r| UserRow {
            id: r.id,
            username: r.username,
            email: r.email,
            display_name: r.display_name,
            password_hash: r.password_hash,
            role: r.role,
            disabled_at: r.disabled_at,
            created_at: r.created_at,
        })
        .collect();
    Ok((users, total))
}

/// Locks every enabled admin row and returns their ids: the last-admin guard runs on this
/// inside its transaction, so two admins cannot demote each other at the same moment.
#[tracing::instrument(skip_all)]
pub async fn lock_active_admins(db: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE"
    )
    .fetch_all(db)
    .await
}

pub struct Changes<'a> {
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub role: Option<&'a str>,
    /// `Some(true)` disables, `Some(false)` enables.
    pub disabled: Option<bool>,
}

#[tracing::instrument(skip_all)]
pub async fn update(
    db: &mut PgConnection,
    id: Uuid,
    changes: Changes<'_>,
) -> Result<Option<UserRow>, InsertError> {
    sqlx::query_as!(
        UserRow,
        r#"UPDATE users SET
               display_name = COALESCE($2, display_name),
               email = COALESCE($3, email),
               role = COALESCE($4, role),
               disabled_at = CASE WHEN $5::bool IS NULL THEN disabled_at
                                  WHEN $5 THEN COALESCE(disabled_at, now())
                                  ELSE NULL END,
               updated_at = now()
           WHERE id = $1
           RETURNING id, username, email, display_name, password_hash, role, disabled_at, created_at"#,
        id,
        changes.display_name,
        changes.email,
        changes.role,
        changes.disabled,
    )
    .fetch_optional(db)
    .await
    .map_err(|e| match e.as_database_error().and_then(|d| d.constraint()) {
        Some("users_email_key") => InsertError::EmailTaken,
        _ => InsertError::Db(e),
    })
}

#[tracing::instrument(skip_all)]
pub async fn delete(db: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM users WHERE id = $1", id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

#[tracing::instrument(skip_all)]
pub async fn username_exists(db: impl PgExecutor<'_>, username: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1)) AS "exists!""#,
        username
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn email_exists(db: impl PgExecutor<'_>, email: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1)) AS "exists!""#,
        email
    )
    .fetch_one(db)
    .await
}

/// The account row locked until the transaction ends: changes to how someone signs in take
/// this lock, so two of them cannot together leave the account without a way in.
#[tracing::instrument(skip_all)]
pub async fn lock(db: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, username, email, display_name, password_hash, role, disabled_at, created_at
           FROM users WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(db)
    .await
}
