//! Accounts and sessions: what the browser and API clients send and get back.

pub mod next;
pub mod types;
