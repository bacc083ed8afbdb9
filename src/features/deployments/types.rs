//! What the REST API and the UI exchange about deployments. Env values never appear here:
//! only their keys leave the server.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a deployment is. While a release is in the pipeline the deployment shows that
/// release's step; once one is live it is `running` (even if a later release failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    Queued,
    Cloning,
    Building,
    Starting,
    CheckingHealth,
    Running,
    Failed,
    Stopped,
    Deleting,
}

impl DeploymentState {
    pub const ALL: [DeploymentState; 9] = [
        Self::Queued,
        Self::Cloning,
        Self::Building,
        Self::Starting,
        Self::CheckingHealth,
        Self::Running,
        Self::Failed,
        Self::Stopped,
        Self::Deleting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Cloning => "cloning",
            Self::Building => "building",
            Self::Starting => "starting",
            Self::CheckingHealth => "checking_health",
            Self::Running => "running",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
            Self::Deleting => "deleting",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "cloning" => Self::Cloning,
            "building" => Self::Building,
            "starting" => Self::Starting,
            "checking_health" => Self::CheckingHealth,
            "running" => Self::Running,
            "failed" => Self::Failed,
            "stopped" => Self::Stopped,
            "deleting" => Self::Deleting,
            _ => return None,
        })
    }

    /// A release of this deployment is somewhere in the pipeline.
    pub fn is_in_progress(self) -> bool {
        matches!(
            self,
            Self::Queued | Self::Cloning | Self::Building | Self::Starting | Self::CheckingHealth
        )
    }
}

/// One attempt to deploy a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReleaseState {
    Queued,
    Cloning,
    Building,
    Starting,
    CheckingHealth,
    /// The live release.
    Running,
    Failed,
    /// Was live; a newer release replaced it.
    Superseded,
}

impl ReleaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Cloning => "cloning",
            Self::Building => "building",
            Self::Starting => "starting",
            Self::CheckingHealth => "checking_health",
            Self::Running => "running",
            Self::Failed => "failed",
            Self::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "cloning" => Self::Cloning,
            "building" => Self::Building,
            "starting" => Self::Starting,
            "checking_health" => Self::CheckingHealth,
            "running" => Self::Running,
            "failed" => Self::Failed,
            "superseded" => Self::Superseded,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Release {
    pub id: String,
    pub deployment_id: String,
    /// 1, 2, 3… per deployment.
    pub number: i32,
    /// What asked for it: `create`, `redeploy`, `update`.
    pub trigger: String,
    pub state: ReleaseState,
    pub commit_sha: Option<String>,
    pub commit_message: Option<String>,
    pub image: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// When the release entered each step (`cloning`, `building`… `running` or `failed`).
    #[serde(default)]
    pub steps: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Owner {
    pub id: String,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Deployment {
    pub id: String,
    pub name: String,
    pub repo_url: String,
    pub branch: String,
    pub subdomain: String,
    pub url: String,
    pub state: DeploymentState,
    /// The host port on 127.0.0.1 the container is published on.
    pub port: Option<u16>,
    /// The live release, if one ever went live.
    pub current_release: Option<Release>,
    /// The newest release, live or not (the one in the pipeline while deploying).
    pub latest_release: Option<Release>,
    /// Names only: values never leave the server.
    pub env_keys: Vec<String>,
    pub dockerfile: String,
    pub context: String,
    pub container_port: Option<u16>,
    pub health_path: Option<String>,
    pub memory_mb: u32,
    pub cpus: f64,
    pub has_access_token: bool,
    pub owner: Owner,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the public route (Cloudflare Tunnel rule or DNS record) is not in place; Slipway
    /// keeps retrying. The app may still answer through nginx meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_error: Option<String>,
}

/// `POST /api/v1/deployments`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDeploymentRequest {
    #[serde(default)]
    pub name: Option<String>,
    pub repo_url: String,
    #[serde(default)]
    pub branch: Option<String>,
    pub subdomain: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// For a private repository: a token with read access, stored encrypted.
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub dockerfile: Option<String>,
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub container_port: Option<u32>,
    #[serde(default)]
    pub health_path: Option<String>,
    #[serde(default)]
    pub memory_mb: Option<u32>,
    #[serde(default)]
    pub cpus: Option<f64>,
}

/// `PATCH /api/v1/deployments/{id}`: every field optional; a change that affects the build or
/// the container queues a new release.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateDeploymentRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    /// Merged into the current variables: a string sets a key, `null` removes it.
    #[serde(default)]
    pub env: Option<BTreeMap<String, Option<String>>>,
    /// A string sets the token, `""` removes it.
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub dockerfile: Option<String>,
    #[serde(default)]
    pub context: Option<String>,
    /// `0` goes back to detecting the port from the image.
    #[serde(default)]
    pub container_port: Option<u32>,
    /// `""` goes back to a TCP check.
    #[serde(default)]
    pub health_path: Option<String>,
    #[serde(default)]
    pub memory_mb: Option<u32>,
    #[serde(default)]
    pub cpus: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogLine {
    pub seq: i32,
    pub ts: String,
    /// `system` (Slipway's own step messages), `stdout` or `stderr`.
    pub stream: String,
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubdomainAvailability {
    pub available: bool,
    /// `invalid`, `reserved` or `taken` when not available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortAllocation {
    pub port: u16,
    pub deployment_id: String,
    pub subdomain: String,
    pub allocated_at: String,
}

/// `GET /api/v1/deployments/{id}/routing`: how the deployment is reached right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoutingInfo {
    pub host: String,
    pub url: String,
    pub vhost_path: String,
    pub vhost_present: bool,
    /// The host port the virtual host proxies to.
    pub upstream_port: Option<u16>,
    /// Whether Cloudflare Tunnel routing is configured for this installation.
    pub cloudflare: bool,
    /// The tunnel's ingress rule for the host exists (read from Cloudflare now).
    pub tunnel_rule_present: bool,
    /// The proxied CNAME for the host (read from Cloudflare now).
    pub dns_record_id: Option<String>,
    /// Cloudflare could not be asked, or routing there failed: the API's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudflare_error: Option<String>,
}

/// `GET /api/v1/events`, event `deployment`: a deployment the viewer can see changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentEvent {
    pub deployment_id: String,
    pub state: DeploymentState,
    /// The newest release (the one in the pipeline while deploying).
    pub release_id: Option<String>,
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The whole deployment as `GET /api/v1/deployments/{id}` shows it now.
    pub deployment: Deployment,
}

/// `GET /api/v1/events`, event `deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentDeleted {
    pub deployment_id: String,
}

/// A line of a runtime log stream (`kind=runtime`); its SSE id is `ts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeLine {
    /// Docker's timestamp, RFC 3339 with nanoseconds.
    pub ts: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    pub line: String,
}

/// `GET /api/v1/deployments/{id}/env/{key}`: a value its owner asked to see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvValue {
    pub key: String,
    pub value: String,
}

/// A deployment's push webhook, as its page shows it: never the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    pub enabled: bool,
    /// Where GitHub sends pushes (`/hooks/github/{id}`), signed with the secret.
    pub url: String,
    /// Where other CI sends a deploy (`/hooks/deploy/{id}`) with an API token.
    pub generic_url: String,
    pub created_at: Option<String>,
    pub rotated_at: Option<String>,
}

/// The answer to turning a webhook on or rotating its secret: the only time it is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookSecret {
    #[serde(flatten)]
    pub info: WebhookInfo,
    pub secret: String,
}

/// One delivery to a deployment's webhook and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: i64,
    /// `github` or `generic`.
    pub source: String,
    /// `X-GitHub-Delivery`, or the generic call's `Idempotency-Key`.
    pub delivery_id: Option<String>,
    pub event: String,
    /// `queued` (a release), `ignored`, `refused` or `pong`.
    pub outcome: String,
    pub detail: String,
    pub commit_sha: Option<String>,
    pub release_id: Option<String>,
    /// How many times the same delivery came again (GitHub's "Redeliver", retries).
    pub repeats: i32,
    pub received_at: String,
}

/// `POST /hooks/deploy/{id}`: deploy the branch's head, or a commit of the branch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GenericDeployRequest {
    #[serde(default)]
    pub commit: Option<String>,
}
