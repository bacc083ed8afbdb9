//! The Docker engine through bollard.

use bollard::{Docker, API_DEFAULT_VERSION};

use super::config::DockerHost;

/// Seconds bollard waits for any one engine request.
const REQUEST_TIMEOUT_SECS: u64 = 120;

/// A client for the configured engine. Nothing is sent yet: an engine that is down at
/// start-up shows in `/health` instead of stopping Slipway. Only a socket path that does not
/// exist at all fails here, since that is a wrong DOCKER_HOST rather than an outage.
pub fn connect(host: &DockerHost) -> Result<Docker, bollard::errors::Error> {
    match host {
        DockerHost::Unix(path) => Docker::connect_with_socket(
            &path.to_string_lossy(),
            REQUEST_TIMEOUT_SECS,
            API_DEFAULT_VERSION,
        ),
        DockerHost::Tcp(addr) => {
            Docker::connect_with_http(addr, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
        }
    }
}

/// Settles on the API version the engine speaks (Debian's engine 20.10 answers 1.41), so
/// versions we report are true. Falls back to the unnegotiated client when the engine is down.
pub async fn negotiate(docker: Docker) -> Docker {
    match docker.clone().negotiate_version().await {
        Ok(negotiated) => negotiated,
        Err(e) => {
            tracing::warn!(error = %e, "Docker engine not reachable at start-up; /health will report it");
            docker
        }
    }
}
