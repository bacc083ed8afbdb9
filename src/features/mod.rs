pub mod auth;
pub mod platform;
