//! The caller's own profile: display name and email.

use serde_json::json;
use tower_sessions::Session;

use super::{
    service::{self, Client},
    session,
};
use crate::{
    error::AppError,
    features::auth::types::{Me, UpdateProfileRequest},
    server::{
        db::{self, users::UserRow},
        error::internal,
        AppState,
    },
};

/// Changes my display name and email. A new email is a new way to be found and reached, so
/// it needs a confirmation from the last ten minutes, like any change of how I sign in.
pub async fn update(
    state: &AppState,
    user: &UserRow,
    current: &Session,
    client: &Client,
    request: UpdateProfileRequest,
) -> Result<Me, AppError> {
    let display_name = request.display_name.as_deref().map(str::trim);
    if display_name.is_some_and(|d| d.chars().count() > 100) {
        return Err(AppError::field(
            "display_name",
            "must be at most 100 characters",
        ));
    }
    let email = request
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.eq_ignore_ascii_case(&user.email));
    if let Some(problem) = email.and_then(service::email_problem) {
        return Err(AppError::field("email", problem));
    }
    if email.is_some() && !session::recently_confirmed(current).await? {
        return Err(AppError::forbidden(
            "Confirm it is you first: changing your email needs a sign-in or confirmation from the last 10 minutes.",
        ));
    }
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    let updated = db::users::update(
        &mut tx,
        user.id,
        db::users::Changes {
            display_name,
            email,
            role: None,
            disabled: None,
        },
    )
    .await
    .map_err(service::account_write_error)?
    .ok_or(AppError::Unauthorized)?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    if email.is_some() {
        service::audit(
            state,
            Some(user.id),
            "user.email_changed",
            Some(&user.username),
            client,
            json!({}),
        )
        .await?;
    }
    if display_name.is_some_and(|d| d != user.display_name) {
        service::audit(
            state,
            Some(user.id),
            "user.profile_changed",
            Some(&user.username),
            client,
            json!({ "display_name": display_name }),
        )
        .await?;
    }
    Ok(service::me(&updated))
}
