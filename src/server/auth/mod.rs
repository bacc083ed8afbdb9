//! Accounts and sessions: passwords, the session cookie, the first-run setup token and the
//! service functions both the REST API and the server functions call.

pub mod password;
pub mod service;
pub mod session;
pub mod session_store;
pub mod sessions;
pub mod setup;
pub mod throttle;
