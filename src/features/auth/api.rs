//! Server functions for the account pages: each one line into `server::auth::ui`.

use leptos::prelude::*;

use super::types::{CreatedToken, Me, RegistrationState, SessionInfo, TokenInfo};
use crate::error::AppError;

#[server(prefix = "/rpc", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    crate::server::auth::ui::current_user().await
}

#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<Me, AppError> {
    crate::server::auth::ui::login(login, password, next).await
}

#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::server::auth::ui::logout().await
}

#[server(prefix = "/rpc", endpoint = "register")]
pub async fn register(
    username: String,
    email: String,
    password: String,
    password_confirm: String,
    setup_token: Option<String>,
    invite: Option<String>,
) -> Result<Me, AppError> {
    crate::server::auth::ui::register(
        crate::features::auth::types::RegisterRequest {
            username,
            email,
            password,
            setup_token,
            invite,
        },
        password_confirm,
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "registration_state")]
pub async fn get_registration_state() -> Result<RegistrationState, AppError> {
    crate::server::auth::ui::registration_state().await
}

#[server(prefix = "/rpc", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    crate::server::auth::ui::my_sessions().await
}

#[server(prefix = "/rpc", endpoint = "revoke_session")]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    crate::server::auth::ui::revoke_session(id).await
}

#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm: String,
) -> Result<(), AppError> {
    crate::server::auth::ui::change_password(current_password, new_password, confirm).await
}

#[server(prefix = "/rpc", endpoint = "my_tokens")]
pub async fn my_tokens() -> Result<Vec<TokenInfo>, AppError> {
    crate::server::auth::ui::my_tokens().await
}

#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(name: String) -> Result<CreatedToken, AppError> {
    crate::server::auth::ui::create_token(name).await
}

#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    crate::server::auth::ui::revoke_token(id).await
}

#[server(prefix = "/rpc", endpoint = "sign_in_providers")]
pub async fn sign_in_providers() -> Result<Vec<super::types::ProviderButton>, AppError> {
    crate::server::auth::ui::sign_in_providers().await
}

#[server(prefix = "/rpc", endpoint = "sign_in_methods")]
pub async fn sign_in_methods() -> Result<super::types::SignInMethods, AppError> {
    crate::server::auth::ui::sign_in_methods().await
}

#[server(prefix = "/rpc", endpoint = "unlink_identity")]
pub async fn unlink_identity(slug: String) -> Result<(), AppError> {
    crate::server::auth::ui::unlink_identity(slug).await
}

#[server(prefix = "/rpc", endpoint = "reauthenticate")]
pub async fn reauthenticate(password: String) -> Result<(), AppError> {
    crate::server::auth::ui::reauthenticate(password).await
}

#[server(prefix = "/rpc", endpoint = "set_password")]
pub async fn set_password(new_password: String, confirm: String) -> Result<(), AppError> {
    crate::server::auth::ui::set_password(new_password, confirm).await
}

#[server(prefix = "/rpc", endpoint = "my_discord")]
pub async fn my_discord() -> Result<super::types::DiscordConnection, AppError> {
    crate::server::auth::ui::my_discord().await
}

#[server(prefix = "/rpc", endpoint = "refresh_discord")]
pub async fn refresh_discord() -> Result<(), AppError> {
    crate::server::auth::ui::refresh_discord().await
}

#[server(prefix = "/rpc", endpoint = "update_profile")]
pub async fn update_profile(display_name: String, email: String) -> Result<Me, AppError> {
    crate::server::auth::ui::update_profile(display_name, email).await
}
