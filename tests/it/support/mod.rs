//! Test support: a [`TestApp`] builder and private service instances for outage tests.

pub mod app;
pub mod cloudflare;
pub mod env;
pub mod fixtures;
pub mod oauth;
pub mod services;
pub mod sse;
pub mod wait;

pub use app::TestApp;
