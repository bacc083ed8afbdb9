use serde::{Deserialize, Serialize};

use crate::features::auth::types::Role;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserPage {
    pub users: Vec<UserSummary>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    pub username: String,
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub role: Option<Role>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordResetRequest {
    /// The new password; when absent, Slipway makes one and returns it once.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordReset {
    /// Only present when Slipway generated the password.
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RegistrationPolicy {
    Open,
    Invite,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegistrationSetting {
    pub policy: RegistrationPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateInviteRequest {
    /// Hours until the link stops working (1 to 720; default 72).
    #[serde(default)]
    pub expires_in_hours: Option<u32>,
}

/// A new single-use invite. The token is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Invite {
    pub token: String,
    /// The registration page with the invite filled in, relative to this server.
    pub path: String,
    pub expires_at: String,
}

/// A sign-in provider as admins see it: never its client secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderInfo {
    pub slug: String,
    /// `google`, `github`, `discord`, `oidc` or `oauth2`.
    pub kind: String,
    pub display_name: String,
    pub client_id: String,
    /// Whether a client secret is stored (it is never shown).
    pub client_secret_set: bool,
    pub discovery_url: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub revocation_url: Option<String>,
    pub scopes: Vec<String>,
    pub field_map: serde_json::Value,
    pub enabled: bool,
    /// `env` (from GOOGLE_*, GITHUB_*, DISCORD_*: change it there) or `admin`.
    pub source: String,
    /// The exact URI to register at the provider.
    pub redirect_uri: String,
    /// Accounts linked through this provider.
    pub linked_accounts: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/v1/admin/providers` and, with every field optional, `PATCH …/{slug}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderRequest {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Write-only. On PATCH, absent or empty keeps the stored secret.
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub discovery_url: Option<String>,
    #[serde(default)]
    pub authorize_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub userinfo_url: Option<String>,
    #[serde(default)]
    pub revocation_url: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub field_map: Option<serde_json::Value>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// What a preset fills in for a kind of provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderPreset {
    pub kind: String,
    pub display_name: String,
    pub slug: String,
    pub discovery_url: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub revocation_url: Option<String>,
    pub scopes: Vec<String>,
    pub field_map: serde_json::Value,
    /// Where the operator creates the client, and what to know.
    pub help: String,
    /// The redirect URI for the preset's slug (another slug replaces it in the path).
    pub redirect_uri: String,
}

/// The answer of "Test connection": a fresh discovery of an OpenID provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderTestResult {
    pub ok: bool,
    pub message: String,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub signing_keys: usize,
}

/// The admin page's provider form, as the browser sends it: every field text, scopes on one
/// line, the field map as JSON text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderForm {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub discovery_url: Option<String>,
    #[serde(default)]
    pub authorize_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub userinfo_url: Option<String>,
    #[serde(default)]
    pub revocation_url: Option<String>,
    #[serde(default)]
    pub scopes: Option<String>,
    #[serde(default)]
    pub field_map: Option<String>,
}

impl ProviderForm {
    /// The API request this form stands for. Blank optional URLs clear the stored value.
    pub fn into_request(self) -> Result<ProviderRequest, crate::error::AppError> {
        let field_map = match self
            .field_map
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            None => None,
            Some(text) => Some(serde_json::from_str(text).map_err(|_| {
                crate::error::AppError::field(
                    "field_map",
                    "is not JSON, such as {\"id\": \"data.user.id\"}",
                )
            })?),
        };
        let url = |v: Option<String>| Some(v.unwrap_or_default());
        Ok(ProviderRequest {
            kind: self.kind,
            slug: self.slug,
            display_name: self.display_name,
            client_id: self.client_id,
            client_secret: self.client_secret,
            discovery_url: url(self.discovery_url),
            authorize_url: url(self.authorize_url),
            token_url: url(self.token_url),
            userinfo_url: url(self.userinfo_url),
            revocation_url: url(self.revocation_url),
            scopes: self
                .scopes
                .map(|s| s.split_whitespace().map(str::to_owned).collect()),
            field_map,
            enabled: None,
        })
    }
}

/// One role-connection metadata record, as Discord defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiscordMetadataRecord {
    pub key: String,
    pub name: String,
    pub description: String,
    /// 1-8: integer ≤, ≥, =, ≠; datetime ≤, ≥ (days); boolean =, ≠.
    #[serde(rename = "type")]
    pub kind: u8,
}

/// A member whose role connection Discord did not take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiscordFailure {
    pub username: String,
    pub attempts: i32,
    pub last_error: String,
    /// Discord refused the grant: no retries until the member connects again.
    pub refused: bool,
    pub next_attempt_at: String,
}

/// `/admin/discord`: what Slipway would register next to what Discord has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiscordStatus {
    pub application_id: Option<String>,
    pub bot_token_set: bool,
    pub public_key_set: bool,
    /// The URL for the developer portal's "Linked Roles Verification URL".
    pub verification_url: String,
    /// The URL for the portal's "Interactions Endpoint URL".
    pub interactions_url: String,
    pub slipway_metadata: Vec<DiscordMetadataRecord>,
    /// What Discord has registered (`None` when it could not be read).
    pub discord_metadata: Option<Vec<DiscordMetadataRecord>>,
    pub discord_error: Option<String>,
    pub failures: Vec<DiscordFailure>,
}

/// `GET /api/v1/audit` filters; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct AuditFilter {
    /// Entries older than this entry id (the next page).
    #[serde(default)]
    pub before: Option<i64>,
    /// An action (`login.failed`) or a family (`login`, `deployment`, `admin`).
    #[serde(default)]
    pub action: Option<String>,
    /// Who acted, by username.
    #[serde(default)]
    pub actor: Option<String>,
    /// What it was done to (a username, a deployment's subdomain, a provider's slug…).
    #[serde(default)]
    pub subject: Option<String>,
    /// RFC 3339: entries at or after.
    #[serde(default)]
    pub since: Option<String>,
    /// RFC 3339: entries before.
    #[serde(default)]
    pub until: Option<String>,
    /// At most this many (1 to 200; default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}
