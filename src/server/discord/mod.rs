//! Discord beyond sign-in: Linked Roles (role-connection metadata registered for the
//! application, each member's values pushed and kept current) and an HTTP interactions
//! endpoint with slash commands.

pub mod api;
pub mod interactions;
pub mod metadata;
pub mod roles;

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use tokio::sync::Notify;

/// The slug of the sign-in provider whose identities and tokens Discord features use.
pub const PROVIDER: &str = "discord";

/// How long the keys Discord has registered are reused before they are read again.
const REGISTERED_TTL: Duration = Duration::from_secs(60);

/// What the process keeps for Discord.
#[derive(Default)]
pub struct Discord {
    /// Wakes the role-connection pusher when a member's values may have changed.
    pub wake: Notify,
    registered: Mutex<Option<(Instant, Vec<String>)>>,
}

impl Discord {
    fn cached_keys(&self) -> Option<Vec<String>> {
        let cached = self.registered.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < REGISTERED_TTL)
            .map(|(_, keys)| keys.clone())
    }

    fn remember_keys(&self, keys: Vec<String>) {
        *self.registered.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), keys));
    }

    pub fn forget_keys(&self) {
        *self.registered.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
