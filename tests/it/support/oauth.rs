//! Local stand-ins for the sign-in providers Slipway speaks to, written from their public
//! docs, on one loopback server with a path prefix per realm:
//!
//! - `/google`, `/oidc`: OpenID Connect providers (discovery, `authorize`, `token` with
//!   RS256 ID tokens from a committed test key, JWKS, `userinfo`, RFC 7009 `revoke`);
//! - `/github` (the web side: `/login/oauth/authorize`, `/login/oauth/access_token`, which
//!   answers errors with status 200 as GitHub does) and `/github-api` (`/user`,
//!   `/user/emails`, `DELETE /applications/{client_id}/grant`);
//! - `/discord/oauth2/authorize` and `/discord/api/v10` (`/oauth2/token`, `/users/@me`,
//!   `/oauth2/token/revoke`);
//! - `/generic`: a plain OAuth 2.0 server whose user info nests its fields.
//!
//! The authorize endpoint plays the person at the provider: it signs in whoever the test said
//! will, and sends the browser back with a code. The token endpoint checks the client's
//! credentials, the redirect URI and the PKCE verifier against the challenge, as real ones do.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{delete, get, post},
    Form, Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use openidconnect::{
    core::{CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey},
    AccessToken, Audience, EmptyAdditionalClaims, EndUserEmail, EndUserName, IssuerUrl,
    JsonWebKeyId, LocalizedClaim, Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const PROVIDER_KEY: &str = include_str!("../keys/provider.pem");
/// The Discord application's bot token.
pub const BOT_TOKEN: &str = "discord-bot-Secret-5a6b7c";
pub const IMPOSTOR_KEY: &str = include_str!("../keys/impostor.pem");

/// The realms, as they are mounted.
pub const REALMS: [&str; 5] = ["google", "github", "discord", "oidc", "generic"];

pub fn client_id(realm: &str) -> String {
    match realm {
        // A Discord application's client id is its (numeric) application id.
        "discord" => DISCORD_APPLICATION.into(),
        _ => format!("{realm}-client-id"),
    }
}

pub const DISCORD_APPLICATION: &str = "1029384756102938475";

/// Each realm's client secret. Tests search answers and pages for it.
pub fn client_secret(realm: &str) -> String {
    format!("{realm}-Secret-9f8e7d6c")
}

/// A person at a provider.
#[derive(Clone, Debug)]
pub struct Person {
    pub subject: String,
    pub login: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
}

impl Person {
    pub fn new(subject: &str, login: &str, email: &str) -> Self {
        Self {
            subject: subject.into(),
            login: login.into(),
            email: Some(email.into()),
            email_verified: true,
            name: format!("{login} at the provider"),
        }
    }

    pub fn unverified(mut self) -> Self {
        self.email_verified = false;
        self
    }
}

/// A way to spoil the next ID token, for the verification tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spoil {
    ImpostorKey,
    WrongAudience,
    WrongIssuer,
    Expired,
    WrongNonce,
    OldAuthTime,
}

struct Code {
    realm: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    person: Person,
    scope: String,
}

#[derive(Clone)]
struct Grant {
    realm: String,
    person: Person,
    scope: String,
}

/// What the Discord stand-in saw, in order.
#[derive(Clone, Debug)]
pub enum DiscordCall {
    /// A role-connection PUT: the member (subject) and the body.
    RoleConnection {
        subject: String,
        body: Value,
        at: std::time::Instant,
    },
    Revoked {
        token: String,
    },
    EditOriginal {
        token: String,
        body: Value,
    },
    FollowUp {
        token: String,
        body: Value,
    },
}

#[derive(Default)]
struct Inner {
    signs_in: HashMap<String, Person>,
    deny: bool,
    spoil: Option<Spoil>,
    /// Lifetime of the access tokens it hands out.
    access_ttl: i64,
    codes: HashMap<String, Code>,
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    /// Code exchanges whose verifier matched the challenge.
    pkce_matched: u32,
    pkce_refused: u32,
    refreshes: u32,
    /// `realm:token` of each revocation.
    revoked: Vec<String>,
    /// Query of the last authorization request per realm.
    last_authorize: HashMap<String, HashMap<String, String>>,
    counter: u64,
    /// Discord: registered metadata and commands, role connections by subject, faults.
    metadata: Value,
    commands: Value,
    connections: HashMap<String, Value>,
    /// The next role-connection PUTs answer these statuses, in order.
    connection_faults: Vec<u16>,
    discord_calls: Vec<DiscordCall>,
}

type Shared = Arc<Mutex<Inner>>;

#[derive(Clone)]
struct Ctx {
    inner: Shared,
    base: String,
}

pub struct ProviderStandIn {
    pub addr: SocketAddr,
    inner: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ProviderStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ProviderStandIn {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stand-in");
        let addr = listener.local_addr().unwrap();
        let inner: Shared = Arc::new(Mutex::new(Inner {
            access_ttl: 3600,
            metadata: json!([]),
            commands: json!([]),
            ..Inner::default()
        }));
        let ctx = Ctx {
            inner: inner.clone(),
            base: format!("http://{addr}"),
        };
        let oidc = |realm: &'static str| {
            Router::new()
                .route(
                    "/.well-known/openid-configuration",
                    get(move |s| discovery(s, realm)),
                )
                .route("/authorize", get(move |s, q| authorize(s, q, realm)))
                .route("/token", post(move |s, h, f| token(s, h, f, realm)))
                .route("/jwks", get(jwks))
                .route("/userinfo", get(move |s, h| oidc_userinfo(s, h, realm)))
                .route("/revoke", post(move |s, h, f| revoke(s, h, f, realm)))
        };
        let app = Router::new()
            .nest("/google", oidc("google"))
            .nest("/oidc", oidc("oidc"))
            .route(
                "/github/login/oauth/authorize",
                get(|s, q| authorize(s, q, "github")),
            )
            .route(
                "/github/login/oauth/access_token",
                post(|s, h, f| token(s, h, f, "github")),
            )
            .route("/github-api/user", get(github_user))
            .route("/github-api/user/emails", get(github_emails))
            .route(
                "/github-api/applications/{client_id}/grant",
                delete(github_revoke),
            )
            .route(
                "/discord/oauth2/authorize",
                get(|s, q| authorize(s, q, "discord")),
            )
            .route(
                "/discord/api/v10/oauth2/token",
                post(|s, h, f| token(s, h, f, "discord")),
            )
            .route(
                "/discord/api/v10/oauth2/token/revoke",
                post(|s, h, f| revoke(s, h, f, "discord")),
            )
            .route("/discord/api/v10/users/@me", get(discord_me))
            .route(
                "/discord/api/v10/applications/{app}/role-connections/metadata",
                get(get_metadata).put(put_metadata),
            )
            .route(
                "/discord/api/v10/applications/{app}/commands",
                axum::routing::put(put_commands),
            )
            .route(
                "/discord/api/v10/users/@me/applications/{app}/role-connection",
                get(get_connection).put(put_connection),
            )
            .route(
                "/discord/api/v10/webhooks/{app}/{token}/messages/@original",
                axum::routing::patch(edit_original),
            )
            .route("/discord/api/v10/webhooks/{app}/{token}", post(follow_up))
            .route("/generic/authorize", get(|s, q| authorize(s, q, "generic")))
            .route("/generic/token", post(|s, h, f| token(s, h, f, "generic")))
            .route("/generic/me", get(generic_me))
            .with_state(ctx);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("stand-in serves");
        });
        Self {
            addr,
            inner,
            server,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Settings that point Slipway's GOOGLE_*, GITHUB_* and DISCORD_* at this stand-in.
    pub fn env_settings(&self) -> Vec<(&'static str, String)> {
        let base = self.base();
        vec![
            ("GOOGLE_CLIENT_ID", client_id("google")),
            ("GOOGLE_CLIENT_SECRET", client_secret("google")),
            (
                "GOOGLE_DISCOVERY_URL",
                format!("{base}/google/.well-known/openid-configuration"),
            ),
            ("GITHUB_CLIENT_ID", client_id("github")),
            ("GITHUB_CLIENT_SECRET", client_secret("github")),
            ("GITHUB_BASE_URL", format!("{base}/github")),
            ("GITHUB_API_BASE", format!("{base}/github-api")),
            ("DISCORD_CLIENT_ID", client_id("discord")),
            ("DISCORD_CLIENT_SECRET", client_secret("discord")),
            ("DISCORD_API_BASE", format!("{base}/discord/api/v10")),
        ]
    }

    /// The admin API body that adds the `oidc` realm as a provider named `slug`.
    pub fn oidc_body(&self, slug: &str) -> Value {
        json!({
            "kind": "oidc",
            "slug": slug,
            "display_name": "Company SSO",
            "client_id": client_id("oidc"),
            "client_secret": client_secret("oidc"),
            "discovery_url": format!("{}/oidc", self.base()),
        })
    }

    /// The admin API body for the `generic` realm, whose user info nests its fields.
    pub fn generic_body(&self, slug: &str) -> Value {
        let base = self.base();
        json!({
            "kind": "oauth2",
            "slug": slug,
            "display_name": "Forge",
            "client_id": client_id("generic"),
            "client_secret": client_secret("generic"),
            "authorize_url": format!("{base}/generic/authorize"),
            "token_url": format!("{base}/generic/token"),
            "userinfo_url": format!("{base}/generic/me"),
            "scopes": ["profile"],
            "field_map": {
                "id": "data.user.uid",
                "email": "data.user.mail",
                "email_verified": "data.user.confirmed",
                "name": "data.profile.display",
                "avatar": "data.profile.picture",
            },
        })
    }

    /// Who signs in at `realm`'s authorize endpoint from now on.
    pub fn signs_in(&self, realm: &str, person: Person) {
        self.lock().signs_in.insert(realm.into(), person);
    }

    /// The next authorization requests are declined by the person (`access_denied`).
    pub fn deny(&self, deny: bool) {
        self.lock().deny = deny;
    }

    /// Spoils every ID token from now on (until set to `None`).
    pub fn spoil(&self, spoil: Option<Spoil>) {
        self.lock().spoil = spoil;
    }

    pub fn access_token_lifetime(&self, secs: i64) {
        self.lock().access_ttl = secs;
    }

    /// What the application registered as role-connection metadata (or what a test set).
    pub fn metadata(&self) -> Value {
        self.lock().metadata.clone()
    }

    pub fn set_metadata(&self, records: Value) {
        self.lock().metadata = records;
    }

    pub fn commands(&self) -> Value {
        self.lock().commands.clone()
    }

    /// The role connection Discord holds for a member.
    pub fn connection(&self, subject: &str) -> Option<Value> {
        self.lock().connections.get(subject).cloned()
    }

    /// The next role-connection PUTs fail with these statuses.
    pub fn fail_connections(&self, statuses: &[u16]) {
        self.lock().connection_faults = statuses.to_vec();
    }

    pub fn discord_calls(&self) -> Vec<DiscordCall> {
        self.lock().discord_calls.clone()
    }

    /// Role-connection PUTs for `subject` so far (answered or not).
    pub fn connection_puts(&self, subject: &str) -> Vec<(Value, std::time::Instant)> {
        self.lock()
            .discord_calls
            .iter()
            .filter_map(|c| match c {
                DiscordCall::RoleConnection {
                    subject: s,
                    body,
                    at,
                } if s == subject => Some((body.clone(), *at)),
                _ => None,
            })
            .collect()
    }

    pub fn pkce(&self) -> (u32, u32) {
        let inner = self.lock();
        (inner.pkce_matched, inner.pkce_refused)
    }

    pub fn refreshes(&self) -> u32 {
        self.lock().refreshes
    }

    pub fn revoked(&self) -> Vec<String> {
        self.lock().revoked.clone()
    }

    pub fn last_authorize(&self, realm: &str) -> HashMap<String, String> {
        self.lock()
            .last_authorize
            .get(realm)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether `token` is an access token this stand-in handed out and has not revoked.
    pub fn access_token_is_live(&self, token: &str) -> bool {
        self.lock().access.contains_key(token)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }
}

// --- Driving a browser through a provider ------------------------------------------------------

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location in a {} answer", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Starts a flow in `browser` and lets the provider answer: returns the callback URL the
/// provider sends the browser to (or where Slipway sent it instead of the provider).
pub async fn to_provider_and_back(browser: &super::app::Browser, start: &str) -> String {
    let response = browser.client.get(browser.url(start)).send().await.unwrap();
    assert_eq!(response.status(), 303, "{start}");
    let authorize = location(&response);
    if !authorize.starts_with("http") {
        return authorize;
    }
    let provider = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = provider.get(&authorize).send().await.unwrap();
    assert!(
        response.status().is_redirection(),
        "the provider answered {}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    location(&response)
}

/// Follows a callback URL in `browser`: where Slipway sends it next.
pub async fn callback(browser: &super::app::Browser, url: &str) -> String {
    let response = browser.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 303, "{url}");
    location(&response)
}

/// The whole round trip: where the browser ends up.
pub async fn sign_in_with(browser: &super::app::Browser, start: &str) -> String {
    let back = to_provider_and_back(browser, start).await;
    if back.starts_with('/') {
        return back;
    }
    callback(browser, &back).await
}

fn issuer(base: &str, realm: &str) -> String {
    format!("{base}/{realm}")
}

async fn discovery(State(ctx): State<Ctx>, realm: &'static str) -> Json<Value> {
    let iss = issuer(&ctx.base, realm);
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/jwks"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "email", "email_verified", "name", "auth_time"],
    }))
}

fn signing_key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("test-key".into())))
        .expect("test key")
}

async fn jwks() -> Response {
    let key = signing_key(PROVIDER_KEY).as_verification_key();
    (
        [(header::CONTENT_TYPE, "application/json")],
        Json(json!({ "keys": [key] })),
    )
        .into_response()
}

/// The person signs in (or declines) and the browser goes back with a code.
async fn authorize(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
    realm: &'static str,
) -> Response {
    let mut inner = ctx.inner.lock().unwrap();
    inner.last_authorize.insert(realm.into(), q.clone());
    if q.get("client_id") != Some(&client_id(realm)) {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    let Some(redirect_uri) = q.get("redirect_uri").cloned() else {
        return (StatusCode::BAD_REQUEST, "no redirect_uri").into_response();
    };
    let state = q.get("state").cloned().unwrap_or_default();
    let back = |params: String| {
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        Redirect::to(&format!("{redirect_uri}{sep}{params}")).into_response()
    };
    if inner.deny {
        return back(format!("error=access_denied&state={}", enc(&state)));
    }
    if q.get("response_type").map(String::as_str) != Some("code")
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return back(format!("error=invalid_request&state={}", enc(&state)));
    }
    let Some(person) = inner.signs_in.get(realm).cloned() else {
        return (StatusCode::BAD_REQUEST, "the test named nobody to sign in").into_response();
    };
    inner.counter += 1;
    let code = format!("code-{realm}-{}", inner.counter);
    inner.codes.insert(
        code.clone(),
        Code {
            realm: realm.into(),
            redirect_uri: redirect_uri.clone(),
            challenge: q.get("code_challenge").cloned().unwrap_or_default(),
            nonce: q.get("nonce").cloned(),
            person,
            scope: q.get("scope").cloned().unwrap_or_default(),
        },
    );
    back(format!("code={code}&state={}", enc(&state)))
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Client credentials from HTTP Basic or the form body.
fn client_of(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        // RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
        return Some((url_decode(id), url_decode(secret)));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn token_error(realm: &str, status: StatusCode, error: &str) -> Response {
    // GitHub answers token errors with 200 and an `error` field.
    let status = if realm == "github" {
        StatusCode::OK
    } else {
        status
    };
    (status, Json(json!({ "error": error }))).into_response()
}

async fn token(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
    realm: &'static str,
) -> Response {
    match client_of(&headers, &form) {
        Some((id, secret)) if id == client_id(realm) && secret == client_secret(realm) => {}
        _ => return token_error(realm, StatusCode::UNAUTHORIZED, "invalid_client"),
    }
    let mut inner = ctx.inner.lock().unwrap();
    let (grant, nonce) = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(code) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
                return token_error(realm, StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if code.realm != realm || form.get("redirect_uri") != Some(&code.redirect_uri) {
                return token_error(realm, StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if verifier.is_empty() || computed != code.challenge {
                inner.pkce_refused += 1;
                return token_error(realm, StatusCode::BAD_REQUEST, "invalid_grant");
            }
            inner.pkce_matched += 1;
            (
                Grant {
                    realm: realm.into(),
                    person: code.person,
                    scope: code.scope,
                },
                code.nonce,
            )
        }
        Some("refresh_token") => {
            let Some(grant) = form
                .get("refresh_token")
                .and_then(|r| inner.refresh.remove(r))
                .filter(|g| g.realm == realm)
            else {
                return token_error(realm, StatusCode::BAD_REQUEST, "invalid_grant");
            };
            inner.refreshes += 1;
            (grant, None)
        }
        Some("client_credentials") => {
            return token_error(realm, StatusCode::BAD_REQUEST, "unsupported_grant_type")
        }
        _ => return token_error(realm, StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    inner.counter += 1;
    let access = format!("at-{realm}-{}", inner.counter);
    let refresh = format!("rt-{realm}-{}", inner.counter);
    inner.access.insert(access.clone(), grant.clone());
    inner.refresh.insert(refresh.clone(), grant.clone());
    let mut body = json!({
        "access_token": access,
        "token_type": if realm == "github" { "bearer" } else { "Bearer" },
        "refresh_token": refresh,
        "expires_in": inner.access_ttl,
        "scope": if realm == "github" { "read:user,user:email" } else { "openid email profile" },
    });
    if matches!(realm, "google" | "oidc") {
        body["id_token"] = json!(id_token(
            &ctx.base,
            realm,
            &grant.person,
            nonce,
            &access,
            inner.spoil
        ));
    }
    Json(body).into_response()
}

fn id_token(
    base: &str,
    realm: &str,
    person: &Person,
    nonce: Option<String>,
    access: &str,
    spoil: Option<Spoil>,
) -> String {
    let now = chrono::Utc::now();
    let iss = match spoil {
        Some(Spoil::WrongIssuer) => format!("{base}/someone-else"),
        _ => issuer(base, realm),
    };
    let aud = match spoil {
        Some(Spoil::WrongAudience) => "another-client".to_owned(),
        _ => client_id(realm),
    };
    let exp = match spoil {
        Some(Spoil::Expired) => now - chrono::Duration::minutes(5),
        _ => now + chrono::Duration::minutes(10),
    };
    let nonce = match spoil {
        Some(Spoil::WrongNonce) => Some("not-the-nonce".to_owned()),
        _ => nonce,
    };
    let auth_time = match spoil {
        Some(Spoil::OldAuthTime) => now - chrono::Duration::hours(2),
        _ => now - chrono::Duration::seconds(5),
    };
    let mut name = LocalizedClaim::new();
    name.insert(None, EndUserName::new(person.name.clone()));
    let standard = StandardClaims::new(SubjectIdentifier::new(person.subject.clone()))
        .set_email(person.email.clone().map(EndUserEmail::new))
        .set_email_verified(Some(person.email_verified))
        .set_name(Some(name))
        .set_preferred_username(Some(openidconnect::EndUserUsername::new(
            person.login.clone(),
        )));
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(iss).unwrap(),
        vec![Audience::new(aud)],
        exp,
        now - chrono::Duration::minutes(1),
        standard,
        EmptyAdditionalClaims {},
    )
    .set_nonce(nonce.map(Nonce::new))
    .set_auth_time(Some(auth_time));
    let key = match spoil {
        Some(Spoil::ImpostorKey) => signing_key(IMPOSTOR_KEY),
        _ => signing_key(PROVIDER_KEY),
    };
    let token = CoreIdToken::new(
        claims,
        &key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&AccessToken::new(access.to_owned())),
        None,
    )
    .expect("sign an ID token");
    serde_json::to_value(&token)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

fn person_of(ctx: &Ctx, headers: &HeaderMap, realm: &str) -> Option<Person> {
    let token = bearer(headers)?;
    let inner = ctx.inner.lock().unwrap();
    inner
        .access
        .get(&token)
        .filter(|g| g.realm == realm)
        .map(|g| g.person.clone())
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "message": "401: Unauthorized", "code": 0 })),
    )
        .into_response()
}

async fn oidc_userinfo(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    realm: &'static str,
) -> Response {
    let Some(p) = person_of(&ctx, &headers, realm) else {
        return unauthorized();
    };
    Json(json!({ "sub": p.subject, "email": p.email, "email_verified": p.email_verified, "name": p.name }))
        .into_response()
}

async fn github_user(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    let Some(p) = person_of(&ctx, &headers, "github") else {
        return unauthorized();
    };
    if headers.get(header::USER_AGENT).is_none() {
        // GitHub refuses requests without a User-Agent.
        return (
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules.",
        )
            .into_response();
    }
    Json(json!({
        "login": p.login,
        "id": p.subject.parse::<u64>().map(Value::from).unwrap_or(Value::from(p.subject.clone())),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", p.subject),
        "name": p.name,
        "email": null,
        "type": "User",
    }))
    .into_response()
}

async fn github_emails(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    let Some(p) = person_of(&ctx, &headers, "github") else {
        return unauthorized();
    };
    let mut emails = vec![json!({
        "email": format!("{}@users.noreply.github.com", p.login),
        "primary": false, "verified": true, "visibility": null,
    })];
    if let Some(email) = p.email {
        emails.push(json!({ "email": email, "primary": true, "verified": p.email_verified, "visibility": "private" }));
    }
    Json(Value::Array(emails)).into_response()
}

async fn github_revoke(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    match client_of(&headers, &HashMap::new()) {
        Some((cid, secret))
            if cid == id && cid == client_id("github") && secret == client_secret("github") => {}
        _ => return unauthorized(),
    }
    let token = body["access_token"].as_str().unwrap_or_default().to_owned();
    let mut inner = ctx.inner.lock().unwrap();
    if inner.access.remove(&token).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    inner.revoked.push(format!("github:{token}"));
    StatusCode::NO_CONTENT.into_response()
}

async fn discord_me(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    let Some(p) = person_of(&ctx, &headers, "discord") else {
        return unauthorized();
    };
    Json(json!({
        "id": p.subject,
        "username": p.login,
        "global_name": p.name,
        "discriminator": "0",
        "avatar": "8342729096ea3675442027381ff50dfe",
        "email": p.email,
        "verified": p.email_verified,
    }))
    .into_response()
}

async fn generic_me(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    let Some(p) = person_of(&ctx, &headers, "generic") else {
        return unauthorized();
    };
    Json(json!({
        "data": {
            "user": { "uid": p.subject.parse::<u64>().map(Value::from).unwrap_or(Value::from(p.subject.clone())), "mail": p.email, "confirmed": p.email_verified },
            "profile": { "display": p.name, "picture": "https://forge.example/avatar.png" },
        }
    }))
    .into_response()
}

/// RFC 7009: 200 whether or not the token was known.
async fn revoke(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
    realm: &'static str,
) -> Response {
    match client_of(&headers, &form) {
        Some((id, secret)) if id == client_id(realm) && secret == client_secret(realm) => {}
        _ => return token_error(realm, StatusCode::UNAUTHORIZED, "invalid_client"),
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let mut inner = ctx.inner.lock().unwrap();
    // Revoking a refresh token ends its whole grant.
    if let Some(grant) = inner.refresh.remove(&token) {
        inner
            .access
            .retain(|_, g| !(g.realm == grant.realm && g.person.subject == grant.person.subject));
    }
    inner.access.remove(&token);
    inner.revoked.push(format!("{realm}:{token}"));
    if realm == "discord" {
        inner.discord_calls.push(DiscordCall::Revoked { token });
    }
    StatusCode::OK.into_response()
}

fn is_bot(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bot {BOT_TOKEN}"))
}

fn discord_error(status: StatusCode, message: &str, code: u32) -> Response {
    (status, Json(json!({ "message": message, "code": code }))).into_response()
}

/// Discord's rules for role-connection metadata (API docs): at most 5 records; keys a-z, 0-9
/// and _, 1-50 long; names 1-100 and descriptions 1-200 characters; types 1-8.
fn metadata_problem(records: &Value) -> Option<String> {
    let records = records.as_array()?;
    if records.len() > 5 {
        return Some("Must be 5 or fewer in length.".into());
    }
    for r in records {
        let key = r["key"].as_str().unwrap_or_default();
        let key_ok = (1..=50).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        let len = |f: &str| r[f].as_str().map_or(0, |s| s.chars().count());
        let kind = r["type"].as_u64().unwrap_or(0);
        if !key_ok
            || !(1..=100).contains(&len("name"))
            || !(1..=200).contains(&len("description"))
            || !(1..=8).contains(&kind)
        {
            return Some(format!("Invalid Form Body ({key})"));
        }
    }
    None
}

async fn get_metadata(
    State(ctx): State<Ctx>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !is_bot(&headers) || app != client_id("discord") {
        return discord_error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0);
    }
    Json(ctx.inner.lock().unwrap().metadata.clone()).into_response()
}

async fn put_metadata(
    State(ctx): State<Ctx>,
    Path(app): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !is_bot(&headers) || app != client_id("discord") {
        return discord_error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0);
    }
    if let Some(problem) = metadata_problem(&body) {
        return discord_error(StatusCode::BAD_REQUEST, &problem, 50035);
    }
    ctx.inner.lock().unwrap().metadata = body.clone();
    Json(body).into_response()
}

async fn put_commands(
    State(ctx): State<Ctx>,
    Path(app): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !is_bot(&headers) || app != client_id("discord") {
        return discord_error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0);
    }
    let commands: Vec<Value> = body
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            c["id"] = json!(format!("10{i}"));
            c["application_id"] = json!(app);
            c
        })
        .collect();
    ctx.inner.lock().unwrap().commands = json!(commands);
    Json(json!(commands)).into_response()
}

/// The member's token must carry `role_connections.write`.
fn writer_of(ctx: &Ctx, headers: &HeaderMap) -> Option<Person> {
    let token = bearer(headers)?;
    let inner = ctx.inner.lock().unwrap();
    inner
        .access
        .get(&token)
        .filter(|g| {
            g.realm == "discord" && g.scope.split(' ').any(|s| s == "role_connections.write")
        })
        .map(|g| g.person.clone())
}

async fn get_connection(
    State(ctx): State<Ctx>,
    Path(_app): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(person) = writer_of(&ctx, &headers) else {
        return discord_error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0);
    };
    Json(
        ctx.inner
            .lock()
            .unwrap()
            .connections
            .get(&person.subject)
            .cloned()
            .unwrap_or(json!({})),
    )
    .into_response()
}

async fn put_connection(
    State(ctx): State<Ctx>,
    Path(app): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let person = writer_of(&ctx, &headers);
    let mut inner = ctx.inner.lock().unwrap();
    if let Some(p) = &person {
        inner.discord_calls.push(DiscordCall::RoleConnection {
            subject: p.subject.clone(),
            body: body.clone(),
            at: std::time::Instant::now(),
        });
    }
    let Some(person) = person.filter(|_| app == client_id("discord")) else {
        return discord_error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0);
    };
    if !inner.connection_faults.is_empty() {
        let status = inner.connection_faults.remove(0);
        return discord_error(StatusCode::from_u16(status).unwrap(), "injected failure", 0);
    }
    // Metadata keys must be registered ones, with string values.
    let registered: Vec<String> = inner
        .metadata
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["key"].as_str().map(str::to_owned))
        .collect();
    if let Some(metadata) = body["metadata"].as_object() {
        if metadata
            .iter()
            .any(|(k, v)| !registered.contains(k) || !v.is_string())
        {
            return discord_error(
                StatusCode::BAD_REQUEST,
                "Invalid Form Body (metadata)",
                50035,
            );
        }
    }
    inner
        .connections
        .insert(person.subject.clone(), body.clone());
    Json(body).into_response()
}

async fn edit_original(
    State(ctx): State<Ctx>,
    Path((_app, token)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    ctx.inner
        .lock()
        .unwrap()
        .discord_calls
        .push(DiscordCall::EditOriginal {
            token,
            body: body.clone(),
        });
    Json(body).into_response()
}

async fn follow_up(
    State(ctx): State<Ctx>,
    Path((_app, token)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    ctx.inner
        .lock()
        .unwrap()
        .discord_calls
        .push(DiscordCall::FollowUp {
            token,
            body: body.clone(),
        });
    Json(body).into_response()
}
