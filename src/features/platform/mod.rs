//! The platform's own state: what `/health` reports and the home page shows.

pub mod api;
pub mod components;
pub mod types;
