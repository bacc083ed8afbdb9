//! The first-run setup token. On an empty database anyone who reaches the server could
//! otherwise claim the admin account (peers hand it to the first visitor); only the holder
//! of this token, printed to the console and written to `DATA_DIR/setup-token`, can.

use std::{io::Write, os::unix::fs::OpenOptionsExt, path::PathBuf};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::Value;
use sqlx::PgPool;
use subtle::ConstantTimeEq;

use crate::server::{config::BootstrapAdmin, db};

/// Settings key holding the SHA-256 of the live token (never the token itself).
pub const SETTING: &str = "setup_token_sha256";

pub fn token_file(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("setup-token")
}

/// With no account yet: creates the admin named by `ADMIN_EMAIL`/`ADMIN_PASSWORD` when set,
/// else issues a fresh setup token (replacing any earlier one) and returns it for the
/// operator. With accounts, removes any leftover token file and returns `None`.
pub async fn ensure(
    db: &PgPool,
    data_dir: &std::path::Path,
    admin: Option<&BootstrapAdmin>,
) -> Result<Option<String>, SetupError> {
    let file = token_file(data_dir);
    if db::users::any_exist(db).await? {
        let _ = std::fs::remove_file(&file);
        return Ok(None);
    }
    if let Some(admin) = admin {
        create_admin(db, admin).await?;
        let _ = std::fs::remove_file(&file);
        return Ok(None);
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| SetupError::Random(e.to_string()))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    db::settings::put(db, SETTING, Value::String(super::sha256_hex(&token))).await?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&file)
        .map_err(|e| SetupError::File(file.display().to_string(), e))?;
    writeln!(out, "{token}").map_err(|e| SetupError::File(file.display().to_string(), e))?;
    Ok(Some(token))
}

async fn create_admin(db: &PgPool, admin: &BootstrapAdmin) -> Result<(), SetupError> {
    if let Err(e) =
        super::service::validate_registration(&admin.username, &admin.email, &admin.password)
    {
        let why = match e {
            crate::error::AppError::Validation { fields, .. } => fields
                .into_iter()
                .map(|(field, problem)| format!("{} {problem}", bootstrap_var(&field)))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        return Err(SetupError::Admin(why));
    }
    let hash = super::password::hash(admin.password.clone())
        .await
        .map_err(|e| SetupError::Admin(e.to_string()))?;
    let mut conn = db.acquire().await?;
    let created = db::users::insert(
        &mut conn,
        db::users::NewUser {
            username: &admin.username,
            email: &admin.email,
            display_name: &admin.username,
            password_hash: Some(&hash),
            role: "admin",
        },
    )
    .await;
    match created {
        Ok(_) => {
            tracing::info!(username = %admin.username, "created the admin account from ADMIN_EMAIL")
        }
        // Another Slipway process created it a moment ago: the outcome wanted.
        Err(db::users::InsertError::UsernameTaken | db::users::InsertError::EmailTaken) => {}
        Err(db::users::InsertError::Db(e)) => return Err(SetupError::Db(e)),
    }
    db::settings::take(&mut *conn, SETTING).await?;
    Ok(())
}

/// The setting behind each registration field, for start-up errors.
fn bootstrap_var(field: &str) -> &'static str {
    match field {
        "username" => "ADMIN_USERNAME",
        "email" => "ADMIN_EMAIL",
        _ => "ADMIN_PASSWORD",
    }
}

/// Whether `token` is the one whose digest is stored, compared in constant time.
pub fn matches(stored: &Value, token: &str) -> bool {
    stored.as_str().is_some_and(|hex| {
        hex.as_bytes()
            .ct_eq(super::sha256_hex(token.trim()).as_bytes())
            .into()
    })
}

/// Removes the token file once the token has been used.
pub fn forget(data_dir: &std::path::Path) {
    let _ = std::fs::remove_file(token_file(data_dir));
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("cannot write {0}: {1} (DATA_DIR)")]
    File(String, #[source] std::io::Error),
    #[error("{0}")]
    Admin(String),
}
