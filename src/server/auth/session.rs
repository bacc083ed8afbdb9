//! What Slipway keeps in a session (stored in Redis; the cookie holds only a random id):
//! who is signed in, since when, and from where, for the sessions list.

use chrono::Utc;
use tower_sessions::Session;
use uuid::Uuid;

use super::{service::Client, session_store::USER_ID};
use crate::{
    error::AppError,
    server::{config::Config, error::internal},
};

/// Unix seconds of the sign-in, for the absolute timeout (the idle one is the cookie expiry).
pub const SIGNED_IN_AT: &str = "signed_in_at";
/// Unix seconds of the last recorded use (see [`user_id`]).
pub const LAST_SEEN_AT: &str = "last_seen_at";
/// Unix seconds of the last time the person proved who they are (password or provider).
pub const CONFIRMED_AT: &str = "confirmed_at";
pub const IP: &str = "ip";
pub const USER_AGENT: &str = "ua";

/// Signs `user_id` in. The session gets a new id first, so an id planted before sign-in
/// (session fixation) is worth nothing after it.
pub async fn start(session: &Session, user_id: Uuid, client: &Client) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)?;
    session
        .insert(USER_ID, user_id)
        .await
        .map_err(store_error)?;
    session
        .insert(SIGNED_IN_AT, Utc::now().timestamp())
        .await
        .map_err(store_error)?;
    session
        .insert(IP, client.ip.map(|ip| ip.to_string()))
        .await
        .map_err(store_error)?;
    session
        .insert(USER_AGENT, client.user_agent.clone())
        .await
        .map_err(store_error)
}

/// How long a sign-in or a confirmation lets someone change how they sign in.
pub const CONFIRMATION_WINDOW_SECS: i64 = 10 * 60;

/// Records that the person just proved who they are, with a new session id: it is a step up.
pub async fn confirm(session: &Session) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)?;
    session
        .insert(CONFIRMED_AT, Utc::now().timestamp())
        .await
        .map_err(store_error)
}

/// Whether this session signed in or confirmed within [`CONFIRMATION_WINDOW_SECS`].
pub async fn recently_confirmed(session: &Session) -> Result<bool, AppError> {
    let mut latest = 0;
    for key in [SIGNED_IN_AT, CONFIRMED_AT] {
        if let Some(at) = session.get::<i64>(key).await.map_err(store_error)? {
            latest = latest.max(at);
        }
    }
    let age = Utc::now().timestamp() - latest;
    Ok((0..CONFIRMATION_WINDOW_SECS).contains(&age))
}

/// A new id for the same sign-in, after a privilege change.
pub async fn rotate(session: &Session) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)
}

/// The signed-in user, if any. A session past its absolute lifetime is ended here.
///
/// tower-sessions writes a session back (and so pushes its idle expiry forward) only when it
/// changed, which would make the idle timeout count from the last change, not the last use.
/// So each use records when it was seen, at most every minute (a quarter of the idle timeout
/// when that is shorter), keeping Redis writes off most requests.
pub async fn user_id(session: &Session, config: &Config) -> Result<Option<Uuid>, AppError> {
    let Some(user_id) = session.get::<Uuid>(USER_ID).await.map_err(store_error)? else {
        return Ok(None);
    };
    let now = Utc::now().timestamp();
    let signed_in_at = session
        .get::<i64>(SIGNED_IN_AT)
        .await
        .map_err(store_error)?
        .unwrap_or(0);
    let age = now.saturating_sub(signed_in_at);
    if age < 0 || age.unsigned_abs() >= config.session_absolute_timeout.as_secs() {
        end(session).await?;
        return Ok(None);
    }
    let seen = session
        .get::<i64>(LAST_SEEN_AT)
        .await
        .map_err(store_error)?
        .unwrap_or(signed_in_at);
    let refresh_every = (config.session_idle_timeout.as_secs() / 4).clamp(1, 60);
    if now.saturating_sub(seen).unsigned_abs() >= refresh_every {
        session
            .insert(LAST_SEEN_AT, now)
            .await
            .map_err(store_error)?;
    }
    Ok(Some(user_id))
}

/// Deletes the session from Redis and clears the cookie, so a replayed cookie finds nothing.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_error)
}

/// The id shown to the user for a session: a digest, because the id itself is the secret
/// the cookie carries.
pub fn public_id(session_id: &str) -> String {
    super::sha256_hex(session_id)[..32].to_owned()
}

pub fn store_error(e: tower_sessions::session::Error) -> AppError {
    internal("session store", e)
}
