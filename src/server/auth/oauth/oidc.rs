//! OpenID Connect: discovery (cached, with the issuer checked against the URL it came from)
//! and ID-token verification (signature, `iss`, `aud`, `exp`, `nonce`, `at_hash`).

use std::sync::Arc;

use openidconnect::{
    core::{CoreClient, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreProviderMetadata},
    AccessToken, ClaimsVerificationError, ClientId, ClientSecret, Nonce,
    SignatureVerificationError,
};

use super::{providers::Provider, OAuth};

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// A provider's discovery document with its signing keys.
pub struct Discovered {
    pub metadata: CoreProviderMetadata,
    /// RFC 7009 endpoint, which the core metadata type does not carry.
    pub revocation_endpoint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Invalid(String),
}

/// The discovery URL a provider was given, as the document's URL (an issuer is accepted too).
pub fn discovery_document_url(configured: &str) -> String {
    let trimmed = configured.trim_end_matches('/');
    if trimmed.ends_with(WELL_KNOWN) {
        trimmed.to_owned()
    } else {
        format!("{trimmed}{WELL_KNOWN}")
    }
}

impl OAuth {
    /// The provider's discovery document, from the cache unless it is stale or `fresh`.
    pub async fn discover(
        &self,
        provider: &Provider,
        fresh: bool,
    ) -> Result<Arc<Discovered>, OidcError> {
        if !fresh {
            if let Some(found) = self.cached(&provider.slug) {
                return Ok(found);
            }
        }
        let configured = provider
            .discovery_url
            .as_deref()
            .ok_or_else(|| OidcError::Invalid("no discovery URL is configured".into()))?;
        let url = discovery_document_url(configured);
        let body = self.get_json_bytes(&url).await?;
        let mut metadata: CoreProviderMetadata = serde_json::from_slice(&body).map_err(|e| {
            OidcError::Invalid(format!("the discovery document at {url} is not valid: {e}"))
        })?;
        // OpenID Connect Discovery §4.3: the issuer is exactly the URL the document was found
        // under. This is what stops one provider's document from speaking for another.
        let expected = &url[..url.len() - WELL_KNOWN.len()];
        let issuer = metadata.issuer().as_str();
        if issuer.trim_end_matches('/') != expected.trim_end_matches('/') {
            return Err(OidcError::Invalid(format!(
                "the discovery document names the issuer {issuer}, not {expected}"
            )));
        }
        #[derive(serde::Deserialize)]
        struct Extra {
            revocation_endpoint: Option<String>,
        }
        let extra: Extra = serde_json::from_slice(&body)
            .map_err(|e| OidcError::Invalid(format!("the discovery document is not valid: {e}")))?;
        let jwks_body = self.get_json_bytes(metadata.jwks_uri().as_str()).await?;
        let jwks: CoreJsonWebKeySet = serde_json::from_slice(&jwks_body).map_err(|e| {
            OidcError::Invalid(format!("the provider's signing keys are not valid: {e}"))
        })?;
        metadata = metadata.set_jwks(jwks);
        let discovered = Arc::new(Discovered {
            metadata,
            revocation_endpoint: extra.revocation_endpoint,
        });
        self.remember(&provider.slug, discovered.clone());
        Ok(discovered)
    }

    async fn get_json_bytes(&self, url: &str) -> Result<Vec<u8>, OidcError> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                OidcError::Unreachable(format!("{url} cannot be reached: {}", plain(&e)))
            })?;
        if !response.status().is_success() {
            return Err(OidcError::Unreachable(format!(
                "{url} answered {}",
                response.status()
            )));
        }
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| OidcError::Unreachable(format!("{url}: {}", plain(&e))))
    }

    /// Verifies an ID token from the token endpoint. A key id the cached keys do not know
    /// makes one fresh discovery: providers rotate keys.
    pub async fn verify_id_token(
        &self,
        provider: &Provider,
        id_token: &CoreIdToken,
        access_token: &AccessToken,
        nonce: &str,
    ) -> Result<CoreIdTokenClaims, IdTokenError> {
        let discovered = self
            .discover(provider, false)
            .await
            .map_err(IdTokenError::Discovery)?;
        match verify_with(provider, &discovered, id_token, access_token, nonce) {
            Err(IdTokenError::Refused("unknown_key")) => {
                let fresh = self
                    .discover(provider, true)
                    .await
                    .map_err(IdTokenError::Discovery)?;
                verify_with(provider, &fresh, id_token, access_token, nonce)
            }
            other => other,
        }
    }
}

#[derive(Debug)]
pub enum IdTokenError {
    Discovery(OidcError),
    /// Why the token was refused, as a short reason for the audit log.
    Refused(&'static str),
}

pub fn client(
    provider: &Provider,
    discovered: &Discovered,
) -> CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
> {
    CoreClient::from_provider_metadata(
        discovered.metadata.clone(),
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(provider.client_secret.clone())),
    )
}

fn verify_with(
    provider: &Provider,
    discovered: &Discovered,
    id_token: &CoreIdToken,
    access_token: &AccessToken,
    nonce: &str,
) -> Result<CoreIdTokenClaims, IdTokenError> {
    let client = client(provider, discovered);
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|e| {
            IdTokenError::Refused(match e {
                ClaimsVerificationError::Expired(_) => "expired",
                ClaimsVerificationError::InvalidAudience(_) => "wrong_audience",
                ClaimsVerificationError::InvalidIssuer(_) => "wrong_issuer",
                ClaimsVerificationError::InvalidNonce(_) => "wrong_nonce",
                ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                ) => "unknown_key",
                ClaimsVerificationError::SignatureVerification(_) => "bad_signature",
                _ => "invalid_claims",
            })
        })?
        .clone();
    // OpenID Connect Core §3.1.3.8: when the token names the access token's hash, it must match.
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(|_| IdTokenError::Refused("bad_signature"))?;
        let signing_key = id_token
            .signing_key(&verifier)
            .map_err(|_| IdTokenError::Refused("bad_signature"))?;
        let actual = openidconnect::AccessTokenHash::from_token(access_token, alg, signing_key)
            .map_err(|_| IdTokenError::Refused("invalid_claims"))?;
        if actual != *expected {
            return Err(IdTokenError::Refused("wrong_access_token_hash"));
        }
    }
    Ok(claims)
}

/// An error's message without the URL reqwest adds (which may carry a code or token).
pub fn plain(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused or failed"
    } else if e.is_decode() {
        "answer not understood"
    } else {
        "request failed"
    };
    kind.to_owned()
}
