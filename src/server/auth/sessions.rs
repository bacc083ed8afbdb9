//! A user's own sessions and password: list, revoke, change (which ends the other sessions).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use tower_sessions::Session;

use super::{
    password,
    service::{self, Client},
    session,
};
use crate::{
    error::AppError,
    features::auth::types::{ChangePasswordRequest, SessionInfo},
    server::{
        db::{self, users::UserRow},
        error::internal,
        AppState,
    },
};

pub async fn list(
    state: &AppState,
    user: &UserRow,
    current: &Session,
) -> Result<Vec<SessionInfo>, AppError> {
    let current_id = current.id().map(|id| id.to_string());
    let records = state
        .sessions
        .sessions_of(user.id)
        .await
        .map_err(|e| internal("list sessions", e))?;
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut sessions: Vec<SessionInfo> = records
        .into_iter()
        .map(|record| {
            let id = record.id.to_string();
            let text = |key: &str| {
                record
                    .data
                    .get(key)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            let time = |key: &str| {
                record
                    .data
                    .get(key)
                    .and_then(|v| v.as_i64())
                    .and_then(|t| DateTime::from_timestamp(t, 0))
            };
            let signed_in_at = time(session::SIGNED_IN_AT).unwrap_or_default();
            SessionInfo {
                id: session::public_id(&id),
                signed_in_at: rfc3339(signed_in_at),
                last_seen_at: rfc3339(time(session::LAST_SEEN_AT).unwrap_or(signed_in_at)),
                ip: text(session::IP),
                user_agent: text(session::USER_AGENT),
                current: current_id.as_deref() == Some(id.as_str()),
            }
        })
        .collect();
    sessions.sort_by(|a, b| b.last_seen_at.cmp(&a.last_seen_at));
    Ok(sessions)
}

/// Ends one of the caller's sessions, named by its public id. Another user's id is a 404.
pub async fn revoke(
    state: &AppState,
    user: &UserRow,
    current: &Session,
    client: &Client,
    public_id: &str,
) -> Result<(), AppError> {
    let records = state
        .sessions
        .sessions_of(user.id)
        .await
        .map_err(|e| internal("list sessions", e))?;
    let Some(record) = records
        .into_iter()
        .find(|r| session::public_id(&r.id.to_string()) == public_id)
    else {
        return Err(AppError::NotFound);
    };
    let is_current = current.id() == Some(record.id);
    state
        .sessions
        .revoke(user.id, &record.id.to_string())
        .await
        .map_err(|e| internal("revoke session", e))?;
    if is_current {
        session::end(current).await?;
    }
    service::audit(
        state,
        Some(user.id),
        "session.revoked",
        None,
        client,
        json!({}),
    )
    .await
}

/// Changes the caller's password after checking the current one, then ends every other
/// session: whoever knew the old password is signed out everywhere.
pub async fn change_password(
    state: &AppState,
    user: &UserRow,
    current: &Session,
    client: &Client,
    request: ChangePasswordRequest,
) -> Result<(), AppError> {
    if user.password_hash.is_none() {
        return super::oauth::identities::set_first_password(
            state,
            user,
            current,
            client,
            request.new_password,
        )
        .await;
    }
    let verified = password::verify(request.current_password, user.password_hash.clone()).await;
    if verified == password::Verified::No {
        return Err(AppError::field(
            "current_password",
            "is not your current password",
        ));
    }
    password::check(&request.new_password, &[&user.username, &user.email])
        .map_err(|problem| AppError::field("new_password", problem.to_string()))?;
    let hash = password::hash(request.new_password)
        .await
        .map_err(|e| internal("hash password", e))?;
    db::users::set_password(&state.db, user.id, &hash)
        .await
        .map_err(|e| internal("store password", e))?;

    // A new id for this session too: it is a privilege change. (With a bearer token there is
    // no session of the caller's, and every session ends.)
    if current.id().is_some() {
        session::rotate(current).await?;
    }
    let keep = current.id().map(|id| id.to_string());
    let revoked = state
        .sessions
        .revoke_all(user.id, keep.as_deref())
        .await
        .map_err(|e| internal("revoke sessions", e))?;
    service::audit(
        state,
        Some(user.id),
        "password.changed",
        Some(&user.username),
        client,
        json!({ "other_sessions_ended": revoked }),
    )
    .await
}
