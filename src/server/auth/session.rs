//! What Slipway keeps in a tower-sessions session (stored in Redis; the cookie holds only a
//! random id): who is signed in and since when.

use chrono::Utc;
use tower_sessions::Session;
use uuid::Uuid;

use crate::{error::AppError, server::error::internal};

const USER_ID: &str = "uid";
/// Unix seconds of the sign-in, for the absolute timeout (the idle one is the cookie expiry).
const SIGNED_IN_AT: &str = "signed_in_at";

/// Signs `user_id` in. The session gets a new id first, so an id planted before sign-in
/// (session fixation) is worth nothing after it.
pub async fn start(session: &Session, user_id: Uuid) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)?;
    session
        .insert(USER_ID, user_id)
        .await
        .map_err(store_error)?;
    session
        .insert(SIGNED_IN_AT, Utc::now().timestamp())
        .await
        .map_err(store_error)
}

/// The signed-in user, if any. A session past its absolute lifetime is ended here.
pub async fn user_id(
    session: &Session,
    absolute_timeout: std::time::Duration,
) -> Result<Option<Uuid>, AppError> {
    let Some(user_id) = session.get::<Uuid>(USER_ID).await.map_err(store_error)? else {
        return Ok(None);
    };
    let signed_in_at = session
        .get::<i64>(SIGNED_IN_AT)
        .await
        .map_err(store_error)?
        .unwrap_or(0);
    let age = Utc::now().timestamp().saturating_sub(signed_in_at);
    if age < 0 || age as u64 >= absolute_timeout.as_secs() {
        end(session).await?;
        return Ok(None);
    }
    Ok(Some(user_id))
}

/// Deletes the session from Redis and clears the cookie, so a replayed cookie finds nothing.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_error)
}

fn store_error(e: tower_sessions::session::Error) -> AppError {
    internal("session store", e)
}
