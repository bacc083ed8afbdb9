use serde::{Deserialize, Serialize};

/// The body of `GET /health`, also shown on the home page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// `ok` when every check passed, `degraded` otherwise.
    pub status: HealthStatus,
    pub version: String,
    /// When the checks ran (RFC 3339, UTC, milliseconds).
    pub time: String,
    pub checks: Checks,
    /// Names of the failing checks, in the order of `checks`; empty when all are ok.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub down: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checks {
    pub postgres: Check,
    pub redis: Check,
    pub docker: Check,
    pub nginx: Check,
}

impl Checks {
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Check)> {
        [
            ("postgres", &self.postgres),
            ("redis", &self.redis),
            ("docker", &self.docker),
            ("nginx", &self.nginx),
        ]
        .into_iter()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub ok: bool,
    pub latency_ms: f64,
    /// Why the check failed, in words safe to show anyone (no addresses or credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the service reported about itself, such as a version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
