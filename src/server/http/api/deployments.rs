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
#[utoipa::path(
    post,
    path = "/deployments",
    tag = "deployments",
    summary = "Create a deployment: it is queued and built in the background",
    request_body = CreateDeploymentRequest,
    responses((status = 202, description = "Queued", body = Deployment), (status = 409, description = "The subdomain is taken", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid (the repository is checked with ls-remote)", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/deployments",
    tag = "deployments",
    summary = "My deployments, or everyone's (`all=true`, admins)",
    params(("all" = Option<bool>, Query, description = "Everyone's (admins only)")),
    responses((status = 200, description = "Deployments", body = Vec<Deployment>), (status = 403, description = "Only admins list everyone's", body = crate::server::error::ErrorBody)),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<Deployment>>, AppError> {
    service::list(&state, &user, q.all).await.map(Json)
}

#[utoipa::path(
    get,
    path = "/deployments/{id}",
    tag = "deployments",
    summary = "One deployment",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, description = "The deployment", body = Deployment), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody)),
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, AppError> {
    service::get(&state, &user, &id).await.map(Json)
}

#[utoipa::path(
    patch,
    path = "/deployments/{id}",
    tag = "deployments",
    summary = "Change settings or environment; a redeploy follows",
    params(("id" = String, Path, description = "The deployment's id")),
    request_body = UpdateDeploymentRequest,
    responses((status = 200, description = "The deployment", body = Deployment), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody), (status = 409, description = "It is being deleted", body = crate::server::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    delete,
    path = "/deployments/{id}",
    tag = "deployments",
    summary = "Delete a deployment and everything it has, in the background",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 202, description = "Deleting"), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody)),
)]
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    service::delete(&state, &user, &client, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(
    post,
    path = "/deployments/{id}/redeploy",
    tag = "deployments",
    summary = "Build and release the branch's newest commit",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 202, description = "Queued", body = Deployment), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody), (status = 409, description = "It is being deleted", body = crate::server::error::ErrorBody)),
)]
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

#[utoipa::path(
    post,
    path = "/deployments/{id}/stop",
    tag = "deployments",
    summary = "Stop the live container",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, description = "Stopped", body = Deployment), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody), (status = 409, description = "Being deployed or deleted, or never live", body = crate::server::error::ErrorBody), (status = 503, description = "Docker is not reachable", body = crate::server::error::ErrorBody)),
)]
pub async fn stop(
    State(state): State<AppState>,
    user: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, AppError> {
    power(state, user, client, id, Power::Stop).await
}

#[utoipa::path(
    post,
    path = "/deployments/{id}/start",
    tag = "deployments",
    summary = "Start the live release again",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, description = "Running", body = Deployment), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody), (status = 409, description = "Being deployed or deleted, or never live", body = crate::server::error::ErrorBody), (status = 503, description = "Docker is not reachable", body = crate::server::error::ErrorBody)),
)]
pub async fn start(
    State(state): State<AppState>,
    user: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, AppError> {
    power(state, user, client, id, Power::Start).await
}

#[utoipa::path(
    post,
    path = "/deployments/{id}/restart",
    tag = "deployments",
    summary = "Restart the live container",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, description = "Running", body = Deployment), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody), (status = 409, description = "Being deployed or deleted, or never live", body = crate::server::error::ErrorBody), (status = 503, description = "Docker is not reachable", body = crate::server::error::ErrorBody)),
)]
pub async fn restart(
    State(state): State<AppState>,
    user: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, AppError> {
    power(state, user, client, id, Power::Restart).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RollbackRequest {
    release_id: String,
}

/// `POST /api/v1/deployments/{id}/rollback {release_id}` → 202.
#[utoipa::path(
    post,
    path = "/deployments/{id}/rollback",
    tag = "deployments",
    summary = "Run a kept release's image again, with its environment",
    params(("id" = String, Path, description = "The deployment's id")),
    request_body = RollbackRequest,
    responses((status = 202, description = "Queued", body = Deployment), (status = 404, description = "No such deployment or release", body = crate::server::error::ErrorBody), (status = 409, description = "It is being deleted, or the image was pruned", body = crate::server::error::ErrorBody), (status = 422, description = "release_id is invalid", body = crate::server::error::ErrorBody)),
)]
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

#[utoipa::path(
    get,
    path = "/deployments/{id}/routing",
    tag = "deployments",
    summary = "How the deployment is routed: nginx and Cloudflare",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, description = "Routing", body = RoutingInfo), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody)),
)]
pub async fn routing(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<RoutingInfo>, AppError> {
    service::routing(&state, &user, &id).await.map(Json)
}

#[utoipa::path(
    get,
    path = "/deployments/{id}/releases",
    tag = "deployments",
    summary = "The deployment's releases, newest first",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, description = "Releases", body = Vec<Release>), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/releases/{id}/log",
    tag = "deployments",
    summary = "A release's build log as JSON lines",
    params(("id" = String, Path, description = "The release's id"), ("after" = Option<i32>, Query, description = "Lines after this seq"), ("limit" = Option<i64>, Query, description = "At most this many lines")),
    responses((status = 200, description = "One JSON object per line: {seq, ts, stream, line}", body = String, content_type = "application/x-ndjson"), (status = 404, description = "No such release of mine", body = crate::server::error::ErrorBody)),
)]
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

#[utoipa::path(
    get,
    path = "/subdomains/{name}",
    tag = "deployments",
    summary = "Whether a subdomain is free, and its URL",
    params(("name" = String, Path, description = "The subdomain")),
    responses((status = 200, description = "Availability", body = SubdomainAvailability)),
)]
pub async fn subdomain(
    State(state): State<AppState>,
    Caller(_user): Caller,
    Path(name): Path<String>,
) -> Result<Json<SubdomainAvailability>, AppError> {
    service::subdomain_availability(&state, &name)
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = "/ports",
    tag = "deployments",
    summary = "The host-port registry",
    responses((status = 200, description = "Allocated ports", body = Vec<PortAllocation>), (status = 403, description = "Admins only", body = crate::server::error::ErrorBody)),
)]
pub async fn ports(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<PortAllocation>>, AppError> {
    let admin = require_admin(user)?;
    service::port_registry(&state, &admin).await.map(Json)
}

/// `GET /api/v1/deployments/{id}/env/{key}` → `{key, value}`; audited.
#[utoipa::path(
    get,
    path = "/deployments/{id}/env/{key}",
    tag = "deployments",
    summary = "Reveal one environment variable's value (audited)",
    params(("id" = String, Path, description = "The deployment's id"), ("key" = String, Path, description = "The variable")),
    responses((status = 200, description = "The value", body = EnvValue), (status = 404, description = "No such deployment or variable", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/deployments/{id}/webhook",
    tag = "webhooks",
    summary = "The deployment's push webhook (never its secret)",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, description = "The webhook", body = WebhookInfo), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody)),
)]
pub async fn webhook(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookInfo>, AppError> {
    webhooks::get(&state, &user, &id).await.map(Json)
}

/// `POST /api/v1/deployments/{id}/webhook` → 201: turns it on or rotates the secret, shown once.
#[utoipa::path(
    post,
    path = "/deployments/{id}/webhook",
    tag = "webhooks",
    summary = "Turn the webhook on, or rotate its secret: shown this once",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 201, description = "The webhook and its secret", body = WebhookSecret), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    delete,
    path = "/deployments/{id}/webhook",
    tag = "webhooks",
    summary = "Turn the webhook off",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 204, description = "Off"), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody)),
)]
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
#[utoipa::path(
    get,
    path = "/deployments/{id}/webhook/deliveries",
    tag = "webhooks",
    summary = "Recent deliveries and what came of each",
    params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, description = "Deliveries, newest first", body = Vec<WebhookDelivery>), (status = 404, description = "No such deployment of mine", body = crate::server::error::ErrorBody)),
)]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<WebhookDelivery>>, AppError> {
    webhooks::deliveries(&state, &user, &id).await.map(Json)
}
