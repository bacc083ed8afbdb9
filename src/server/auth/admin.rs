//! What only admins may do. Every function takes an [`Admin`], which only [`require_admin`]
//! makes: a handler cannot forget the check, because without it the call does not compile.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chrono::SecondsFormat;
use serde_json::json;
use uuid::Uuid;

use super::{
    password,
    service::{self, Client},
};
use crate::{
    error::AppError,
    features::{
        admin::types::{
            AuditEntry, AuditFilter, CreateInviteRequest, CreateUserRequest, Invite, PasswordReset,
            PasswordResetRequest, RegistrationPolicy, UpdateUserRequest, UserPage, UserSummary,
        },
        auth::types::Role,
    },
    server::{
        db::{self, users::UserRow},
        error::internal,
        AppState,
    },
};

pub const PER_PAGE: u32 = 25;

/// An account proven to be an enabled admin.
pub struct Admin(UserRow);

impl Admin {
    pub fn id(&self) -> Uuid {
        self.0.id
    }
}

pub fn require_admin(user: UserRow) -> Result<Admin, AppError> {
    if user.role == "admin" && user.disabled_at.is_none() {
        Ok(Admin(user))
    } else {
        Err(AppError::forbidden("Only admins can do that."))
    }
}

pub async fn list_users(
    state: &AppState,
    _admin: &Admin,
    query: &str,
    page: u32,
) -> Result<UserPage, AppError> {
    let page = page.max(1);
    let (users, total) = db::users::search(
        &state.db,
        query.trim(),
        i64::from(PER_PAGE),
        i64::from((page - 1) * PER_PAGE),
    )
    .await
    .map_err(|e| internal("search users", e))?;
    Ok(UserPage {
        users: users.iter().map(summary).collect(),
        page,
        per_page: PER_PAGE,
        total: total.max(0) as u64,
    })
}

pub async fn create_user(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    request: CreateUserRequest,
) -> Result<UserSummary, AppError> {
    let username = request.username.trim();
    let email = request.email.trim();
    service::validate_registration(username, email, &request.password)?;
    let hash = password::hash(request.password)
        .await
        .map_err(|e| internal("hash password", e))?;
    let role = role_name(request.role.unwrap_or(Role::User));
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| internal("acquire", e))?;
    let user = db::users::insert(
        &mut conn,
        db::users::NewUser {
            username,
            email,
            display_name: username,
            password_hash: Some(&hash),
            role,
        },
    )
    .await
    .map_err(service::account_write_error)?;
    service::audit(
        state,
        Some(admin.0.id),
        "admin.user_created",
        Some(&user.username),
        client,
        json!({ "role": role }),
    )
    .await?;
    Ok(summary(&user))
}

/// Edits an account. Demoting or disabling the last enabled admin is refused; an account
/// whose role changes or that is disabled loses every session at once.
pub async fn update_user(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    id: &str,
    request: UpdateUserRequest,
) -> Result<UserSummary, AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let email = request.email.as_deref().map(str::trim);
    if let Some(problem) = email.and_then(service::email_problem) {
        return Err(AppError::field("email", problem));
    }
    let display_name = request.display_name.as_deref().map(str::trim);
    if display_name.is_some_and(|d| d.chars().count() > 100) {
        return Err(AppError::field(
            "display_name",
            "must be at most 100 characters",
        ));
    }

    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    let admins = db::users::lock_active_admins(&mut tx)
        .await
        .map_err(|e| internal("lock admins", e))?;
    let loses_admin = request.role == Some(Role::User) || request.disabled == Some(true);
    if loses_admin && admins == [id] {
        return Err(AppError::Conflict {
            message: "This is the last admin: make someone else admin first.".to_owned(),
        });
    }
    let before = db::users::find_by_id(&mut *tx, id)
        .await
        .map_err(|e| internal("load user", e))?
        .ok_or(AppError::NotFound)?;
    let user = db::users::update(
        &mut tx,
        id,
        db::users::Changes {
            display_name,
            email,
            role: request.role.map(role_name),
            disabled: request.disabled,
        },
    )
    .await
    .map_err(service::account_write_error)?
    .ok_or(AppError::NotFound)?;
    tx.commit().await.map_err(|e| internal("commit", e))?;

    // Any change of privilege ends the account's sessions: a demoted or disabled account loses
    // access at once, and a promoted one signs in again under a new session id.
    let role_changed = before.role != user.role;
    let disabled = before.disabled_at.is_none() && user.disabled_at.is_some();
    if role_changed || disabled {
        end_sessions(state, id).await?;
    }
    if role_changed {
        crate::server::discord::roles::touch(state, id);
    }
    service::audit(
        state,
        Some(admin.0.id),
        "admin.user_updated",
        Some(&user.username),
        client,
        json!({
            "role": user.role,
            "disabled": user.disabled_at.is_some(),
            "email_changed": before.email != user.email,
        }),
    )
    .await?;
    Ok(summary(&user))
}

/// Sets a new password (the given one, or a generated one returned once) and ends the
/// account's sessions.
pub async fn reset_password(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    id: &str,
    request: PasswordResetRequest,
) -> Result<PasswordReset, AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let user = db::users::find_by_id(&state.db, id)
        .await
        .map_err(|e| internal("load user", e))?
        .ok_or(AppError::NotFound)?;
    let (new_password, generated) = match request.password {
        Some(given) => {
            password::check(&given, &[&user.username, &user.email])
                .map_err(|p| AppError::field("password", p.to_string()))?;
            (given, false)
        }
        None => {
            let mut bytes = [0u8; 18];
            getrandom::fill(&mut bytes).map_err(|e| internal("randomness", e))?;
            (URL_SAFE_NO_PAD.encode(bytes), true)
        }
    };
    let hash = password::hash(new_password.clone())
        .await
        .map_err(|e| internal("hash password", e))?;
    db::users::set_password(&state.db, id, &hash)
        .await
        .map_err(|e| internal("store password", e))?;
    end_sessions(state, id).await?;
    service::audit(
        state,
        Some(admin.0.id),
        "admin.password_reset",
        Some(&user.username),
        client,
        json!({}),
    )
    .await?;
    Ok(PasswordReset {
        password: generated.then_some(new_password),
    })
}

/// Deletes an account with its deployments (containers, images and all) and tokens. The last
/// enabled admin cannot be deleted.
pub async fn delete_user(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    id: &str,
) -> Result<(), AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    db::users::find_by_id(&state.db, id)
        .await
        .map_err(|e| internal("load user", e))?
        .ok_or(AppError::NotFound)?;
    {
        // Checked before the deployments go, and again below under the lock.
        let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
        let admins = db::users::lock_active_admins(&mut tx)
            .await
            .map_err(|e| internal("lock admins", e))?;
        if admins == [id] {
            return Err(AppError::Conflict {
                message: "This is the last admin: make someone else admin first.".to_owned(),
            });
        }
    }
    // Containers, images and ports first: the rows cannot go while deployments hold them.
    crate::server::deploy::service::delete_all_of(state, id).await?;
    // Grants given to providers end with the account (the tokens go with its rows).
    super::oauth::identities::revoke_all_of(state, id).await?;
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    let admins = db::users::lock_active_admins(&mut tx)
        .await
        .map_err(|e| internal("lock admins", e))?;
    if admins == [id] {
        return Err(AppError::Conflict {
            message: "This is the last admin: make someone else admin first.".to_owned(),
        });
    }
    let user = db::users::find_by_id(&mut *tx, id)
        .await
        .map_err(|e| internal("load user", e))?
        .ok_or(AppError::NotFound)?;
    db::users::delete(&mut tx, id)
        .await
        .map_err(|e| internal("delete user", e))?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    end_sessions(state, id).await?;
    service::audit(
        state,
        Some(admin.0.id),
        "admin.user_deleted",
        Some(&user.username),
        client,
        json!({}),
    )
    .await
}

pub async fn set_registration(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    policy: RegistrationPolicy,
) -> Result<RegistrationPolicy, AppError> {
    db::settings::put(&state.db, service::REGISTRATION, json!(policy))
        .await
        .map_err(|e| internal("store registration policy", e))?;
    service::audit(
        state,
        Some(admin.0.id),
        "admin.registration_changed",
        None,
        client,
        json!({ "policy": policy }),
    )
    .await?;
    Ok(policy)
}

pub async fn audit_log(
    state: &AppState,
    _admin: &Admin,
    filter: AuditFilter,
) -> Result<Vec<AuditEntry>, AppError> {
    let time = |field: &str, raw: &Option<String>| -> Result<_, AppError> {
        raw.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                chrono::DateTime::parse_from_rfc3339(t)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|_| {
                        AppError::field(field, "is not a time such as 2026-12-04T10:00:00Z")
                    })
            })
            .transpose()
    };
    let limit = filter.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::field("limit", "must be between 1 and 200"));
    }
    fn text(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let query = db::audit::Filter {
        before: filter.before,
        action: text(&filter.action),
        actor: text(&filter.actor),
        subject: text(&filter.subject),
        since: time("since", &filter.since)?,
        until: time("until", &filter.until)?,
    };
    Ok(db::audit::page(&state.db, &query, i64::from(limit))
        .await
        .map_err(|e| internal("read audit log", e))?
        .into_iter()
        .map(|e| AuditEntry {
            id: e.id,
            at: e.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            ip: e.ip,
            details: e.details,
        })
        .collect())
}

pub async fn create_invite(
    state: &AppState,
    admin: &Admin,
    client: &Client,
    request: CreateInviteRequest,
) -> Result<Invite, AppError> {
    let hours = request.expires_in_hours.unwrap_or(72);
    if !(1..=720).contains(&hours) {
        return Err(AppError::field(
            "expires_in_hours",
            "must be between 1 and 720",
        ));
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| internal("randomness", e))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = chrono::Utc::now() + chrono::Duration::hours(i64::from(hours));
    db::invites::insert(
        &state.db,
        &super::sha256_hex(&token),
        admin.0.id,
        expires_at,
    )
    .await
    .map_err(|e| internal("store invite", e))?;
    service::audit(
        state,
        Some(admin.0.id),
        "admin.invite_created",
        None,
        client,
        json!({ "expires_in_hours": hours }),
    )
    .await?;
    Ok(Invite {
        path: format!("/register?invite={token}"),
        token,
        expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    })
}

async fn end_sessions(state: &AppState, user_id: Uuid) -> Result<(), AppError> {
    state
        .sessions
        .revoke_all(user_id, None)
        .await
        .map(|_| ())
        .map_err(|e| internal("end sessions", e))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::User => "user",
    }
}

fn summary(user: &UserRow) -> UserSummary {
    let me = service::me(user);
    UserSummary {
        id: me.id,
        username: me.username,
        email: me.email,
        display_name: me.display_name,
        role: me.role,
        disabled: user.disabled_at.is_some(),
        created_at: me.created_at,
    }
}
