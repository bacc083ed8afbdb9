use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    pub username: String,
    pub email: String,
    pub password: String,
    /// Required for the first account, which becomes the admin.
    #[serde(default)]
    pub setup_token: Option<String>,
    /// An invite token, which lets a person register while the policy is `invite`.
    #[serde(default)]
    pub invite: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Username or email address.
    pub login: String,
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

/// The signed-in account, as `GET /api/v1/me` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: String,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// False for accounts made through a sign-in provider that never set a password.
    #[serde(default)]
    pub has_password: bool,
}

/// One signed-in session of the current user, as the sessions list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// Opaque; not the session's cookie value.
    pub id: String,
    pub signed_in_at: String,
    pub last_seen_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    /// Required, unless the account has no password yet (made through a provider): then the
    /// new one is its first, which needs a recent sign-in or confirmation.
    #[serde(default)]
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateTokenRequest {
    pub name: String,
}

/// A personal API token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// The answer to creating a token: the only time the token is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: String,
}

/// What the register page needs to know before showing the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegistrationState {
    /// No account exists: the form asks for the setup token and makes an admin.
    pub first_account: bool,
    /// Anyone may register (first account, or policy `open`).
    pub open: bool,
    /// Registration needs an invite link.
    pub invite_only: bool,
}

/// An enabled sign-in provider, as the login page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderButton {
    pub slug: String,
    pub display_name: String,
    /// `google`, `github`, `discord`, `oidc` or `oauth2`.
    pub kind: String,
}

/// A provider account linked to mine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkedIdentity {
    /// The provider's slug.
    pub provider: String,
    pub provider_name: String,
    pub kind: String,
    /// The name, email and picture the provider last told us.
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub linked_at: String,
    pub last_login_at: Option<String>,
}

/// How I can sign in, for the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInMethods {
    pub has_password: bool,
    pub identities: Vec<LinkedIdentity>,
    /// Enabled providers I have not linked yet.
    pub available: Vec<ProviderButton>,
    /// Whether I confirmed who I am in the last 10 minutes (needed to change these).
    pub recently_confirmed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReauthenticateRequest {
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetPasswordRequest {
    pub new_password: String,
}

/// Why a sign-in through a provider was refused, by the code in `?oauth_error=`: one fixed
/// sentence each, so nothing the provider or the URL says is ever shown as is.
pub fn oauth_error_message(code: &str) -> &'static str {
    match code {
        "state_missing" | "state_invalid" => {
            "That sign-in link is not valid any more: it was used already, has expired or was not started here. Please try again."
        }
        "state_browser" => {
            "That sign-in was started in another browser. Start it again from this one."
        }
        "provider_mismatch" => "That answer came from a different provider than the one you chose. Please try again.",
        "provider_error" => "The provider did not complete the sign-in. Please try again.",
        "access_denied" => "You cancelled the sign-in at the provider.",
        "provider_unavailable" => "The provider could not be reached or gave an answer Slipway could not use. Please try again later.",
        "token_invalid" => "The provider's answer could not be verified, so it was refused.",
        "unknown_provider" => "That sign-in provider is not available.",
        "account_exists" => {
            "An account with this email address already exists. Sign in with your password, then link this provider from your account page."
        }
        "email_unverified" => "The provider has not verified your email address, so no account can be made from it.",
        "email_missing" => "The provider did not share an email address, so no account can be made from it.",
        "registration_closed" => "Registration is closed: ask an admin for an account.",
        "invite_required" => "Registration needs an invite link from an admin.",
        "invite_invalid" => "That invite link is not valid: it may have been used or have expired.",
        "account_disabled" => "This account is disabled.",
        "identity_taken" => "That provider account is already linked to another Slipway account.",
        "already_linked" => "You have already linked an account of this provider.",
        "not_linked" => "That provider account is not linked to your Slipway account.",
        "reauth_required" => "Confirm it is you first: this change needs a sign-in from the last 10 minutes.",
        "reauth_stale" => "The provider did not confirm a fresh sign-in. Please try again.",
        "signed_out" => "You were signed out before the provider answered. Sign in and try again.",
        "use_password" => "This account has a password: confirm with it instead.",
        "discord_push_failed" => {
            "Your Discord account is linked, but Discord did not take your roles yet. Slipway keeps trying."
        }
        _ => "The sign-in could not be completed. Please try again.",
    }
}

/// My Discord role connection (Linked Roles), for the account page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiscordConnection {
    /// Linked Roles are set up on this server (a Discord sign-in client exists).
    pub available: bool,
    /// A Discord account is linked to mine.
    pub linked: bool,
    /// Discord holds a role connection of mine that Slipway keeps current.
    pub connected: bool,
    /// What Discord was last told, by metadata key.
    pub values: Option<serde_json::Value>,
    pub pushed_at: Option<String>,
    /// A change is waiting to be sent.
    pub pending: bool,
    pub last_error: Option<String>,
    /// Discord refused the grant: connect again from the verification URL.
    pub refused: bool,
    /// Where to (re)connect: the verification URL.
    pub connect_url: String,
}

/// `PATCH /api/v1/me`: what I may change about myself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateProfileRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    /// A new address needs a sign-in or confirmation from the last 10 minutes.
    #[serde(default)]
    pub email: Option<String>,
}
