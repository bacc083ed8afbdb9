//! The bridge from the deployments pages' server functions to the service functions the REST
//! API calls: authorization happens there, not here.

use std::collections::BTreeMap;

use super::service::{self, Power};
use crate::{
    error::AppError,
    features::deployments::types::{
        CreateDeploymentRequest, Deployment, Release, SubdomainAvailability,
        UpdateDeploymentRequest,
    },
    server::auth::{service as auth, ui::request},
};

pub async fn list() -> Result<Vec<Deployment>, AppError> {
    let (state, session, _) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    // Admins see every deployment, as the product promises; others their own.
    let all = service::is_admin(&user);
    service::list(&state, &user, all).await
}

pub async fn get(id: String) -> Result<Deployment, AppError> {
    let (state, session, _) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::get(&state, &user, &id).await
}

pub async fn releases(id: String) -> Result<Vec<Release>, AppError> {
    let (state, session, _) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::releases(&state, &user, &id).await
}

pub async fn create(request_body: CreateDeploymentRequest) -> Result<Deployment, AppError> {
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::create(&state, &user, &client, request_body).await
}

pub async fn update(id: String, change: UpdateDeploymentRequest) -> Result<Deployment, AppError> {
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::update(&state, &user, &client, &id, change).await
}

pub async fn set_env(
    id: String,
    env: BTreeMap<String, Option<String>>,
) -> Result<Deployment, AppError> {
    update(
        id,
        UpdateDeploymentRequest {
            env: Some(env),
            ..UpdateDeploymentRequest::default()
        },
    )
    .await
}

pub async fn redeploy(id: String) -> Result<Deployment, AppError> {
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::redeploy(&state, &user, &client, &id).await
}

pub async fn rollback(id: String, release_id: String) -> Result<Deployment, AppError> {
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::rollback(&state, &user, &client, &id, &release_id).await
}

pub async fn power(id: String, action: String) -> Result<Deployment, AppError> {
    let action = match action.as_str() {
        "stop" => Power::Stop,
        "start" => Power::Start,
        "restart" => Power::Restart,
        _ => return Err(AppError::field("action", "must be stop, start or restart")),
    };
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::power(&state, &user, &client, &id, action).await
}

pub async fn delete(id: String) -> Result<(), AppError> {
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::delete(&state, &user, &client, &id).await
}

pub async fn subdomain(name: String) -> Result<SubdomainAvailability, AppError> {
    let (state, session, _) = request().await?;
    auth::current_user(&state, &session).await?;
    service::subdomain_availability(&state, &name).await
}

/// `<subdomain>.<BASE_DOMAIN>` as a URL, for the form's preview.
pub async fn url_for(subdomain: String) -> Result<String, AppError> {
    let (state, session, _) = request().await?;
    auth::current_user(&state, &session).await?;
    Ok(service::public_url(&state.config, &subdomain))
}

pub async fn reveal_env(id: String, key: String) -> Result<String, AppError> {
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    service::reveal_env(&state, &user, &client, &id, &key)
        .await
        .map(|v| v.value)
}

pub async fn webhook(
    id: String,
) -> Result<crate::features::deployments::types::WebhookInfo, AppError> {
    let (state, session, _) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    super::webhooks::get(&state, &user, &id).await
}

pub async fn enable_webhook(
    id: String,
) -> Result<crate::features::deployments::types::WebhookSecret, AppError> {
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    super::webhooks::enable(&state, &user, &client, &id).await
}

pub async fn disable_webhook(id: String) -> Result<(), AppError> {
    let (state, session, client) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    super::webhooks::disable(&state, &user, &client, &id).await
}

pub async fn webhook_deliveries(
    id: String,
) -> Result<Vec<crate::features::deployments::types::WebhookDelivery>, AppError> {
    let (state, session, _) = request().await?;
    let user = auth::current_user(&state, &session).await?;
    super::webhooks::deliveries(&state, &user, &id).await
}
