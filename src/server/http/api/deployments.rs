//! `/api/v1/deployments`, `/api/v1/releases`, `/api/v1/subdomains`, `/api/v1/ports`.

use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::{ApiJson, Caller};
use crate::{
    error::AppError,
    features::deployments::types::{
        CreateDeploymentRequest, Deployment, EnvValue, PortAllocation, Release, RoutingInfo,
        SubdomainAvailability, UpdateDeploymentRequest, WebhookDelivery, WebhookInfo,
        WebhookSecret,
    },
    server::{
        auth::{admin::require_admin, service::Client},
        deploy::{
            service::{self, Power},
            webhooks,
        },
        AppState,
    },
};

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    all: bool,
}

/// `POST /api/v1/deployments` → 202: the deployment is queued.
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    ApiJson(request): ApiJson<CreateDeploymentRequest>,
) -> Result<(StatusCode, Json<Deployment>), AppError> {
    let created = service::create(&state, &user, &client, request).await?;
    Ok((StatusCode::ACCEPTED, Json(created)))
}

/// `GET /api/v1/deployments[?all=true]`
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<Deployment>>, AppError> {
    service::list(&state, &user, q.all).await.map(Json)
}

pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, AppError> {
    service::get(&state, &user, &id).await.map(Json)
}

pub async fn update(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateDeploymentRequest>,
) -> Result<Json<Deployment>, AppError> {
    service::update(&state, &user, &client, &id, request)
        .await
        .map(Json)
}

/// `DELETE /api/v1/deployments/{id}` → 202; removal finishes in the background.
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    service::delete(&state, &user, &client, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn redeploy(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Deployment>), AppError> {
    let deployment = service::redeploy(&state, &user, &client, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(deployment)))
}

async fn power(
    state: AppState,
    user: Caller,
    client: Client,
    id: String,
    action: Power,
) -> Result<Json<Deployment>, AppError> {
    service::power(&state, &user.0, &client, &id, action)
        .await
        .map(Json)
}

pub async fn stop(
    State(state): State<AppState>,
    user: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, AppError> {
    power(state, user, client, id, Power::Stop).await
}

pub async fn start(
    State(state): State<AppState>,
    user: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, AppError> {
    power(state, user, client, id, Power::Start).await
}

pub async fn restart(
    State(state): State<AppState>,
    user: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, AppError> {
    power(state, user, client, id, Power::Restart).await
}

#[derive(Deserialize)]
pub struct RollbackRequest {
    release_id: String,
}

/// `POST /api/v1/deployments/{id}/rollback {release_id}` → 202.
pub async fn rollback(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RollbackRequest>,
) -> Result<(StatusCode, Json<Deployment>), AppError> {
    let deployment = service::rollback(&state, &user, &client, &id, &request.release_id).await?;
    Ok((StatusCode::ACCEPTED, Json(deployment)))
}

pub async fn routing(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<RoutingInfo>, AppError> {
    service::routing(&state, &user, &id).await.map(Json)
}

pub async fn releases(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<Release>>, AppError> {
    service::releases(&state, &user, &id).await.map(Json)
}

#[derive(Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    after: i32,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /api/v1/releases/{id}/log[?after=&limit=]` → JSON lines `{seq, ts, stream, line}`.
pub async fn release_log(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Result<Response, AppError> {
    let lines =
        service::release_log(&state, &user, &id, q.after, q.limit.unwrap_or(10_000)).await?;
    let mut body = String::new();
    for line in &lines {
        body.push_str(&serde_json::to_string(line).unwrap_or_default());
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

pub async fn subdomain(
    State(state): State<AppState>,
    Caller(_user): Caller,
    Path(name): Path<String>,
) -> Result<Json<SubdomainAvailability>, AppError> {
    service::subdomain_availability(&state, &name)
        .await
        .map(Json)
}

pub async fn ports(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<PortAllocation>>, AppError> {
    let admin = require_admin(user)?;
    service::port_registry(&state, &admin).await.map(Json)
}

/// `GET /api/v1/deployments/{id}/env/{key}` → `{key, value}`; audited.
pub async fn reveal_env(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path((id, key)): Path<(String, String)>,
) -> Result<Json<EnvValue>, AppError> {
    service::reveal_env(&state, &user, &client, &id, &key)
        .await
        .map(Json)
}

/// `GET /api/v1/deployments/{id}/webhook`.
pub async fn webhook(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookInfo>, AppError> {
    webhooks::get(&state, &user, &id).await.map(Json)
}

/// `POST /api/v1/deployments/{id}/webhook` → 201: turns it on or rotates the secret, shown once.
pub async fn enable_webhook(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WebhookSecret>), AppError> {
    let secret = webhooks::enable(&state, &user, &client, &id).await?;
    Ok((StatusCode::CREATED, Json(secret)))
}

/// `DELETE /api/v1/deployments/{id}/webhook` → 204: deliveries are refused from now on.
pub async fn disable_webhook(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    webhooks::disable(&state, &user, &client, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/deployments/{id}/webhook/deliveries`: the newest 50, newest first.
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<WebhookDelivery>>, AppError> {
    webhooks::deliveries(&state, &user, &id).await.map(Json)
}
