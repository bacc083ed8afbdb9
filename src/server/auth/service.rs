//! Registration, sign-in and sign-out: the rules, once, for the REST API and the UI alike.

use std::{collections::BTreeMap, net::IpAddr};

use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{password, session, setup, throttle};
use crate::{
    error::AppError,
    features::{
        admin::types::RegistrationPolicy,
        auth::types::{LoginRequest, Me, RegisterRequest, Role},
    },
    server::{
        db::{self, audit::Event, users::UserRow},
        error::internal,
        AppState,
    },
};

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// Settings key of the registration policy.
pub const REGISTRATION: &str = "registration";

/// The policy an admin chose; `closed` until one is chosen.
pub async fn registration_policy(state: &AppState) -> Result<RegistrationPolicy, AppError> {
    let value = db::settings::get(&state.db, REGISTRATION)
        .await
        .map_err(|e| internal("read registration policy", e))?;
    Ok(value
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or(RegistrationPolicy::Closed))
}

pub async fn register(
    state: &AppState,
    session: &Session,
    client: &Client,
    request: RegisterRequest,
) -> Result<Me, AppError> {
    let username = request.username.trim();
    let email = request.email.trim();
    validate_registration(username, email, &request.password)?;

    let first_account = !db::users::any_exist(&state.db)
        .await
        .map_err(|e| internal("count users", e))?;
    let invite = request
        .invite
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty());
    if !first_account {
        match (registration_policy(state).await?, invite) {
            (RegistrationPolicy::Open, _) | (RegistrationPolicy::Invite, Some(_)) => {}
            (RegistrationPolicy::Invite, None) => {
                return Err(AppError::forbidden(
                    "Registration needs an invite link from an admin.",
                ))
            }
            (RegistrationPolicy::Closed, _) => {
                return Err(AppError::forbidden("Registration is closed."))
            }
        }
    }

    // Hash before the transaction: it takes tens of milliseconds and needs no lock.
    let hash = password::hash(request.password.clone())
        .await
        .map_err(|e| internal("hash password", e))?;

    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    let role = if first_account {
        // Taking the token row is what makes it single-use, even between two racing requests.
        let stored = db::settings::take(&mut *tx, setup::SETTING)
            .await
            .map_err(|e| internal("take setup token", e))?;
        let token = request.setup_token.as_deref().unwrap_or_default();
        if !stored.is_some_and(|stored| setup::matches(&stored, token)) {
            return Err(AppError::field(
                "setup_token",
                "is not this server's setup token (see the start-up log or DATA_DIR/setup-token)",
            ));
        }
        "admin"
    } else {
        "user"
    };
    let user = db::users::insert(
        &mut tx,
        db::users::NewUser {
            username,
            email,
            display_name: username,
            password_hash: Some(&hash),
            role,
        },
    )
    .await
    .map_err(account_write_error)?;
    // An invite is spent only by a registration that goes through.
    if let (false, Some(invite)) = (first_account, invite) {
        if !db::invites::redeem(&mut *tx, &super::sha256_hex(invite), user.id)
            .await
            .map_err(|e| internal("redeem invite", e))?
        {
            return Err(AppError::field(
                "invite",
                "is not valid: it may have been used or have expired",
            ));
        }
    }
    db::audit::record(
        &mut *tx,
        Event {
            actor_id: Some(user.id),
            action: "user.registered",
            subject: Some(&user.username),
            ip: client.ip.map(|ip| ip.to_string()),
            details: json!({ "role": role, "first_account": first_account }),
        },
    )
    .await
    .map_err(|e| internal("audit", e))?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    if first_account {
        setup::forget(&state.config.data_dir);
    }

    session::start(session, user.id, client).await?;
    Ok(me(&user))
}

pub async fn login(
    state: &AppState,
    session: &Session,
    client: &Client,
    request: LoginRequest,
) -> Result<Me, AppError> {
    let login = request.login.trim();
    let user = db::users::find_by_login(&state.db, login)
        .await
        .map_err(|e| internal("find user", e))?;
    let account_key = user.as_ref().map_or_else(
        || format!("unknown:{}", login.to_lowercase()),
        |u| u.id.to_string(),
    );
    let subject = throttle::Subject {
        account: &account_key,
        ip: client.ip,
    };
    if let Err(locked) = throttle::check(state, &subject).await {
        if matches!(locked, AppError::TooManyRequests { .. }) {
            audit(
                state,
                None,
                "login.throttled",
                Some(login),
                client,
                json!({}),
            )
            .await?;
        }
        return Err(locked);
    }
    // Unknown users cost one hash too, so response time does not reveal who has an account.
    let verified = password::verify(
        request.password.clone(),
        user.as_ref().and_then(|u| u.password_hash.clone()),
    )
    .await;

    let accepted = match (&user, verified) {
        (Some(user), password::Verified::Yes | password::Verified::YesNeedsRehash) => {
            user.disabled_at.is_none()
        }
        _ => false,
    };
    let Some(user) = user.filter(|_| accepted) else {
        metrics::counter!("login_failures_total").increment(1);
        audit(state, None, "login.failed", Some(login), client, json!({})).await?;
        if let Some(retry_after_secs) = throttle::record_failure(state, &subject).await? {
            audit(
                state,
                None,
                "login.locked_out",
                Some(login),
                client,
                json!({ "retry_after_secs": retry_after_secs }),
            )
            .await?;
        }
        return Err(AppError::InvalidCredentials);
    };
    throttle::clear_account(state, &subject).await?;

    // A hash made with weaker parameters than today's is replaced while the password is at hand.
    let new_hash = match verified {
        password::Verified::YesNeedsRehash => Some(
            password::hash(request.password)
                .await
                .map_err(|e| internal("rehash password", e))?,
        ),
        _ => None,
    };
    db::users::record_login(&state.db, user.id, new_hash.as_deref())
        .await
        .map_err(|e| internal("record login", e))?;
    session::start(session, user.id, client).await?;
    metrics::counter!("logins_total", "method" => "password").increment(1);
    audit(
        state,
        Some(user.id),
        "login.succeeded",
        Some(&user.username),
        client,
        json!({}),
    )
    .await?;
    Ok(me(&user))
}

pub async fn logout(state: &AppState, session: &Session, client: &Client) -> Result<(), AppError> {
    let user_id = session::user_id(session, &state.config).await?;
    session::end(session).await?;
    if let Some(user_id) = user_id {
        audit(state, Some(user_id), "logout", None, client, json!({})).await?;
    }
    Ok(())
}

/// The signed-in, enabled account behind this session, or 401.
pub async fn current_user(state: &AppState, session: &Session) -> Result<UserRow, AppError> {
    let Some(user_id) = session::user_id(session, &state.config).await? else {
        return Err(AppError::Unauthorized);
    };
    match enabled_user(state, user_id).await? {
        Some(user) => Ok(user),
        // Deleted or disabled since sign-in: the session dies with the account's access.
        None => {
            session::end(session).await?;
            Err(AppError::Unauthorized)
        }
    }
}

/// The account with this id, unless it is gone or disabled.
pub async fn enabled_user(state: &AppState, user_id: Uuid) -> Result<Option<UserRow>, AppError> {
    Ok(db::users::find_by_id(&state.db, user_id)
        .await
        .map_err(|e| internal("load user", e))?
        .filter(|user| user.disabled_at.is_none()))
}

/// A unique-value clash on an account, as the field error a person can act on.
pub(super) fn account_write_error(e: db::users::InsertError) -> AppError {
    match e {
        db::users::InsertError::UsernameTaken => AppError::field("username", "is already taken"),
        db::users::InsertError::EmailTaken => {
            AppError::field("email", "already belongs to an account")
        }
        db::users::InsertError::Db(e) => internal("write user", e),
    }
}

pub fn me(user: &UserRow) -> Me {
    Me {
        id: user.id.to_string(),
        username: user.username.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: if user.role == "admin" {
            Role::Admin
        } else {
            Role::User
        },
        created_at: user
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        has_password: user.password_hash.is_some(),
    }
}

pub async fn audit(
    state: &AppState,
    actor_id: Option<Uuid>,
    action: &str,
    subject: Option<&str>,
    client: &Client,
    details: serde_json::Value,
) -> Result<(), AppError> {
    db::audit::record(
        &state.db,
        Event {
            actor_id,
            action,
            subject,
            ip: client.ip.map(|ip| ip.to_string()),
            details,
        },
    )
    .await
    .map_err(|e| internal("audit", e))
}

pub(super) fn validate_registration(
    username: &str,
    email: &str,
    password: &str,
) -> Result<(), AppError> {
    let mut fields = BTreeMap::new();
    if let Some(problem) = username_problem(username) {
        fields.insert("username".to_owned(), problem.to_owned());
    }
    if let Some(problem) = email_problem(email) {
        fields.insert("email".to_owned(), problem.to_owned());
    }
    if let Err(problem) = password::check(password, &[username, email]) {
        fields.insert("password".to_owned(), problem.to_string());
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation {
            message: "Some fields need attention.".to_owned(),
            fields,
        })
    }
}

fn username_problem(username: &str) -> Option<&'static str> {
    let ok = (3..=32).contains(&username.len())
        && username.starts_with(|c: char| c.is_ascii_alphanumeric())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    (!ok).then_some(
        "must be 3 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit",
    )
}

pub(super) fn email_problem(email: &str) -> Option<&'static str> {
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    (!ok).then_some("is not an email address")
}
