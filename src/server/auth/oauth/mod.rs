//! Sign-in through OAuth 2.0 and OpenID Connect providers (Google, GitHub, Discord, any OIDC
//! issuer, generic OAuth 2.0), linking provider accounts to Slipway accounts, and the provider
//! tokens Slipway keeps for later calls (Discord role connections).
//!
//! Held to RFC 9700: authorization code with PKCE (S256) for every kind, a 256-bit `state`
//! bound to the browser by a short-lived cookie and spent once, a `nonce` and full ID-token
//! checks for OpenID providers, one redirect URI per provider (so an answer cannot be replayed
//! against another), and an identity that is always (provider, subject), never an email.

pub mod flow;
pub mod identities;
mod oidc;
mod profile;
pub mod providers;
pub mod tokens;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

pub use oidc::{plain as plain_error, Discovered};

/// How long a provider's discovery document and keys are reused before they are read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(15 * 60);

/// What every flow shares: one HTTP client for providers, and discovery documents by slug.
pub struct OAuth {
    /// Never follows redirects (a provider's answer is read as it is, RFC 9700 §4.11) and gives
    /// up on a silent provider instead of holding a sign-in open.
    pub http: reqwest::Client,
    discovered: Mutex<HashMap<String, (Instant, Arc<Discovered>)>>,
}

impl OAuth {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(15))
                // GitHub's API refuses requests without a user agent.
                .user_agent(concat!("Slipway/", env!("CARGO_PKG_VERSION")))
                .build()?,
            discovered: Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self, slug: &str) -> Option<Arc<Discovered>> {
        let cache = self.discovered.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(slug)
            .filter(|(at, _)| at.elapsed() < DISCOVERY_TTL)
            .map(|(_, d)| d.clone())
    }

    fn remember(&self, slug: &str, discovered: Arc<Discovered>) {
        self.discovered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(slug.to_owned(), (Instant::now(), discovered));
    }

    /// Drops what is known about a provider, after an admin changed or removed it.
    pub fn forget(&self, slug: &str) {
        self.discovered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(slug);
    }
}
