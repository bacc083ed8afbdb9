//! Accounts and sessions: passwords, the session cookie, the first-run setup token and the
//! service functions both the REST API and the server functions call.

pub mod admin;
pub mod oauth;
pub mod password;
pub mod profile;
pub mod service;
pub mod session;
pub mod session_store;
pub mod sessions;
pub mod setup;
pub mod throttle;
pub mod tokens;
pub mod ui;

/// Lowercase hex SHA-256: how Slipway stores tokens, never the tokens themselves.
pub fn sha256_hex(value: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
