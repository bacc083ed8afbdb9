//! Trading an authorization code for tokens, and learning who signed in: from the verified
//! ID token for OpenID providers, from the provider's user API for the others.

use chrono::{DateTime, Utc};
use oauth2::{
    basic::BasicClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, TokenResponse, TokenUrl,
};
use serde_json::Value;

use super::{
    oidc::{self, IdTokenError},
    providers::{Kind, Provider},
    OAuth,
};

/// Who the provider says signed in.
#[derive(Debug, Clone, Default)]
pub struct ExternalProfile {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// A handle to start a username from (GitHub login, Discord username…).
    pub username_hint: Option<String>,
    pub avatar_url: Option<String>,
    /// When the person last authenticated at the provider (OpenID `auth_time`).
    pub auth_time: Option<DateTime<Utc>>,
}

/// The tokens a code was traded for.
pub struct Grant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Option<String>,
}

/// Why a provider's answer was not used: the code shown to the person, and a short reason for
/// the audit log (never a token or a provider's free text).
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub reason: String,
}

impl Refusal {
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            code: "provider_unavailable",
            reason: reason.into(),
        }
    }

    pub fn invalid(reason: impl Into<String>) -> Self {
        Self {
            code: "token_invalid",
            reason: reason.into(),
        }
    }
}

pub struct Exchange<'a> {
    pub code: &'a str,
    pub verifier: &'a str,
    pub nonce: Option<&'a str>,
    pub redirect_uri: &'a str,
}

pub(super) fn basic_client(
    provider: &Provider,
    authorize_url: &str,
    token_url: &str,
    redirect_uri: &str,
    auth_type: AuthType,
) -> Result<
    BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    Refusal,
> {
    Ok(BasicClient::new(ClientId::new(provider.client_id.clone()))
        .set_client_secret(ClientSecret::new(provider.client_secret.clone()))
        .set_auth_uri(
            AuthUrl::new(authorize_url.to_owned())
                .map_err(|_| Refusal::unavailable("bad authorize URL"))?,
        )
        .set_token_uri(
            TokenUrl::new(token_url.to_owned())
                .map_err(|_| Refusal::unavailable("bad token URL"))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned())
                .map_err(|_| Refusal::unavailable("bad redirect URI"))?,
        )
        .set_auth_type(auth_type))
}

/// GitHub takes the client's credentials in the form body; the others as RFC 6749 prefers.
pub(super) fn auth_type_of(kind: Kind) -> AuthType {
    match kind {
        Kind::Github => AuthType::RequestBody,
        _ => AuthType::BasicAuth,
    }
}

/// A token-endpoint failure as a reason: the error code a provider sent, or what went wrong
/// on the way. Bodies are never repeated: they may hold tokens.
pub(super) fn token_error<RE: std::error::Error, T: oauth2::ErrorResponse>(
    e: &RequestTokenError<RE, T>,
) -> Refusal {
    match e {
        RequestTokenError::ServerResponse(r) => Refusal::invalid(format!(
            "token endpoint refused: {}",
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| "error".into())
        )),
        RequestTokenError::Request(_) => Refusal::unavailable("token endpoint unreachable"),
        RequestTokenError::Parse(..) => {
            Refusal::unavailable("token endpoint answer not understood")
        }
        RequestTokenError::Other(_) => Refusal::unavailable("token endpoint failed"),
    }
}

pub(super) fn grant_of<T: TokenResponse>(token: &T) -> Grant {
    Grant {
        access_token: token.access_token().secret().clone(),
        refresh_token: token.refresh_token().map(|r| r.secret().clone()),
        expires_at: token
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() + d),
        scopes: token
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
    }
}

impl OAuth {
    /// Trades the code for tokens and returns who signed in.
    pub async fn complete(
        &self,
        provider: &Provider,
        exchange: Exchange<'_>,
    ) -> Result<(ExternalProfile, Grant), Refusal> {
        if provider.kind.is_oidc() {
            return self.complete_oidc(provider, exchange).await;
        }
        let (Some(authorize_url), Some(token_url)) = (&provider.authorize_url, &provider.token_url)
        else {
            return Err(Refusal::unavailable(
                "provider endpoints are not configured",
            ));
        };
        let client = basic_client(
            provider,
            authorize_url,
            token_url,
            exchange.redirect_uri,
            auth_type_of(provider.kind),
        )?;
        let token = client
            .exchange_code(AuthorizationCode::new(exchange.code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(exchange.verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(&e))?;
        let grant = grant_of(&token);
        let profile = match provider.kind {
            Kind::Github => self.github_profile(provider, &grant.access_token).await?,
            Kind::Discord => self.discord_profile(provider, &grant.access_token).await?,
            _ => self.mapped_profile(provider, &grant.access_token).await?,
        };
        Ok((profile, grant))
    }

    async fn complete_oidc(
        &self,
        provider: &Provider,
        exchange: Exchange<'_>,
    ) -> Result<(ExternalProfile, Grant), Refusal> {
        let discovered = self
            .discover(provider, false)
            .await
            .map_err(|e| Refusal::unavailable(e.to_string()))?;
        let client = oidc::client(provider, &discovered).set_redirect_uri(
            openidconnect::RedirectUrl::new(exchange.redirect_uri.to_owned())
                .map_err(|_| Refusal::unavailable("bad redirect URI"))?,
        );
        let client = client.set_auth_type(oidc_auth_type(&discovered));
        let token = client
            .exchange_code(openidconnect::AuthorizationCode::new(
                exchange.code.to_owned(),
            ))
            .map_err(|_| Refusal::unavailable("the provider has no token endpoint"))?
            .set_pkce_verifier(openidconnect::PkceCodeVerifier::new(
                exchange.verifier.to_owned(),
            ))
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(&e))?;
        let id_token = openidconnect::TokenResponse::id_token(&token)
            .ok_or_else(|| Refusal::invalid("no ID token in the token response"))?;
        let access_token = token.access_token().clone();
        let claims = self
            .verify_id_token(
                provider,
                id_token,
                &access_token,
                exchange.nonce.unwrap_or_default(),
            )
            .await
            .map_err(|e| match e {
                IdTokenError::Discovery(e) => Refusal::unavailable(e.to_string()),
                IdTokenError::Refused(reason) => Refusal::invalid(format!("id token: {reason}")),
            })?;
        let mut profile = ExternalProfile {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            username_hint: claims.preferred_username().map(|u| u.as_str().to_owned()),
            avatar_url: claims
                .picture()
                .and_then(|p| p.get(None))
                .map(|p| p.as_str().to_owned()),
            auth_time: claims.auth_time(),
        };
        // Some issuers keep the email out of the ID token: ask the user-info endpoint, which
        // must speak of the same subject.
        if profile.email.is_none() {
            if let Ok(request) =
                client.user_info(access_token.clone(), Some(claims.subject().clone()))
            {
                let info: Result<openidconnect::core::CoreUserInfoClaims, _> =
                    request.request_async(&self.http).await;
                if let Ok(info) = info {
                    profile.email = info.email().map(|e| e.as_str().to_owned());
                    profile.email_verified = info.email_verified().unwrap_or(false);
                }
            }
        }
        Ok((profile, grant_of(&token)))
    }

    async fn api_json(
        &self,
        url: &str,
        access_token: &str,
        github: bool,
    ) -> Result<Value, Refusal> {
        let mut request = self.http.get(url).bearer_auth(access_token);
        request = if github {
            request
                .header(reqwest::header::ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
        } else {
            request.header(reqwest::header::ACCEPT, "application/json")
        };
        let response = request
            .send()
            .await
            .map_err(|e| Refusal::unavailable(format!("user API: {}", oidc::plain(&e))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Refusal::unavailable(format!("user API answered {status}")));
        }
        response
            .json()
            .await
            .map_err(|_| Refusal::unavailable("user API answer not understood"))
    }

    /// `GET /user` and `GET /user/emails` (the primary address and whether GitHub verified it).
    async fn github_profile(
        &self,
        provider: &Provider,
        access_token: &str,
    ) -> Result<ExternalProfile, Refusal> {
        let user_url = provider
            .userinfo_url
            .as_deref()
            .ok_or_else(|| Refusal::unavailable("no user API configured"))?;
        let user = self.api_json(user_url, access_token, true).await?;
        let subject = id_string(&user["id"]).ok_or_else(|| Refusal::invalid("no user id"))?;
        let emails = self
            .api_json(&format!("{user_url}/emails"), access_token, true)
            .await?;
        let primary = emails
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["primary"].as_bool() == Some(true));
        Ok(ExternalProfile {
            subject,
            email: primary.and_then(|e| e["email"].as_str()).map(str::to_owned),
            email_verified: primary.is_some_and(|e| e["verified"].as_bool() == Some(true)),
            name: user["name"].as_str().map(str::to_owned),
            username_hint: user["login"].as_str().map(str::to_owned),
            avatar_url: user["avatar_url"].as_str().map(str::to_owned),
            auth_time: None,
        })
    }

    /// `GET /users/@me`: the email and `verified` come with the `email` scope.
    async fn discord_profile(
        &self,
        provider: &Provider,
        access_token: &str,
    ) -> Result<ExternalProfile, Refusal> {
        let url = provider
            .userinfo_url
            .as_deref()
            .ok_or_else(|| Refusal::unavailable("no user API configured"))?;
        let user = self.api_json(url, access_token, false).await?;
        let subject = id_string(&user["id"]).ok_or_else(|| Refusal::invalid("no user id"))?;
        let avatar_url = user["avatar"]
            .as_str()
            .map(|hash| format!("https://cdn.discordapp.com/avatars/{subject}/{hash}.png"));
        Ok(ExternalProfile {
            email: user["email"].as_str().map(str::to_owned),
            email_verified: user["verified"].as_bool() == Some(true),
            name: user["global_name"]
                .as_str()
                .or_else(|| user["username"].as_str())
                .map(str::to_owned),
            username_hint: user["username"].as_str().map(str::to_owned),
            avatar_url,
            subject,
            auth_time: None,
        })
    }

    /// A generic provider's user info, read through the admin's field map.
    async fn mapped_profile(
        &self,
        provider: &Provider,
        access_token: &str,
    ) -> Result<ExternalProfile, Refusal> {
        let url = provider
            .userinfo_url
            .as_deref()
            .ok_or_else(|| Refusal::unavailable("no user-info URL configured"))?;
        let info = self.api_json(url, access_token, false).await?;
        map_profile(&provider.field_map, &info)
    }
}

fn oidc_auth_type(discovered: &oidc::Discovered) -> openidconnect::AuthType {
    use openidconnect::core::CoreClientAuthMethod;
    match discovered.metadata.token_endpoint_auth_methods_supported() {
        Some(methods)
            if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
        {
            openidconnect::AuthType::RequestBody
        }
        _ => openidconnect::AuthType::BasicAuth,
    }
}

/// Reads the profile out of `info` by dotted paths (`data.user.id`).
pub fn map_profile(field_map: &Value, info: &Value) -> Result<ExternalProfile, Refusal> {
    let at = |field: &str| -> Option<&Value> {
        let path = field_map.get(field)?.as_str()?;
        path.split('.').try_fold(info, |v, key| v.get(key))
    };
    let text = |field: &str| at(field).and_then(Value::as_str).map(str::to_owned);
    let subject = at("id")
        .and_then(id_string)
        .ok_or_else(|| Refusal::invalid("the user info has no id where the field map says"))?;
    let email_verified = match at("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    Ok(ExternalProfile {
        subject,
        email: text("email"),
        email_verified,
        name: text("name"),
        username_hint: None,
        avatar_url: text("avatar"),
        auth_time: None,
    })
}

/// Ids come as strings or numbers; both are the same subject.
fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && s.len() <= 255 => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_map_reads_nested_ids_of_either_type_and_string_booleans() {
        let map = json!({ "id": "data.user.uid", "email": "data.user.mail", "email_verified": "data.user.confirmed", "name": "data.profile.name" });
        let info = json!({ "data": { "user": { "uid": 7, "mail": "a@example.com", "confirmed": "true" }, "profile": { "name": "Ann" } } });
        let p = map_profile(&map, &info).unwrap();
        assert_eq!(p.subject, "7");
        assert_eq!(p.email.as_deref(), Some("a@example.com"));
        assert!(p.email_verified);
        assert_eq!(p.name.as_deref(), Some("Ann"));
        assert!(map_profile(&json!({ "id": "missing.path" }), &info).is_err());
        let unverified = map_profile(&map, &json!({ "data": { "user": { "uid": "x" } } })).unwrap();
        assert!(!unverified.email_verified);
        assert_eq!(unverified.email, None);
    }
}
