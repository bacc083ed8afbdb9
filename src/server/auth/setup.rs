//! The first-run setup token. On an empty database anyone who reaches the server could
//! otherwise claim the admin account (peers hand it to the first visitor); only the holder
//! of this token, printed to the console and written to `DATA_DIR/setup-token`, can.

use std::{io::Write, os::unix::fs::OpenOptionsExt, path::PathBuf};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::Value;
use sqlx::PgPool;
use subtle::ConstantTimeEq;

use crate::server::db;

/// Settings key holding the SHA-256 of the live token (never the token itself).
pub const SETTING: &str = "setup_token_sha256";

pub fn token_file(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("setup-token")
}

/// With no account yet, issues a fresh token (replacing any earlier one) and returns it for
/// the operator; with accounts, removes any leftover token file and returns `None`.
pub async fn ensure(db: &PgPool, data_dir: &std::path::Path) -> Result<Option<String>, SetupError> {
    let file = token_file(data_dir);
    if db::users::any_exist(db).await? {
        let _ = std::fs::remove_file(&file);
        return Ok(None);
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| SetupError::Random(e.to_string()))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    db::settings::put(db, SETTING, Value::String(digest(&token))).await?;
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

/// Whether `token` is the one whose digest is stored, compared in constant time.
pub fn matches(stored: &Value, token: &str) -> bool {
    stored
        .as_str()
        .is_some_and(|hex| hex.as_bytes().ct_eq(digest(token.trim()).as_bytes()).into())
}

/// Removes the token file once the token has been used.
pub fn forget(data_dir: &std::path::Path) {
    let _ = std::fs::remove_file(token_file(data_dir));
}

fn digest(token: &str) -> String {
    super::sha256_hex(token)
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("cannot write {0}: {1} (DATA_DIR)")]
    File(String, #[source] std::io::Error),
}
