//! The authorization-code flow: `GET /auth/{slug}/start` sends the browser to the provider,
//! `GET /auth/{slug}/callback` takes it back.
//!
//! A flow in progress is a record in Redis under the SHA-256 of its `state` (256 random bits),
//! holding the PKCE verifier, the OpenID nonce, what the person set out to do and a digest of
//! a random binding kept in an HttpOnly SameSite=Lax cookie of the browser that started it.
//! The callback takes the record with GETDEL (so a `state` works once), and only goes on when
//! this browser's cookie matches, the answer came back to the provider the flow started with
//! and the record is under ten minutes old. Anything else ends at the sign-in (or account)
//! page with a fixed message, and the session is left as it was.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use fred::{
    interfaces::KeysInterface,
    types::{Expiration, SetOptions},
};
use oauth2::{CsrfToken, PkceCodeChallenge, Scope};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    identities,
    profile::{auth_type_of, basic_client, Exchange, Refusal},
    providers::{self, redirect_uri, Kind, Provider},
};
use crate::{
    error::AppError,
    features::auth::next::safe_next,
    server::{
        auth::{
            service::{self, Client},
            session, sha256_hex,
        },
        error::internal,
        AppState,
    },
};

/// How long a started sign-in may take.
pub const PENDING_TTL_SECS: i64 = 10 * 60;

/// What the person set out to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Sign in (or register) with the provider.
    SignIn,
    /// Add the provider to the signed-in account.
    Link,
    /// Prove who they are again, for an account without a password.
    Reauth,
    /// Discord's Linked Roles verification: link Discord (if needed) with
    /// `role_connections.write` and send the member's role-connection values.
    LinkedRole,
}

impl Intent {
    pub fn parse(raw: Option<&str>) -> Option<Self> {
        match raw.unwrap_or("login") {
            "login" | "sign_in" => Some(Self::SignIn),
            "link" => Some(Self::Link),
            "reauth" => Some(Self::Reauth),
            _ => None,
        }
    }

    /// Where a refusal is shown.
    fn error_page(self) -> &'static str {
        match self {
            Self::SignIn => "/login",
            Self::Link | Self::Reauth | Self::LinkedRole => "/account",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Pending {
    provider: String,
    /// SHA-256 of the browser binding in the cookie.
    binding: String,
    verifier: String,
    nonce: Option<String>,
    intent: Intent,
    /// The account that started a link or confirmation.
    user_id: Option<Uuid>,
    next: String,
    invite: Option<String>,
    /// Unix seconds.
    created_at: i64,
}

/// What the HTTP layer does with the browser after a step.
pub struct Step {
    pub location: String,
    pub cookie: Cookie,
}

pub enum Cookie {
    Keep,
    /// Sets the binding cookie to this value.
    Bind(String),
    Clear,
}

pub struct StartRequest {
    pub intent: Intent,
    pub next: Option<String>,
    pub invite: Option<String>,
}

pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    /// RFC 9207: the issuer of the answer, when the provider says.
    pub iss: Option<String>,
}

fn refused(intent: Intent, code: &str) -> Step {
    Step {
        location: format!("{}?oauth_error={code}", intent.error_page()),
        cookie: Cookie::Keep,
    }
}

fn random_token(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| internal("randomness", e))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

fn pending_key(state: &AppState, oauth_state: &str) -> String {
    format!(
        "{}oauth:pending:{}",
        state.config.redis_key_prefix,
        sha256_hex(oauth_state)
    )
}

pub async fn start(
    state: &AppState,
    session: &Session,
    slug: &str,
    request: StartRequest,
) -> Result<Step, AppError> {
    let intent = request.intent;
    let provider = match providers::load(state, slug).await? {
        Some(p) if p.enabled && (intent != Intent::LinkedRole || p.kind == Kind::Discord) => p,
        _ => return Ok(refused(intent, "unknown_provider")),
    };
    let next = safe_next(request.next.as_deref().unwrap_or(match intent {
        Intent::SignIn => "/",
        _ => "/account",
    }))
    .to_owned();
    let user_id = match intent {
        Intent::SignIn => None,
        Intent::Link | Intent::Reauth | Intent::LinkedRole => {
            let user = match service::current_user(state, session).await {
                Ok(user) => user,
                Err(AppError::Unauthorized) => {
                    // Discord's verification URL is not a page: after signing in, the page at
                    // /discord/link sends the browser back to it.
                    let back = if intent == Intent::LinkedRole {
                        "/discord/link"
                    } else {
                        &next
                    };
                    return Ok(Step {
                        location: crate::features::auth::components::login_path_for(back),
                        cookie: Cookie::Keep,
                    });
                }
                Err(e) => return Err(e),
            };
            if intent == Intent::Link && !session::recently_confirmed(session).await? {
                return Ok(refused(intent, "reauth_required"));
            }
            // A member who has not linked Discord yet adds a way to sign in: that needs a
            // recent confirmation, as any link does.
            if intent == Intent::LinkedRole
                && !identities::has_identity(state, user.id, &provider.slug).await?
                && !session::recently_confirmed(session).await?
            {
                return Ok(refused(intent, "reauth_required"));
            }
            // A password is the stronger proof: GitHub and Discord cannot show that the person
            // signed in just now, so only accounts without one confirm through a provider.
            if intent == Intent::Reauth && user.password_hash.is_some() {
                return Ok(refused(intent, "use_password"));
            }
            Some(user.id)
        }
    };

    let oauth_state = random_token(32)?;
    let binding = random_token(32)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = provider
        .kind
        .is_oidc()
        .then(|| random_token(32))
        .transpose()?;
    let location = match authorize_url(
        state,
        &provider,
        &oauth_state,
        challenge,
        nonce.as_deref(),
        intent,
    )
    .await
    {
        Ok(url) => url,
        Err(reason) => {
            tracing::warn!(provider = %provider.slug, %reason, "cannot start a sign-in");
            return Ok(refused(intent, "provider_unavailable"));
        }
    };
    let pending = Pending {
        provider: provider.slug.clone(),
        binding: sha256_hex(&binding),
        verifier: verifier.secret().clone(),
        nonce,
        intent,
        user_id,
        next,
        invite: request
            .invite
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty() && i.len() <= 200),
        created_at: chrono::Utc::now().timestamp(),
    };
    let record = serde_json::to_string(&pending).map_err(|e| internal("encode sign-in", e))?;
    let _: Option<String> = state
        .redis
        .set(
            pending_key(state, &oauth_state),
            record,
            Some(Expiration::EX(PENDING_TTL_SECS)),
            Some(SetOptions::NX),
            false,
        )
        .await
        .map_err(|e| internal("store a started sign-in", e))?;
    Ok(Step {
        location,
        cookie: Cookie::Bind(binding),
    })
}

async fn authorize_url(
    state: &AppState,
    provider: &Provider,
    oauth_state: &str,
    challenge: PkceCodeChallenge,
    nonce: Option<&str>,
    intent: Intent,
) -> Result<String, String> {
    let redirect = redirect_uri(state, &provider.slug);
    if provider.kind.is_oidc() {
        let discovered = state
            .oauth
            .discover(provider, false)
            .await
            .map_err(|e| e.to_string())?;
        let client = super::oidc::client(provider, &discovered).set_redirect_uri(
            openidconnect::RedirectUrl::new(redirect).map_err(|e| e.to_string())?,
        );
        let oauth_state = oauth_state.to_owned();
        let nonce = nonce.unwrap_or_default().to_owned();
        let mut request = client
            .authorize_url(
                openidconnect::core::CoreAuthenticationFlow::AuthorizationCode,
                move || openidconnect::CsrfToken::new(oauth_state),
                move || openidconnect::Nonce::new(nonce),
            )
            .set_pkce_challenge(challenge);
        // The library adds `openid` itself.
        for scope in provider.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if intent == Intent::Reauth {
            // Ask for a fresh sign-in and prove it with `auth_time`.
            request = request
                .add_prompt(openidconnect::core::CoreAuthPrompt::Login)
                .set_max_age(std::time::Duration::ZERO);
        }
        return Ok(request.url().0.to_string());
    }
    let (Some(authorize), Some(token)) = (&provider.authorize_url, &provider.token_url) else {
        return Err("the provider's endpoints are not configured".into());
    };
    let client = basic_client(
        provider,
        authorize,
        token,
        &redirect,
        auth_type_of(provider.kind),
    )
    .map_err(|r| r.reason)?;
    let oauth_state = oauth_state.to_owned();
    let mut request = client
        .authorize_url(move || CsrfToken::new(oauth_state))
        .set_pkce_challenge(challenge);
    let scopes: Vec<String> = if intent == Intent::LinkedRole {
        vec!["identify".into(), "role_connections.write".into()]
    } else {
        provider.scopes.clone()
    };
    for scope in scopes {
        request = request.add_scope(Scope::new(scope));
    }
    if intent == Intent::Reauth {
        // The best GitHub and Discord offer: show the provider's screen again.
        request = request.add_extra_param("prompt", "consent");
    }
    Ok(request.url().0.to_string())
}

pub async fn callback(
    state: &AppState,
    session: &Session,
    client: &Client,
    slug: &str,
    query: CallbackQuery,
    binding: Option<&str>,
) -> Result<Step, AppError> {
    let mut step = callback_inner(state, session, client, slug, query, binding).await?;
    // The binding is single use too: whatever happened, the browser forgets it.
    step.cookie = Cookie::Clear;
    Ok(step)
}

async fn callback_inner(
    state: &AppState,
    session: &Session,
    client: &Client,
    slug: &str,
    query: CallbackQuery,
    binding: Option<&str>,
) -> Result<Step, AppError> {
    let Some(oauth_state) = query.state.filter(|s| !s.is_empty() && s.len() <= 200) else {
        return Ok(refused(Intent::SignIn, "state_missing"));
    };
    let record: Option<String> = state
        .redis
        .getdel(pending_key(state, &oauth_state))
        .await
        .map_err(|e| internal("take a started sign-in", e))?;
    let Some(pending) = record.and_then(|r| serde_json::from_str::<Pending>(&r).ok()) else {
        return Ok(refused(Intent::SignIn, "state_invalid"));
    };
    let intent = pending.intent;
    let bound = binding.is_some_and(|cookie| {
        bool::from(
            sha256_hex(cookie)
                .as_bytes()
                .ct_eq(pending.binding.as_bytes()),
        )
    });
    // From here on the state was real: refusals are worth an audit entry.
    let refuse = |code: &'static str, reason: String| async move {
        if intent == Intent::SignIn {
            metrics::counter!("login_failures_total").increment(1);
        }
        service::audit(
            state,
            pending.user_id,
            "login.oauth_refused",
            Some(slug),
            client,
            json!({ "provider": slug, "code": code, "reason": reason }),
        )
        .await?;
        Ok::<Step, AppError>(refused(intent, code))
    };
    if !bound {
        return refuse(
            "state_browser",
            "binding cookie missing or different".into(),
        )
        .await;
    }
    if pending.provider != slug {
        return refuse(
            "provider_mismatch",
            format!("started with {}", pending.provider),
        )
        .await;
    }
    if chrono::Utc::now().timestamp() - pending.created_at >= PENDING_TTL_SECS {
        return refuse("state_invalid", "expired".into()).await;
    }
    if let Some(error) = query.error {
        let code = if error == "access_denied" {
            "access_denied"
        } else {
            "provider_error"
        };
        // Only the error code is kept: a provider's description is free text.
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return refuse(code, format!("provider error {error}")).await;
    }
    let Some(code) = query.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return refuse("provider_error", "no code".into()).await;
    };
    let provider = match providers::load(state, slug).await? {
        Some(p) if p.enabled => p,
        _ => return refuse("unknown_provider", "disabled or deleted".into()).await,
    };
    if let Some(iss) = &query.iss {
        if provider.kind.is_oidc() {
            let expected = state
                .oauth
                .discover(&provider, false)
                .await
                .map(|d| d.metadata.issuer().as_str().to_owned());
            if expected.is_ok_and(|expected| &expected != iss) {
                return refuse(
                    "provider_mismatch",
                    "iss parameter names another issuer".into(),
                )
                .await;
            }
        }
    }
    let redirect = redirect_uri(state, slug);
    let (profile, grant) = match state
        .oauth
        .complete(
            &provider,
            Exchange {
                code: &code,
                verifier: &pending.verifier,
                nonce: pending.nonce.as_deref(),
                redirect_uri: &redirect,
            },
        )
        .await
    {
        Ok(done) => done,
        Err(Refusal { code, reason }) => return refuse(code, reason).await,
    };
    let outcome = match intent {
        Intent::SignIn => {
            identities::sign_in(
                state,
                session,
                client,
                &provider,
                &profile,
                &grant,
                pending.invite.as_deref(),
            )
            .await?
        }
        Intent::Link => {
            identities::link(
                state,
                session,
                client,
                pending.user_id,
                &provider,
                &profile,
                &grant,
            )
            .await?
        }
        Intent::Reauth => {
            identities::reauthenticate(state, session, client, pending.user_id, &provider, &profile)
                .await?
        }
        Intent::LinkedRole => {
            identities::linked_role(
                state,
                session,
                client,
                pending.user_id,
                &provider,
                &profile,
                &grant,
            )
            .await?
        }
    };
    match outcome {
        Ok(()) => Ok(Step {
            location: pending.next,
            cookie: Cookie::Keep,
        }),
        Err((code, reason)) => refuse(code, reason).await,
    }
}
