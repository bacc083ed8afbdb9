//! Members' role connections: what Discord is told about each (`running_deployments`,
//! `member_since`, `is_admin`), pushed when they connect and kept current afterwards.
//!
//! A change that may alter a member's values bumps their row's version ([`touch`]); the
//! pusher takes one due member at a time under its row lock, sends the values only when they
//! differ from what Discord has, and settles the version it read, so a change during a push is
//! sent too. Changes within a second are sent once. Failures back off 2, 4, 8 s… up to an
//! hour; a grant Discord refuses stops the retries until the member connects again.

use std::{collections::BTreeMap, time::Duration};

use chrono::SecondsFormat;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{api, metadata, PROVIDER};
use crate::{
    error::AppError,
    features::auth::types::DiscordConnection,
    server::{
        auth::oauth::tokens::{self, TokenError},
        db::{self, users::UserRow},
        error::internal,
        AppState,
    },
};

/// Changes this close together are sent once.
const COALESCE_MS: i64 = 1000;
/// The longest wait between retries.
const MAX_BACKOFF_SECS: i64 = 3600;

/// The member's values now, as Discord takes them: strings, `"1"`/`"0"` for booleans, ISO
/// 8601 for dates.
pub async fn values(
    state: &AppState,
    user: &UserRow,
) -> Result<BTreeMap<String, String>, AppError> {
    let running = db::discord::running_deployments(&state.db, user.id)
        .await
        .map_err(|e| internal("count running deployments", e))?;
    Ok(BTreeMap::from([
        ("running_deployments".to_owned(), running.to_string()),
        (
            "member_since".to_owned(),
            user.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        (
            "is_admin".to_owned(),
            if user.role == "admin" { "1" } else { "0" }.to_owned(),
        ),
    ]))
}

/// The keys Discord has registered for the application (Slipway's own when they cannot be
/// read), so a member's connection carries exactly those.
async fn registered_keys(state: &AppState) -> Vec<String> {
    if let Some(keys) = state.discord.cached_keys() {
        return keys;
    }
    let keys: Vec<String> = match metadata::registered(&api::Api::of(state)).await {
        Ok(records) => records.into_iter().map(|r| r.key).collect(),
        Err(e) => {
            tracing::debug!(error = %e, "using Slipway's metadata keys");
            metadata::slipway_records()
                .into_iter()
                .map(|r| r.key)
                .collect()
        }
    };
    state.discord.remember_keys(keys.clone());
    keys
}

async fn body(state: &AppState, user: &UserRow) -> Result<(Value, Value), AppError> {
    let keys = registered_keys(state).await;
    let all = values(state, user).await?;
    let metadata: BTreeMap<String, String> =
        all.into_iter().filter(|(k, _)| keys.contains(k)).collect();
    let metadata = json!(metadata);
    Ok((
        json!({
            "platform_name": "Slipway",
            "platform_username": user.username,
            "metadata": metadata,
        }),
        metadata,
    ))
}

/// At the verification URL: sends the member's values with the token just granted, and keeps
/// them current from now on. A failed first push is retried like any other.
pub async fn connect(
    state: &AppState,
    user: &UserRow,
    access_token: &str,
) -> Result<Result<(), String>, AppError> {
    let (body, values) = body(state, user).await?;
    match api::put_role_connection(&api::Api::of(state), access_token, &body).await {
        Ok(_) => {
            db::discord::connected(&state.db, user.id, &values)
                .await
                .map_err(|e| internal("record role connection", e))?;
            Ok(Ok(()))
        }
        Err(e) => {
            db::discord::pending(&state.db, user.id, &e.message, 2)
                .await
                .map_err(|e| internal("record role connection", e))?;
            state.discord.wake.notify_one();
            Ok(Err(e.message))
        }
    }
}

/// The member's values may have changed: queue a push, in the background so the caller (a
/// deployment's state change, an admin's edit) never waits on it.
pub fn touch(state: &AppState, user_id: Uuid) {
    // Without a Discord application nobody can have a connection: no query on this path.
    if state.config.discord.application_id.is_none() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        match db::discord::touch(&state.db, user_id, COALESCE_MS).await {
            Ok(true) => state.discord.wake.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot queue a Discord role-connection update"),
        }
    });
}

/// "Refresh now" on the account page: 202, the push follows in the background.
pub async fn refresh(state: &AppState, user: &UserRow) -> Result<(), AppError> {
    let queued = db::discord::refresh_now(&state.db, user.id)
        .await
        .map_err(|e| internal("queue role connection", e))?;
    if !queued {
        return Err(AppError::Conflict {
            message: "No Discord role connection yet: connect from Discord's Linked Roles first."
                .into(),
        });
    }
    state.discord.wake.notify_one();
    Ok(())
}

pub async fn status(state: &AppState, user: &UserRow) -> Result<DiscordConnection, AppError> {
    let linked =
        crate::server::auth::oauth::identities::has_identity(state, user.id, PROVIDER).await?;
    let available = db::providers::find(&state.db, PROVIDER)
        .await
        .map_err(|e| internal("load provider", e))?
        .is_some_and(|p| p.enabled);
    let row = db::discord::find(&state.db, user.id)
        .await
        .map_err(|e| internal("load role connection", e))?;
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    Ok(DiscordConnection {
        available,
        linked,
        connected: row.is_some(),
        values: row.as_ref().and_then(|r| r.pushed_values.clone()),
        pushed_at: row.as_ref().and_then(|r| r.pushed_at.map(time)),
        pending: row
            .as_ref()
            .is_some_and(|r| r.version > r.pushed_version && !r.refused),
        last_error: row.as_ref().and_then(|r| r.last_error.clone()),
        refused: row.as_ref().is_some_and(|r| r.refused),
        connect_url: "/discord/linked-role".into(),
    })
}

/// Empties the member's role connection at Discord and forgets it, before their Discord
/// identity goes (unlink, account deletion). Runs under the row lock, so no push is half way.
pub async fn clear(state: &AppState, user_id: Uuid) {
    if let Err(e) = clear_inner(state, user_id).await {
        tracing::warn!(error = %e, "cannot clear a Discord role connection");
    }
}

async fn clear_inner(state: &AppState, user_id: Uuid) -> Result<(), String> {
    let mut tx = state.db.begin().await.map_err(|e| e.to_string())?;
    if db::discord::lock(&mut tx, user_id)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Ok(());
    }
    // An expired token is renewed to do it: the connection must not outlive the link.
    let outcome = match tokens::access_token(state, user_id, PROVIDER).await {
        Ok(token) => api::put_role_connection(&api::Api::of(state), &token, &json!({}))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    db::discord::delete(&mut *tx, user_id)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    outcome
}

/// Pushes due members until the process stops.
pub fn start(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            loop {
                match push_next(&state).await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "Discord role-connection pusher");
                        break;
                    }
                }
            }
            // Another process may queue work for this one: look again within a few seconds.
            let wait = match db::discord::next_due(&state.db).await {
                Ok(Some(at)) => (at - chrono::Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(Duration::from_secs(5)),
                _ => Duration::from_secs(5),
            };
            tokio::select! {
                () = state.discord.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                () = state.live.closed() => return,
            }
        }
    })
}

/// Pushes the most overdue member, if any is due. `Ok(false)`: nobody is.
async fn push_next(state: &AppState) -> Result<bool, String> {
    let mut tx = state.db.begin().await.map_err(|e| e.to_string())?;
    let Some((user_id, version)) = db::discord::lock_due(&mut tx)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(false);
    };
    let Some(user) = db::users::find_by_id(&mut *tx, user_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(true); // the account is going; its row goes with it
    };
    let row = db::discord::find(&mut *tx, user_id)
        .await
        .map_err(|e| e.to_string())?;
    let attempts = row.as_ref().map_or(0, |r| r.attempts);
    let (body, values) = body(state, &user).await.map_err(|e| e.to_string())?;
    if row.and_then(|r| r.pushed_values).as_ref() == Some(&values) {
        db::discord::pushed(&mut *tx, user_id, version, &values, false)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        return Ok(true);
    }
    let attempt = match tokens::access_token(state, user_id, PROVIDER).await {
        Ok(token) => api::put_role_connection(&api::Api::of(state), &token, &body)
            .await
            .map_err(|e| (e.grant_refused(), e.message)),
        Err(e @ (TokenError::Refused(_) | TokenError::NotLinked | TokenError::NoToken)) => {
            Err((true, e.to_string()))
        }
        Err(e) => Err((false, e.to_string())),
    };
    match attempt {
        Ok(_) => db::discord::pushed(&mut *tx, user_id, version, &values, true).await,
        Err((refused, error)) => {
            let retry = 2i64
                .saturating_pow(u32::try_from(attempts + 1).unwrap_or(30).min(30))
                .min(MAX_BACKOFF_SECS);
            tracing::warn!(user = %user.username, %error, refused, "Discord did not take a role connection");
            db::discord::failed(&mut *tx, user_id, &error, retry, refused).await
        }
    }
    .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(true)
}
