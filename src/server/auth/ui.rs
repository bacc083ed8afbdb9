//! The bridge from the server functions (which find the request in Leptos' context) to the
//! same service functions the REST API calls.

use tower_sessions::Session;

use super::{
    admin, oauth,
    service::{self, Client},
    sessions, tokens,
};
use crate::{
    error::AppError,
    features::{
        admin::types::{
            AuditEntry, CreateInviteRequest, CreateUserRequest, Invite, PasswordReset,
            PasswordResetRequest, ProviderInfo, ProviderPreset, ProviderRequest,
            ProviderTestResult, RegistrationPolicy, UpdateUserRequest, UserPage, UserSummary,
        },
        auth::{
            next::safe_next,
            types::{
                ChangePasswordRequest, CreateTokenRequest, CreatedToken, LoginRequest, Me,
                ProviderButton, RegisterRequest, RegistrationState, SessionInfo, SignInMethods,
                TokenInfo,
            },
        },
    },
    server::{context::app_state, error::internal, AppState},
};

pub(crate) async fn request() -> Result<(AppState, Session, Client), AppError> {
    let state = app_state()?;
    let session: Session = leptos_axum::extract()
        .await
        .map_err(|e| internal("session from request", e))?;
    let client: Client = leptos_axum::extract()
        .await
        .map_err(|e| internal("client from request", e))?;
    Ok((state, session, client))
}

pub async fn current_user() -> Result<Option<Me>, AppError> {
    let (state, session, _) = request().await?;
    match service::current_user(&state, &session).await {
        Ok(user) => Ok(Some(service::me(&user))),
        Err(AppError::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn login(login: String, password: String, next: Option<String>) -> Result<Me, AppError> {
    let (state, session, client) = request().await?;
    let me = service::login(&state, &session, &client, LoginRequest { login, password }).await?;
    // Without JavaScript the form post follows this redirect; with it, the router does.
    leptos_axum::redirect(safe_next(next.as_deref().unwrap_or("/")));
    Ok(me)
}

pub async fn logout() -> Result<(), AppError> {
    let (state, session, client) = request().await?;
    service::logout(&state, &session, &client).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

pub async fn register(
    request_body: RegisterRequest,
    password_confirm: String,
) -> Result<Me, AppError> {
    if request_body.password != password_confirm {
        return Err(AppError::field(
            "password_confirm",
            "does not match the password",
        ));
    }
    let (state, session, client) = request().await?;
    let me = service::register(&state, &session, &client, request_body).await?;
    leptos_axum::redirect("/");
    Ok(me)
}

pub async fn registration_state() -> Result<RegistrationState, AppError> {
    let state = app_state()?;
    let first_account = !crate::server::db::users::any_exist(&state.db)
        .await
        .map_err(|e| internal("count users", e))?;
    let policy = service::registration_policy(&state).await?;
    Ok(RegistrationState {
        first_account,
        open: first_account || policy == RegistrationPolicy::Open,
        invite_only: !first_account && policy == RegistrationPolicy::Invite,
    })
}

pub async fn my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let (state, session, _) = request().await?;
    let user = service::current_user(&state, &session).await?;
    sessions::list(&state, &user, &session).await
}

pub async fn revoke_session(id: String) -> Result<(), AppError> {
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    sessions::revoke(&state, &user, &session, &client, &id).await
}

pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm: String,
) -> Result<(), AppError> {
    if new_password != confirm {
        return Err(AppError::field(
            "confirm",
            "does not match the new password",
        ));
    }
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    sessions::change_password(
        &state,
        &user,
        &session,
        &client,
        ChangePasswordRequest {
            current_password,
            new_password,
        },
    )
    .await
}

/// The caller as an [`admin::Admin`], or 401/403.
async fn admin_request() -> Result<(AppState, admin::Admin, Client), AppError> {
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    Ok((state, admin::require_admin(user)?, client))
}

pub async fn admin_list_users(query: String, page: u32) -> Result<UserPage, AppError> {
    let (state, admin, _) = admin_request().await?;
    admin::list_users(&state, &admin, &query, page).await
}

pub async fn admin_create_user(request: CreateUserRequest) -> Result<UserSummary, AppError> {
    let (state, admin, client) = admin_request().await?;
    admin::create_user(&state, &admin, &client, request).await
}

pub async fn admin_update_user(
    id: String,
    request: UpdateUserRequest,
) -> Result<UserSummary, AppError> {
    let (state, admin, client) = admin_request().await?;
    admin::update_user(&state, &admin, &client, &id, request).await
}

pub async fn admin_reset_password(id: String) -> Result<PasswordReset, AppError> {
    let (state, admin, client) = admin_request().await?;
    admin::reset_password(
        &state,
        &admin,
        &client,
        &id,
        PasswordResetRequest::default(),
    )
    .await
}

pub async fn admin_delete_user(id: String) -> Result<(), AppError> {
    let (state, admin, client) = admin_request().await?;
    admin::delete_user(&state, &admin, &client, &id).await
}

pub async fn admin_registration() -> Result<RegistrationPolicy, AppError> {
    let (state, _, _) = admin_request().await?;
    service::registration_policy(&state).await
}

pub async fn admin_set_registration(
    policy: RegistrationPolicy,
) -> Result<RegistrationPolicy, AppError> {
    let (state, admin, client) = admin_request().await?;
    admin::set_registration(&state, &admin, &client, policy).await
}

pub async fn admin_create_invite(expires_in_hours: Option<u32>) -> Result<Invite, AppError> {
    let (state, admin, client) = admin_request().await?;
    admin::create_invite(
        &state,
        &admin,
        &client,
        CreateInviteRequest { expires_in_hours },
    )
    .await
}

pub async fn admin_audit(
    filter: crate::features::admin::types::AuditFilter,
) -> Result<Vec<AuditEntry>, AppError> {
    let (state, admin, _) = admin_request().await?;
    admin::audit_log(&state, &admin, filter).await
}

pub async fn my_tokens() -> Result<Vec<TokenInfo>, AppError> {
    let (state, session, _) = request().await?;
    let user = service::current_user(&state, &session).await?;
    tokens::list(&state, &user).await
}

pub async fn create_token(name: String) -> Result<CreatedToken, AppError> {
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    tokens::create(&state, &user, &client, CreateTokenRequest { name }).await
}

pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    tokens::revoke(&state, &user, &client, &id).await
}

pub async fn sign_in_providers() -> Result<Vec<ProviderButton>, AppError> {
    let state = app_state()?;
    oauth::providers::buttons(&state).await
}

pub async fn sign_in_methods() -> Result<SignInMethods, AppError> {
    let (state, session, _) = request().await?;
    let user = service::current_user(&state, &session).await?;
    oauth::identities::methods(&state, &user, &session).await
}

pub async fn unlink_identity(slug: String) -> Result<(), AppError> {
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    oauth::identities::unlink(&state, &user, &session, &client, &slug).await
}

pub async fn reauthenticate(password: String) -> Result<(), AppError> {
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    oauth::identities::confirm_with_password(&state, &user, &session, &client, password).await
}

pub async fn set_password(new_password: String, confirm: String) -> Result<(), AppError> {
    if new_password != confirm {
        return Err(AppError::field(
            "confirm",
            "does not match the new password",
        ));
    }
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    oauth::identities::set_first_password(&state, &user, &session, &client, new_password).await
}

pub async fn admin_providers() -> Result<Vec<ProviderInfo>, AppError> {
    let (state, admin, _) = admin_request().await?;
    oauth::providers::list(&state, &admin).await
}

pub async fn admin_provider_presets() -> Result<Vec<ProviderPreset>, AppError> {
    let (state, _, _) = admin_request().await?;
    Ok(oauth::providers::presets(&state))
}

pub async fn admin_create_provider(request: ProviderRequest) -> Result<ProviderInfo, AppError> {
    let (state, admin, client) = admin_request().await?;
    oauth::providers::create(&state, &admin, &client, request).await
}

pub async fn admin_update_provider(
    slug: String,
    request: ProviderRequest,
) -> Result<ProviderInfo, AppError> {
    let (state, admin, client) = admin_request().await?;
    oauth::providers::update(&state, &admin, &client, &slug, request).await
}

pub async fn admin_delete_provider(slug: String, unlink_linked: bool) -> Result<(), AppError> {
    let (state, admin, client) = admin_request().await?;
    oauth::providers::delete(&state, &admin, &client, &slug, unlink_linked).await
}

pub async fn admin_test_provider(slug: String) -> Result<ProviderTestResult, AppError> {
    let (state, admin, _) = admin_request().await?;
    oauth::providers::test(&state, &admin, &slug).await
}

pub async fn my_discord() -> Result<crate::features::auth::types::DiscordConnection, AppError> {
    let (state, session, _) = request().await?;
    let user = service::current_user(&state, &session).await?;
    crate::server::discord::roles::status(&state, &user).await
}

pub async fn refresh_discord() -> Result<(), AppError> {
    let (state, session, _) = request().await?;
    let user = service::current_user(&state, &session).await?;
    crate::server::discord::roles::refresh(&state, &user).await
}

pub async fn admin_discord() -> Result<crate::features::admin::types::DiscordStatus, AppError> {
    let (state, admin, _) = admin_request().await?;
    crate::server::discord::metadata::status(&state, &admin).await
}

pub async fn admin_register_discord_metadata(
) -> Result<Vec<crate::features::admin::types::DiscordMetadataRecord>, AppError> {
    let (state, admin, client) = admin_request().await?;
    crate::server::discord::metadata::register_as(&state, &admin, &client).await
}

pub async fn admin_register_discord_commands() -> Result<usize, AppError> {
    let (state, admin, client) = admin_request().await?;
    let commands =
        crate::server::discord::interactions::register_as(&state, &admin, &client).await?;
    Ok(commands.as_array().map_or(0, Vec::len))
}

pub async fn update_profile(display_name: String, email: String) -> Result<Me, AppError> {
    let (state, session, client) = request().await?;
    let user = service::current_user(&state, &session).await?;
    super::profile::update(
        &state,
        &user,
        &session,
        &client,
        crate::features::auth::types::UpdateProfileRequest {
            display_name: Some(display_name),
            email: Some(email),
        },
    )
    .await
}
