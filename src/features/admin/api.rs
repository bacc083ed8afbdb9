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
pub async fn audit(before: Option<i64>) -> Result<Vec<AuditEntry>, AppError> {
    crate::server::auth::ui::admin_audit(before).await
}
