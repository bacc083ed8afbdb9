//! Server functions for the admin pages: each one line into `server::auth::ui`.

use leptos::prelude::*;

use super::types::{AuditEntry, Invite, PasswordReset, RegistrationPolicy, UserPage, UserSummary};
use crate::{error::AppError, features::auth::types::Role};

#[server(prefix = "/rpc", endpoint = "admin_list_users")]
pub async fn list_users(query: String, page: u32) -> Result<UserPage, AppError> {
    crate::server::auth::ui::admin_list_users(query, page).await
}

#[server(prefix = "/rpc", endpoint = "admin_create_user")]
pub async fn create_user(
    username: String,
    email: String,
    password: String,
    admin: Option<String>,
) -> Result<UserSummary, AppError> {
    let role = if admin.is_some() {
        Role::Admin
    } else {
        Role::User
    };
    crate::server::auth::ui::admin_create_user(super::types::CreateUserRequest {
        username,
        email,
        password,
        role: Some(role),
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "admin_update_user")]
pub async fn update_user(
    id: String,
    role: Option<Role>,
    disabled: Option<bool>,
    display_name: Option<String>,
    email: Option<String>,
) -> Result<UserSummary, AppError> {
    crate::server::auth::ui::admin_update_user(
        id,
        super::types::UpdateUserRequest {
            role,
            disabled,
            display_name,
            email,
        },
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "admin_reset_password")]
pub async fn reset_password(id: String) -> Result<PasswordReset, AppError> {
    crate::server::auth::ui::admin_reset_password(id).await
}

#[server(prefix = "/rpc", endpoint = "admin_delete_user")]
pub async fn delete_user(id: String) -> Result<(), AppError> {
    crate::server::auth::ui::admin_delete_user(id).await
}

#[server(prefix = "/rpc", endpoint = "admin_registration")]
pub async fn registration() -> Result<RegistrationPolicy, AppError> {
    crate::server::auth::ui::admin_registration().await
}

#[server(prefix = "/rpc", endpoint = "admin_set_registration")]
pub async fn set_registration(policy: RegistrationPolicy) -> Result<RegistrationPolicy, AppError> {
    crate::server::auth::ui::admin_set_registration(policy).await
}

#[server(prefix = "/rpc", endpoint = "admin_create_invite")]
pub async fn create_invite(expires_in_hours: Option<u32>) -> Result<Invite, AppError> {
    crate::server::auth::ui::admin_create_invite(expires_in_hours).await
}

#[server(prefix = "/rpc", endpoint = "admin_audit")]
pub async fn audit(filter: super::types::AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
    crate::server::auth::ui::admin_audit(filter).await
}

#[server(prefix = "/rpc", endpoint = "admin_providers")]
pub async fn providers() -> Result<Vec<super::types::ProviderInfo>, AppError> {
    crate::server::auth::ui::admin_providers().await
}

#[server(prefix = "/rpc", endpoint = "admin_provider_presets")]
pub async fn provider_presets() -> Result<Vec<super::types::ProviderPreset>, AppError> {
    crate::server::auth::ui::admin_provider_presets().await
}

/// Adds a provider (`editing` empty) or changes the one named by `editing`, from the admin
/// page's form.
#[server(prefix = "/rpc", endpoint = "admin_save_provider")]
pub async fn save_provider(
    editing: Option<String>,
    form: super::types::ProviderForm,
) -> Result<super::types::ProviderInfo, AppError> {
    let request = form.into_request()?;
    match editing.filter(|e| !e.is_empty()) {
        Some(slug) => {
            crate::server::auth::ui::admin_update_provider(
                slug,
                super::types::ProviderRequest {
                    kind: None,
                    slug: None,
                    ..request
                },
            )
            .await
        }
        None => crate::server::auth::ui::admin_create_provider(request).await,
    }
}

#[server(prefix = "/rpc", endpoint = "admin_set_provider_enabled")]
pub async fn set_provider_enabled(
    slug: String,
    enabled: bool,
) -> Result<super::types::ProviderInfo, AppError> {
    crate::server::auth::ui::admin_update_provider(
        slug,
        super::types::ProviderRequest {
            enabled: Some(enabled),
            ..Default::default()
        },
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "admin_delete_provider")]
pub async fn delete_provider(slug: String, unlink_linked: Option<bool>) -> Result<(), AppError> {
    crate::server::auth::ui::admin_delete_provider(slug, unlink_linked.unwrap_or(false)).await
}

#[server(prefix = "/rpc", endpoint = "admin_test_provider")]
pub async fn test_provider(slug: String) -> Result<super::types::ProviderTestResult, AppError> {
    crate::server::auth::ui::admin_test_provider(slug).await
}

#[server(prefix = "/rpc", endpoint = "admin_discord")]
pub async fn discord_status() -> Result<super::types::DiscordStatus, AppError> {
    crate::server::auth::ui::admin_discord().await
}

#[server(prefix = "/rpc", endpoint = "admin_register_discord_metadata")]
pub async fn register_discord_metadata(
) -> Result<Vec<super::types::DiscordMetadataRecord>, AppError> {
    crate::server::auth::ui::admin_register_discord_metadata().await
}

/// Returns how many commands Discord now has.
#[server(prefix = "/rpc", endpoint = "admin_register_discord_commands")]
pub async fn register_discord_commands() -> Result<usize, AppError> {
    crate::server::auth::ui::admin_register_discord_commands().await
}
