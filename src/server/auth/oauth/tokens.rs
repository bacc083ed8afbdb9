//! Provider tokens kept for later calls on a person's behalf (Discord role connections):
//! sealed at rest and bound to their identity row, refreshed under a row lock when they run
//! out, and revoked at the provider when the link goes.

use chrono::{Duration, Utc};
use oauth2::{basic::BasicClient, ClientId, ClientSecret, RefreshToken, TokenUrl};
use uuid::Uuid;

use super::{
    oidc::plain,
    profile::{auth_type_of, grant_of, token_error, Grant},
    providers::{self, Kind, Provider},
};
use crate::server::{
    db::{self, identities::IdentityRow},
    AppState,
};

fn access_context(identity: Uuid) -> String {
    format!("identity:{identity}:access_token")
}

fn refresh_context(identity: Uuid) -> String {
    format!("identity:{identity}:refresh_token")
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no identity of this provider is linked")]
    NotLinked,
    #[error("Slipway holds no usable token for this identity; link it again")]
    NoToken,
    /// The provider refused the refresh token: the person revoked the grant.
    #[error("the provider refused the stored grant ({0}); the person must link it again")]
    Refused(String),
    #[error("the provider could not be reached: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

/// Seals and stores the tokens of a grant on an identity.
pub async fn store(
    state: &AppState,
    db: impl sqlx::PgExecutor<'_>,
    identity: Uuid,
    grant: &Grant,
) -> Result<(), TokenError> {
    let access = state
        .cipher
        .seal(&access_context(identity), grant.access_token.as_bytes())
        .map_err(|e| TokenError::Internal(e.to_string()))?;
    let refresh = grant
        .refresh_token
        .as_ref()
        .map(|r| state.cipher.seal(&refresh_context(identity), r.as_bytes()))
        .transpose()
        .map_err(|e| TokenError::Internal(e.to_string()))?;
    db::identities::store_tokens(
        db,
        identity,
        &access,
        refresh.as_deref(),
        grant.expires_at,
        grant.scopes.as_deref(),
    )
    .await
    .map_err(|e| TokenError::Internal(e.to_string()))
}

/// A usable access token of `user`'s identity at `provider`, refreshed first when it runs
/// out within a minute. The refresh happens under the identity's row lock, so two callers
/// never spend one refresh token (providers that rotate them would revoke both).
pub async fn access_token(
    state: &AppState,
    user_id: Uuid,
    provider_slug: &str,
) -> Result<String, TokenError> {
    let internal = |e: sqlx::Error| TokenError::Internal(e.to_string());
    let identity = db::identities::of_user_at(&state.db, user_id, provider_slug)
        .await
        .map_err(internal)?
        .ok_or(TokenError::NotLinked)?;
    let mut tx = state.db.begin().await.map_err(internal)?;
    let identity = db::identities::lock(&mut tx, identity.id)
        .await
        .map_err(internal)?
        .ok_or(TokenError::NotLinked)?;
    let fresh = identity
        .token_expires_at
        .is_none_or(|at| at > Utc::now() + Duration::seconds(60));
    if fresh {
        return open_access(state, &identity);
    }
    let refresh = identity
        .refresh_token
        .as_deref()
        .ok_or(TokenError::NoToken)
        .and_then(|blob| {
            state
                .cipher
                .open_string(&refresh_context(identity.id), blob)
                .map_err(|e| TokenError::Internal(e.to_string()))
        })?;
    let provider = providers::load(state, provider_slug)
        .await
        .map_err(|e| TokenError::Internal(e.to_string()))?
        .ok_or(TokenError::NotLinked)?;
    let grant = refresh_grant(state, &provider, &refresh).await?;
    store(state, &mut *tx, identity.id, &grant).await?;
    tx.commit().await.map_err(internal)?;
    Ok(grant.access_token)
}

fn open_access(state: &AppState, identity: &IdentityRow) -> Result<String, TokenError> {
    let blob = identity
        .access_token
        .as_deref()
        .ok_or(TokenError::NoToken)?;
    state
        .cipher
        .open_string(&access_context(identity.id), blob)
        .map_err(|e| TokenError::Internal(e.to_string()))
}

/// The token endpoint and how the client authenticates there.
async fn token_endpoint(
    state: &AppState,
    provider: &Provider,
) -> Result<(String, oauth2::AuthType, Option<String>), TokenError> {
    if provider.kind.is_oidc() {
        let discovered = state
            .oauth
            .discover(provider, false)
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let token = discovered
            .metadata
            .token_endpoint()
            .map(|u| u.as_str().to_owned())
            .ok_or_else(|| TokenError::Unavailable("no token endpoint".into()))?;
        let post_only = discovered
            .metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|m| {
                use openidconnect::core::CoreClientAuthMethod as M;
                !m.contains(&M::ClientSecretBasic) && m.contains(&M::ClientSecretPost)
            });
        let auth = if post_only {
            oauth2::AuthType::RequestBody
        } else {
            oauth2::AuthType::BasicAuth
        };
        let revocation = provider
            .revocation_url
            .clone()
            .or_else(|| discovered.revocation_endpoint.clone());
        return Ok((token, auth, revocation));
    }
    let token = provider
        .token_url
        .clone()
        .ok_or_else(|| TokenError::Unavailable("no token endpoint".into()))?;
    Ok((
        token,
        auth_type_of(provider.kind),
        provider.revocation_url.clone(),
    ))
}

async fn refresh_grant(
    state: &AppState,
    provider: &Provider,
    refresh_token: &str,
) -> Result<Grant, TokenError> {
    let (token_url, auth_type, _) = token_endpoint(state, provider).await?;
    let client = BasicClient::new(ClientId::new(provider.client_id.clone()))
        .set_client_secret(ClientSecret::new(provider.client_secret.clone()))
        .set_token_uri(
            TokenUrl::new(token_url).map_err(|e| TokenError::Unavailable(e.to_string()))?,
        )
        .set_auth_type(auth_type);
    let token = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.to_owned()))
        .request_async(&state.oauth.http)
        .await
        .map_err(|e| {
            let refusal = token_error(&e);
            if refusal.code == "token_invalid" {
                TokenError::Refused(refusal.reason)
            } else {
                TokenError::Unavailable(refusal.reason)
            }
        })?;
    // Refresh answers carry no scope worth recording: the grant's scopes stay as they were.
    Ok(Grant {
        scopes: None,
        ..grant_of(&token)
    })
}

/// Revokes the grant behind an identity at its provider, as well as the provider allows:
/// RFC 7009 where it has an endpoint, GitHub's grant deletion for GitHub. Failures are logged
/// and do not stop the unlink: the tokens are deleted here either way.
pub async fn revoke(state: &AppState, provider: &Provider, identity: &IdentityRow) {
    let open = |blob: &Option<Vec<u8>>, context: String| {
        blob.as_deref()
            .and_then(|b| state.cipher.open_string(&context, b).ok())
    };
    let access = open(&identity.access_token, access_context(identity.id));
    let refresh = open(&identity.refresh_token, refresh_context(identity.id));
    if access.is_none() && refresh.is_none() {
        return;
    }
    let result = if provider.kind == Kind::Github {
        revoke_github(state, provider, access.as_deref()).await
    } else {
        revoke_rfc7009(state, provider, refresh, access).await
    };
    if let Err(e) = result {
        tracing::warn!(provider = %provider.slug, error = %e, "could not revoke a grant at its provider");
    }
}

async fn revoke_rfc7009(
    state: &AppState,
    provider: &Provider,
    refresh: Option<String>,
    access: Option<String>,
) -> Result<(), String> {
    let (_, auth_type, revocation) = token_endpoint(state, provider)
        .await
        .map_err(|e| e.to_string())?;
    let Some(revocation) = revocation else {
        return Ok(());
    };
    // Revoking the refresh token ends the whole grant at most providers. Sent by hand: the
    // oauth2 crate refuses a plain-http endpoint, which a provider on this machine may have.
    let (token, hint) = match (refresh, access) {
        (Some(r), _) => (r, "refresh_token"),
        (None, Some(a)) => (a, "access_token"),
        (None, None) => return Ok(()),
    };
    let mut form = vec![("token", token.as_str()), ("token_type_hint", hint)];
    let mut request = state.oauth.http.post(&revocation);
    request = match auth_type {
        oauth2::AuthType::RequestBody => {
            form.push(("client_id", &provider.client_id));
            form.push(("client_secret", &provider.client_secret));
            request
        }
        _ => request.basic_auth(
            form_urlencoded(&provider.client_id),
            Some(form_urlencoded(&provider.client_secret)),
        ),
    };
    let response = request.form(&form).send().await.map_err(|e| plain(&e))?;
    // RFC 7009 §2.2: 200 whether or not the token was still valid.
    match response.status().as_u16() {
        200 => Ok(()),
        status => Err(format!("the revocation endpoint answered {status}")),
    }
}

/// RFC 6749 §2.3.1: client credentials are form-urlencoded before Basic encoding.
fn form_urlencoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `DELETE /applications/{client_id}/grant` with the app's credentials: GitHub has no
/// RFC 7009 endpoint.
async fn revoke_github(
    state: &AppState,
    provider: &Provider,
    access: Option<&str>,
) -> Result<(), String> {
    let (Some(access), Some(user_url)) = (access, provider.userinfo_url.as_deref()) else {
        return Ok(());
    };
    let api = user_url.strip_suffix("/user").unwrap_or(user_url);
    let response = state
        .oauth
        .http
        .delete(format!("{api}/applications/{}/grant", provider.client_id))
        .basic_auth(&provider.client_id, Some(&provider.client_secret))
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .json(&serde_json::json!({ "access_token": access }))
        .send()
        .await
        .map_err(|e| plain(&e))?;
    match response.status().as_u16() {
        204 | 404 => Ok(()),
        status => Err(format!("GitHub answered {status}")),
    }
}
