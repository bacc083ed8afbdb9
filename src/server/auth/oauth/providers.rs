//! Sign-in providers: what each kind needs, the presets that fill in known endpoints, the
//! providers written from the environment at start-up, and the admins' CRUD.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use serde_json::{json, Value};

use crate::{
    error::AppError,
    features::{
        admin::types::{ProviderInfo, ProviderPreset, ProviderRequest},
        auth::types::ProviderButton,
    },
    server::{
        auth::{admin::Admin, service::Client},
        config::{Config, OAuthClient},
        db::{
            self,
            providers::{ProviderRow, ProviderWrite},
        },
        error::internal,
        AppState,
    },
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Google,
    Github,
    Discord,
    Oidc,
    OAuth2,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Google,
        Kind::Github,
        Kind::Discord,
        Kind::Oidc,
        Kind::OAuth2,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Google => "google",
            Kind::Github => "github",
            Kind::Discord => "discord",
            Kind::Oidc => "oidc",
            Kind::OAuth2 => "oauth2",
        }
    }

    /// OpenID Connect: endpoints from discovery, who someone is from a signed ID token.
    pub fn is_oidc(self) -> bool {
        matches!(self, Kind::Google | Kind::Oidc)
    }
}

/// A provider with its client secret opened, ready for a flow.
#[derive(Clone)]
pub struct Provider {
    pub slug: String,
    pub kind: Kind,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: String,
    pub discovery_url: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub revocation_url: Option<String>,
    pub scopes: Vec<String>,
    pub field_map: Value,
    pub enabled: bool,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("slug", &self.slug)
            .field("kind", &self.kind)
            .field("client_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn secret_context(slug: &str) -> String {
    format!("provider:{slug}:client_secret")
}

/// The exact redirect URI of a provider: what the operator registers there.
pub fn redirect_uri(state: &AppState, slug: &str) -> String {
    format!("{}/auth/{slug}/callback", state.public_url)
}

fn open(state: &AppState, row: ProviderRow) -> Result<Provider, AppError> {
    let client_secret = state
        .cipher
        .open_string(&secret_context(&row.slug), &row.client_secret)
        .map_err(|e| internal("open a provider's client secret", e))?;
    Ok(Provider {
        kind: Kind::parse(&row.kind)
            .ok_or_else(|| internal("provider kind", format!("unknown kind {}", row.kind)))?,
        slug: row.slug,
        display_name: row.display_name,
        client_id: row.client_id,
        client_secret,
        discovery_url: row.discovery_url,
        authorize_url: row.authorize_url,
        token_url: row.token_url,
        userinfo_url: row.userinfo_url,
        revocation_url: row.revocation_url,
        scopes: row.scopes,
        field_map: row.field_map,
        enabled: row.enabled,
    })
}

/// The provider named `slug`, enabled or not; `None` when there is none.
pub async fn load(state: &AppState, slug: &str) -> Result<Option<Provider>, AppError> {
    match db::providers::find(&state.db, slug)
        .await
        .map_err(|e| internal("load provider", e))?
    {
        Some(row) => open(state, row).map(Some),
        None => Ok(None),
    }
}

/// The enabled providers, for the sign-in page.
pub async fn buttons(state: &AppState) -> Result<Vec<ProviderButton>, AppError> {
    Ok(db::providers::list(&state.db)
        .await
        .map_err(|e| internal("list providers", e))?
        .into_iter()
        .filter(|p| p.enabled)
        .map(|p| ProviderButton {
            slug: p.slug,
            display_name: p.display_name,
            kind: p.kind,
        })
        .collect())
}

// --- Presets ------------------------------------------------------------------------------------

/// The known endpoints and scopes of a kind. GitHub and Discord follow the configured base
/// URLs, so tests (and GitHub Enterprise) can point elsewhere.
pub fn preset(config: &Config, kind: Kind) -> ProviderPreset {
    let p = &config.providers;
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match kind {
        Kind::Google => ProviderPreset {
            kind: "google".into(),
            display_name: "Google".into(),
            slug: "google".into(),
            discovery_url: Some(p.google_discovery_url.clone()),
            authorize_url: None,
            token_url: None,
            userinfo_url: None,
            revocation_url: None,
            scopes: strings(&["openid", "email", "profile"]),
            field_map: json!({}),
            help: "Google Cloud console → APIs & Services → Credentials → Create OAuth client ID (Web application).".into(),
            redirect_uri: String::new(),
        },
        Kind::Github => ProviderPreset {
            kind: "github".into(),
            display_name: "GitHub".into(),
            slug: "github".into(),
            discovery_url: None,
            authorize_url: Some(format!("{}/login/oauth/authorize", p.github_base_url)),
            token_url: Some(format!("{}/login/oauth/access_token", p.github_base_url)),
            userinfo_url: Some(format!("{}/user", p.github_api_base)),
            revocation_url: None,
            scopes: strings(&["read:user", "user:email"]),
            field_map: json!({}),
            help: "GitHub → Settings → Developer settings → OAuth Apps → New OAuth App.".into(),
            redirect_uri: String::new(),
        },
        Kind::Discord => {
            let api = &p.discord_api_base;
            // People authorize on the web site, not the API: https://discord.com/oauth2/authorize.
            let web = api.find("/api").map_or(api.as_str(), |i| &api[..i]);
            ProviderPreset {
                kind: "discord".into(),
                display_name: "Discord".into(),
                slug: "discord".into(),
                discovery_url: None,
                authorize_url: Some(format!("{web}/oauth2/authorize")),
                token_url: Some(format!("{api}/oauth2/token")),
                userinfo_url: Some(format!("{api}/users/@me")),
                revocation_url: Some(format!("{api}/oauth2/token/revoke")),
                scopes: strings(&["identify", "email"]),
                field_map: json!({}),
                help: "Discord developer portal → Applications → your app → OAuth2.".into(),
            redirect_uri: String::new(),
            }
        }
        Kind::Oidc => ProviderPreset {
            kind: "oidc".into(),
            display_name: "Single sign-on".into(),
            slug: "sso".into(),
            discovery_url: None,
            authorize_url: None,
            token_url: None,
            userinfo_url: None,
            revocation_url: None,
            scopes: strings(&["openid", "email", "profile"]),
            field_map: json!({}),
            help: "Any OpenID Connect issuer (Keycloak, Authentik, Okta, Entra ID…): give its discovery URL.".into(),
            redirect_uri: String::new(),
        },
        Kind::OAuth2 => ProviderPreset {
            kind: "oauth2".into(),
            display_name: "OAuth 2.0".into(),
            slug: "oauth2".into(),
            discovery_url: None,
            authorize_url: None,
            token_url: None,
            userinfo_url: None,
            revocation_url: None,
            scopes: Vec::new(),
            field_map: json!({
                "id": "id",
                "email": "email",
                "email_verified": "email_verified",
                "name": "name",
                "avatar": "picture",
            }),
            help: "A plain OAuth 2.0 provider: give its endpoints and where the user info holds each field (dotted paths such as data.user.id).".into(),
            redirect_uri: String::new(),
        },
    }
}

pub fn presets(state: &AppState) -> Vec<ProviderPreset> {
    Kind::ALL
        .iter()
        .map(|k| {
            let mut preset = preset(&state.config, *k);
            preset.redirect_uri = redirect_uri(state, &preset.slug);
            preset
        })
        .collect()
}

// --- From the environment -----------------------------------------------------------------------

/// Writes `GOOGLE_*`, `GITHUB_*` and `DISCORD_*` providers into the database, and hands
/// providers whose settings were removed over to the admins (switched off). A provider an
/// admin made under the same slug is left alone: taking it over would let the identities it
/// holds be matched against another provider's accounts.
pub async fn sync_from_env(state: &AppState) -> Result<(), String> {
    let config = &state.config;
    let clients: [(Kind, &Option<OAuthClient>, &str); 3] = [
        (Kind::Google, &config.providers.google, "GOOGLE_CLIENT_ID"),
        (Kind::Github, &config.providers.github, "GITHUB_CLIENT_ID"),
        (
            Kind::Discord,
            &config.providers.discord,
            "DISCORD_CLIENT_ID",
        ),
    ];
    let mut kept = Vec::new();
    for (kind, client, var) in clients {
        let Some(client) = client else { continue };
        let preset = preset(config, kind);
        let existing = db::providers::find(&state.db, &preset.slug)
            .await
            .map_err(|e| e.to_string())?;
        if existing.as_ref().is_some_and(|row| row.source == "admin") {
            tracing::warn!(
                slug = %preset.slug,
                "{var} is set, but an admin added a provider named `{}`; the environment's is not used until that one is deleted",
                preset.slug
            );
            continue;
        }
        let sealed = state
            .cipher
            .seal(
                &secret_context(&preset.slug),
                client.client_secret.as_bytes(),
            )
            .map_err(|e| e.to_string())?;
        db::providers::upsert_from_env(
            &state.db,
            ProviderWrite {
                slug: &preset.slug,
                kind: kind.as_str(),
                display_name: &preset.display_name,
                client_id: &client.client_id,
                client_secret: &sealed,
                discovery_url: preset.discovery_url.as_deref(),
                authorize_url: preset.authorize_url.as_deref(),
                token_url: preset.token_url.as_deref(),
                userinfo_url: preset.userinfo_url.as_deref(),
                revocation_url: preset.revocation_url.as_deref(),
                scopes: &preset.scopes,
                field_map: &preset.field_map,
                enabled: true,
                source: "env",
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        kept.push(preset.slug);
    }
    let released = db::providers::release_from_env(&state.db, &kept)
        .await
        .map_err(|e| e.to_string())?;
    if released > 0 {
        tracing::warn!(
            released,
            "sign-in providers whose settings left the environment were switched off; admins may delete them"
        );
    }
    Ok(())
}

// --- Admin CRUD ---------------------------------------------------------------------------------

fn env_var_of(slug: &str) -> &'static str {
    match slug {
        "google" => "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
        "github" => "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET",
        _ => "DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET",
    }
}

fn info(state: &AppState, row: &ProviderRow, linked_accounts: i64) -> ProviderInfo {
    ProviderInfo {
        slug: row.slug.clone(),
        kind: row.kind.clone(),
        display_name: row.display_name.clone(),
        client_id: row.client_id.clone(),
        client_secret_set: !row.client_secret.is_empty(),
        discovery_url: row.discovery_url.clone(),
        authorize_url: row.authorize_url.clone(),
        token_url: row.token_url.clone(),
        userinfo_url: row.userinfo_url.clone(),
        revocation_url: row.revocation_url.clone(),
        scopes: row.scopes.clone(),
        field_map: row.field_map.clone(),
        enabled: row.enabled,
        source: row.source.clone(),
        redirect_uri: redirect_uri(state, &row.slug),
        linked_accounts,
        created_at: row.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        updated_at: row.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

pub async fn list(state: &AppState, _admin: &Admin) -> Result<Vec<ProviderInfo>, AppError> {
    let rows = db::providers::list(&state.db)
        .await
        .map_err(|e| internal("list providers", e))?;
    let counts: BTreeMap<String, i64> = db::identities::count_by_provider(&state.db)
        .await
        .map_err(|e| internal("count identities", e))?
        .into_iter()
        .collect();
    Ok(rows
        .iter()
        .map(|row| info(state, row, counts.get(&row.slug).copied().unwrap_or(0)))
        .collect())
}

pub async fn get(state: &AppState, admin: &Admin, slug: &str) -> Result<ProviderInfo, AppError> {
    list(state, admin)
        .await?
        .into_iter()
        .find(|p| p.slug == slug)
        .ok_or(AppError::NotFound)
}

/// A provider's settings after defaults and checks: every problem is named by its field.
struct Checked {
    kind: Kind,
    display_name: String,
    client_id: String,
    discovery_url: Option<String>,
    authorize_url: Option<String>,
    token_url: Option<String>,
    userinfo_url: Option<String>,
    revocation_url: Option<String>,
    scopes: Vec<String>,
    field_map: Value,
    enabled: bool,
}

const FIELD_MAP_KEYS: [&str; 5] = ["id", "email", "email_verified", "name", "avatar"];

fn check(
    config: &Config,
    kind: Kind,
    request: &ProviderRequest,
    fallback: Option<&ProviderRow>,
    fields: &mut BTreeMap<String, String>,
) -> Checked {
    let preset = preset(config, kind);
    let text = |given: &Option<String>, stored: Option<&String>| -> Option<String> {
        match given {
            Some(v) => Some(v.trim().to_owned()).filter(|v| !v.is_empty()),
            None => stored.cloned(),
        }
    };
    let display_name = text(&request.display_name, fallback.map(|f| &f.display_name))
        .unwrap_or_else(|| preset.display_name.clone());
    if display_name.chars().count() > 60 {
        fields.insert("display_name".into(), "must be 1 to 60 characters".into());
    }
    let client_id = text(&request.client_id, fallback.map(|f| &f.client_id)).unwrap_or_default();
    if client_id.is_empty() || client_id.len() > 500 {
        fields.insert(
            "client_id".into(),
            "is required (at most 500 characters)".into(),
        );
    }
    // An endpoint given, else the stored one, else the preset's.
    let mut url = |field: &'static str,
                   given: &Option<String>,
                   stored: Option<&Option<String>>,
                   preset: &Option<String>,
                   required: bool| {
        let value = match given {
            Some(v) => Some(v.trim().to_owned()).filter(|v| !v.is_empty()),
            None => stored.cloned().flatten(),
        }
        .or_else(|| preset.clone());
        match &value {
            Some(v) => {
                if let Some(problem) = url_problem(config, v) {
                    fields.insert(field.into(), problem);
                }
            }
            None if required => {
                fields.insert(
                    field.into(),
                    format!("is required for a {} provider", kind.as_str()),
                );
            }
            None => {}
        }
        value
    };
    let oidc = kind.is_oidc();
    // OpenID providers take their endpoints from discovery; the others name them.
    let [discovery_url, authorize_url, token_url, userinfo_url, revocation_url] = [
        (
            "discovery_url",
            &request.discovery_url,
            fallback.map(|f| &f.discovery_url),
            &preset.discovery_url,
            oidc,
        ),
        (
            "authorize_url",
            &request.authorize_url,
            fallback.map(|f| &f.authorize_url),
            &preset.authorize_url,
            !oidc,
        ),
        (
            "token_url",
            &request.token_url,
            fallback.map(|f| &f.token_url),
            &preset.token_url,
            !oidc,
        ),
        (
            "userinfo_url",
            &request.userinfo_url,
            fallback.map(|f| &f.userinfo_url),
            &preset.userinfo_url,
            !oidc,
        ),
        (
            "revocation_url",
            &request.revocation_url,
            fallback.map(|f| &f.revocation_url),
            &preset.revocation_url,
            false,
        ),
    ]
    .map(|(field, given, stored, preset, required)| url(field, given, stored, preset, required));
    let scopes = match &request.scopes {
        Some(scopes) => scopes
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        None => fallback.map_or_else(|| preset.scopes.clone(), |f| f.scopes.clone()),
    };
    if scopes.iter().any(|s: &String| {
        s.len() > 200
            || s.chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '\\')
    }) {
        fields.insert(
            "scopes".into(),
            "each scope is one word without spaces or quotes".into(),
        );
    }
    let field_map = match &request.field_map {
        Some(map) => map.clone(),
        None => fallback.map_or_else(|| preset.field_map.clone(), |f| f.field_map.clone()),
    };
    if kind == Kind::OAuth2 {
        match field_map.as_object() {
            Some(map)
                if map.iter().all(|(k, v)| {
                    FIELD_MAP_KEYS.contains(&k.as_str())
                        && v.as_str().is_some_and(|p| !p.is_empty() && p.len() <= 200)
                }) && map.get("id").is_some() => {}
            _ => {
                fields.insert(
                    "field_map".into(),
                    "must map id (and optionally email, email_verified, name, avatar) to paths in the user info, such as {\"id\": \"data.user.id\"}".into(),
                );
            }
        }
    }
    Checked {
        kind,
        display_name,
        client_id,
        discovery_url,
        authorize_url,
        token_url,
        userinfo_url,
        revocation_url,
        scopes,
        field_map,
        enabled: request
            .enabled
            .unwrap_or_else(|| fallback.is_none_or(|f| f.enabled)),
    }
}

/// Plain http is for providers on this machine (and for development): anything else would
/// send the client secret and the codes in the clear.
fn url_problem(config: &Config, raw: &str) -> Option<String> {
    let Ok(uri) = raw.parse::<axum::http::Uri>() else {
        return Some("is not a URL".into());
    };
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => None,
        Some("http") if !host.is_empty() => {
            let loopback = host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            (config.is_production() && !loopback)
                .then(|| "must use https (plain http only reaches this machine)".into())
        }
        _ => Some("must be an https:// URL".into()),
    }
}

fn slug_problem(slug: &str) -> Option<&'static str> {
    let ok = (1..=32).contains(&slug.len())
        && slug.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (!ok).then_some(
        "must be 1 to 32 lowercase letters, digits or '-', starting with a letter or digit",
    )
}

fn invalid(fields: BTreeMap<String, String>) -> Result<(), AppError> {
    if fields.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation {
            message: "Some fields need attention.".into(),
            fields,
        })
    }
}

pub async fn create(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    request: ProviderRequest,
) -> Result<ProviderInfo, AppError> {
    let mut fields = BTreeMap::new();
    let kind = match request.kind.as_deref().map(str::trim) {
        Some(raw) => Kind::parse(raw),
        None => None,
    };
    let Some(kind) = kind else {
        fields.insert(
            "kind".into(),
            "must be one of google, github, discord, oidc, oauth2".into(),
        );
        return invalid(fields).map(|_| unreachable!("fields is not empty"));
    };
    let slug = request
        .slug
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map_or_else(|| preset(&state.config, kind).slug, str::to_owned);
    if let Some(problem) = slug_problem(&slug) {
        fields.insert("slug".into(), problem.into());
    }
    let secret = request
        .client_secret
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if secret.is_empty() || secret.len() > 2000 {
        fields.insert(
            "client_secret".into(),
            "is required (at most 2000 characters)".into(),
        );
    }
    let checked = check(&state.config, kind, &request, None, &mut fields);
    invalid(fields)?;
    let sealed = state
        .cipher
        .seal(&secret_context(&slug), secret.as_bytes())
        .map_err(|e| internal("seal client secret", e))?;
    let inserted = db::providers::insert(&state.db, write(&slug, &checked, &sealed, "admin"))
        .await
        .map_err(|e| internal("insert provider", e))?;
    if !inserted {
        return Err(AppError::field(
            "slug",
            "is already used by another provider",
        ));
    }
    super::super::service::audit(
        state,
        Some(admin.id()),
        "admin.provider_created",
        Some(&slug),
        client,
        json!({ "kind": kind.as_str(), "enabled": checked.enabled }),
    )
    .await?;
    get(state, admin, &slug).await
}

fn write<'a>(
    slug: &'a str,
    c: &'a Checked,
    sealed: &'a [u8],
    source: &'a str,
) -> ProviderWrite<'a> {
    ProviderWrite {
        slug,
        kind: c.kind.as_str(),
        display_name: &c.display_name,
        client_id: &c.client_id,
        client_secret: sealed,
        discovery_url: c.discovery_url.as_deref(),
        authorize_url: c.authorize_url.as_deref(),
        token_url: c.token_url.as_deref(),
        userinfo_url: c.userinfo_url.as_deref(),
        revocation_url: c.revocation_url.as_deref(),
        scopes: &c.scopes,
        field_map: &c.field_map,
        enabled: c.enabled,
        source,
    }
}

pub async fn update(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    slug: &str,
    request: ProviderRequest,
) -> Result<ProviderInfo, AppError> {
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    let row = db::providers::lock(&mut tx, slug)
        .await
        .map_err(|e| internal("lock provider", e))?
        .ok_or(AppError::NotFound)?;
    let mut fields = BTreeMap::new();
    if request
        .slug
        .as_deref()
        .is_some_and(|s| s.trim() != row.slug)
    {
        fields.insert(
            "slug".into(),
            "cannot change: it is part of the redirect URI registered at the provider".into(),
        );
    }
    if request
        .kind
        .as_deref()
        .is_some_and(|k| k.trim() != row.kind)
    {
        fields.insert(
            "kind".into(),
            "cannot change: add a new provider instead".into(),
        );
    }
    invalid(std::mem::take(&mut fields))?;
    if row.source == "env" {
        let only_enabled = ProviderRequest {
            enabled: request.enabled,
            ..ProviderRequest::default()
        };
        if request != only_enabled {
            return Err(AppError::Conflict {
                message: format!(
                    "This provider comes from the environment ({}): change it there. Here it can only be switched on or off.",
                    env_var_of(&row.slug)
                ),
            });
        }
    }
    let kind = Kind::parse(&row.kind)
        .ok_or_else(|| internal("provider kind", format!("unknown kind {}", row.kind)))?;
    let checked = check(&state.config, kind, &request, Some(&row), &mut fields);
    invalid(fields)?;
    let sealed = match request
        .client_secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(secret) if secret.len() > 2000 => {
            return Err(AppError::field(
                "client_secret",
                "must be at most 2000 characters",
            ))
        }
        Some(secret) => state
            .cipher
            .seal(&secret_context(&row.slug), secret.as_bytes())
            .map_err(|e| internal("seal client secret", e))?,
        None => row.client_secret.clone(),
    };
    db::providers::update(&mut *tx, write(&row.slug, &checked, &sealed, &row.source))
        .await
        .map_err(|e| internal("update provider", e))?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    state.oauth.forget(&row.slug);
    super::super::service::audit(
        state,
        Some(admin.id()),
        "admin.provider_updated",
        Some(&row.slug),
        client,
        json!({
            "enabled": checked.enabled,
            "secret_changed": request.client_secret.as_deref().is_some_and(|s| !s.trim().is_empty()),
        }),
    )
    .await?;
    get(state, admin, &row.slug).await
}

/// Deletes a provider. With accounts linked to it the caller must choose to unlink them
/// (`unlink_linked`), and even then it is refused while any of them would be left without a
/// way to sign in.
pub async fn delete(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    slug: &str,
    unlink_linked: bool,
) -> Result<(), AppError> {
    let row = db::providers::find(&state.db, slug)
        .await
        .map_err(|e| internal("load provider", e))?
        .ok_or(AppError::NotFound)?;
    if row.source == "env" {
        return Err(AppError::Conflict {
            message: format!(
                "This provider comes from the environment ({}): remove those settings and restart Slipway first.",
                env_var_of(slug)
            ),
        });
    }
    let removed = super::identities::remove_provider(state, slug, unlink_linked).await?;
    state.oauth.forget(slug);
    super::super::service::audit(
        state,
        Some(admin.id()),
        "admin.provider_deleted",
        Some(slug),
        client,
        json!({ "unlinked_accounts": removed }),
    )
    .await
}

/// "Test connection": a fresh discovery for OpenID providers; for the others, a code the
/// token endpoint must refuse, which shows whether it is reachable and takes the client's
/// credentials (`invalid_client` means it does not).
pub async fn test(
    state: &AppState,
    _admin: &Admin,
    slug: &str,
) -> Result<crate::features::admin::types::ProviderTestResult, AppError> {
    use crate::features::admin::types::ProviderTestResult;
    let provider = load(state, slug).await?.ok_or(AppError::NotFound)?;
    let failed = |message: String| ProviderTestResult {
        ok: false,
        message,
        issuer: None,
        authorization_endpoint: None,
        token_endpoint: None,
        signing_keys: 0,
    };
    if provider.kind.is_oidc() {
        return Ok(match state.oauth.discover(&provider, true).await {
            Ok(d) => ProviderTestResult {
                ok: true,
                message: format!(
                    "Discovery works: {} signing key(s).",
                    d.metadata.jwks().keys().len()
                ),
                issuer: Some(d.metadata.issuer().as_str().to_owned()),
                authorization_endpoint: Some(
                    d.metadata.authorization_endpoint().as_str().to_owned(),
                ),
                token_endpoint: d.metadata.token_endpoint().map(|u| u.as_str().to_owned()),
                signing_keys: d.metadata.jwks().keys().len(),
            },
            Err(e) => failed(format!("Discovery failed: {e}")),
        });
    }
    let Some(token_url) = provider.token_url.clone() else {
        return Ok(failed("No token URL is configured.".into()));
    };
    let redirect = redirect_uri(state, slug);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "slipway-connection-test"),
        ("redirect_uri", redirect.as_str()),
    ];
    let mut request = state
        .oauth
        .http
        .post(&token_url)
        .header(reqwest::header::ACCEPT, "application/json");
    request = if provider.kind == Kind::Github {
        let mut body = form.to_vec();
        body.push(("client_id", &provider.client_id));
        body.push(("client_secret", &provider.client_secret));
        request.form(&body)
    } else {
        request
            .basic_auth(&provider.client_id, Some(&provider.client_secret))
            .form(&form)
    };
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return Ok(failed(format!(
                "The token endpoint cannot be reached: {}.",
                super::oidc::plain(&e)
            )))
        }
    };
    let status = response.status();
    let error = response
        .json::<Value>()
        .await
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
    Ok(match error.as_deref() {
        Some("invalid_client" | "incorrect_client_credentials" | "unauthorized_client") => {
            failed("The provider refused the client id or secret.".into())
        }
        Some(code) => ProviderTestResult {
            ok: true,
            message: format!(
                "The token endpoint answers and took the client's credentials (it refused the test code with {code}, as it should)."
            ),
            issuer: None,
            authorization_endpoint: provider.authorize_url.clone(),
            token_endpoint: Some(token_url),
            signing_keys: 0,
        },
        None => failed(format!(
            "The token endpoint answered {status} without an OAuth error: is the URL right?"
        )),
    })
}
