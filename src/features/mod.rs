pub mod admin;
pub mod auth;
pub mod deployments;
pub mod platform;
