//! The Docker engine through bollard.

use bollard::{Docker, API_DEFAULT_VERSION};
use tokio::sync::RwLock;

use super::config::DockerHost;

/// Seconds bollard waits for any one engine request.
const REQUEST_TIMEOUT_SECS: u64 = 120;

/// The engine at `DOCKER_HOST`. The client is made on first use and kept once the engine has
/// answered, so an engine that is down (or whose socket does not exist yet) when Slipway
/// starts shows in `/health` and is picked up when it comes, without a restart.
pub struct Engine {
    host: DockerHost,
    client: RwLock<Option<Docker>>,
}

impl Engine {
    pub fn new(host: DockerHost) -> Self {
        Self {
            host,
            client: RwLock::new(None),
        }
    }

    /// A client that speaks the engine's API version (Debian's engine 20.10 answers 1.41),
    /// so versions we report are true.
    pub async fn client(&self) -> Result<Docker, bollard::errors::Error> {
        if let Some(client) = self.client.read().await.as_ref() {
            return Ok(client.clone());
        }
        let mut slot = self.client.write().await;
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let client = connect(&self.host)?.negotiate_version().await?;
        *slot = Some(client.clone());
        Ok(client)
    }
}

fn connect(host: &DockerHost) -> Result<Docker, bollard::errors::Error> {
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
