//! The state every handler and server function reaches: settings and service clients.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    auth::{oauth::OAuth, session_store::RedisSessionStore},
    config::Config,
    crypto::Cipher,
    deploy::{cloudflare::Cloudflare, Deployer},
    docker::Engine,
    nginx::Nginx,
};

/// Cheap to clone: every field is a handle or an `Arc`.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    pub db: PgPool,
    pub redis: fred::clients::Pool,
    pub sessions: RedisSessionStore,
    pub docker: Arc<Engine>,
    pub nginx: Arc<Nginx>,
    pub metrics: PrometheusHandle,
    pub instance_id: Uuid,
    /// Seals env values and repository tokens at rest.
    pub cipher: Arc<Cipher>,
    pub deployer: Arc<Deployer>,
    /// Live fan-out of logs and events between processes.
    pub live: Arc<super::live::Hub>,
    /// Tunnel and DNS routing, when `CLOUDFLARE_*` is configured.
    pub cloudflare: Option<Arc<Cloudflare>>,
    /// Sign-in providers' HTTP client and discovery cache.
    pub oauth: Arc<OAuth>,
    /// Discord's role-connection pusher wake-up and registered metadata keys.
    pub discord: Arc<super::discord::Discord>,
    /// How browsers reach Slipway (`PUBLIC_URL`, else the address it listens on), without a
    /// trailing slash.
    pub public_url: Arc<str>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
