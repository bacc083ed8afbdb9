//! The platform's own state: what `/health` reports and the home page shows.

pub mod api;
pub mod api_docs;
pub mod components;
pub mod types;
