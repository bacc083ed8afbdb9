//! Everything that only runs on the server. Compiled with the `ssr` feature alone, so none of
//! it (nor the crates it uses) can reach the WASM bundle.

pub mod auth;
pub mod config;
pub mod context;
pub mod crypto;
pub mod db;
pub mod deploy;
pub mod discord;
pub mod docker;
pub mod error;
pub mod health;
pub mod http;
pub mod live;
pub mod nginx;
pub mod redis;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use startup::{main, Application};
pub use state::AppState;
