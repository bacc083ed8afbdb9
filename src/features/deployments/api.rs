//! Server functions for the deployments pages: each one line into `server::deploy::ui`.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::types::{
    CreateDeploymentRequest, Deployment, Release, SubdomainAvailability, UpdateDeploymentRequest,
};
use crate::error::AppError;

#[server(prefix = "/rpc", endpoint = "deployments_list")]
pub async fn list_deployments() -> Result<Vec<Deployment>, AppError> {
    crate::server::deploy::ui::list().await
}

#[server(prefix = "/rpc", endpoint = "deployments_get")]
pub async fn get_deployment(id: String) -> Result<Deployment, AppError> {
    crate::server::deploy::ui::get(id).await
}

#[server(prefix = "/rpc", endpoint = "deployments_releases")]
pub async fn list_releases(id: String) -> Result<Vec<Release>, AppError> {
    crate::server::deploy::ui::releases(id).await
}

#[server(prefix = "/rpc", endpoint = "deployments_create", input = Json)]
pub async fn create_deployment(request: CreateDeploymentRequest) -> Result<Deployment, AppError> {
    crate::server::deploy::ui::create(request).await
}

#[server(prefix = "/rpc", endpoint = "deployments_update", input = Json)]
pub async fn update_deployment(
    id: String,
    change: UpdateDeploymentRequest,
) -> Result<Deployment, AppError> {
    crate::server::deploy::ui::update(id, change).await
}

/// Sets (`Some`) or removes (`None`) variables, which redeploys.
#[server(prefix = "/rpc", endpoint = "deployments_set_env", input = Json)]
pub async fn set_env(
    id: String,
    env: BTreeMap<String, Option<String>>,
) -> Result<Deployment, AppError> {
    crate::server::deploy::ui::set_env(id, env).await
}

#[server(prefix = "/rpc", endpoint = "deployments_redeploy")]
pub async fn redeploy(id: String) -> Result<Deployment, AppError> {
    crate::server::deploy::ui::redeploy(id).await
}

#[server(prefix = "/rpc", endpoint = "deployments_rollback")]
pub async fn rollback(id: String, release_id: String) -> Result<Deployment, AppError> {
    crate::server::deploy::ui::rollback(id, release_id).await
}

/// `action`: `stop`, `start` or `restart`.
#[server(prefix = "/rpc", endpoint = "deployments_power")]
pub async fn power(id: String, action: String) -> Result<Deployment, AppError> {
    crate::server::deploy::ui::power(id, action).await
}

#[server(prefix = "/rpc", endpoint = "deployments_delete")]
pub async fn delete_deployment(id: String) -> Result<(), AppError> {
    crate::server::deploy::ui::delete(id).await
}

#[server(prefix = "/rpc", endpoint = "deployments_subdomain")]
pub async fn check_subdomain(name: String) -> Result<SubdomainAvailability, AppError> {
    crate::server::deploy::ui::subdomain(name).await
}

#[server(prefix = "/rpc", endpoint = "deployments_url_for")]
pub async fn url_for(subdomain: String) -> Result<String, AppError> {
    crate::server::deploy::ui::url_for(subdomain).await
}

/// One variable's value, for its owner; audited.
#[server(prefix = "/rpc", endpoint = "deployments_reveal_env")]
pub async fn reveal_env(id: String, key: String) -> Result<String, AppError> {
    crate::server::deploy::ui::reveal_env(id, key).await
}

#[server(prefix = "/rpc", endpoint = "deployments_webhook")]
pub async fn get_webhook(id: String) -> Result<super::types::WebhookInfo, AppError> {
    crate::server::deploy::ui::webhook(id).await
}

/// Turns the webhook on, or rotates its secret (shown this once).
#[server(prefix = "/rpc", endpoint = "deployments_enable_webhook")]
pub async fn enable_webhook(id: String) -> Result<super::types::WebhookSecret, AppError> {
    crate::server::deploy::ui::enable_webhook(id).await
}

#[server(prefix = "/rpc", endpoint = "deployments_disable_webhook")]
pub async fn disable_webhook(id: String) -> Result<(), AppError> {
    crate::server::deploy::ui::disable_webhook(id).await
}

#[server(prefix = "/rpc", endpoint = "deployments_webhook_deliveries")]
pub async fn webhook_deliveries(
    id: String,
) -> Result<Vec<super::types::WebhookDelivery>, AppError> {
    crate::server::deploy::ui::webhook_deliveries(id).await
}
