//! Who a provider's answer signs in: the account rules, linking and unlinking, confirming who
//! someone is, and what the account page shows of it all.
//!
//! Identity is (provider, subject). An answer with a linked identity signs its account in. An
//! email an account already has is never merged, verified or not (pre-account takeover): the
//! person is told to sign in and link from the account page. A new account is made only from
//! a verified address, and only when the registration policy allows.

use chrono::SecondsFormat;
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    profile::{ExternalProfile, Grant},
    providers::{self, Provider},
    tokens,
};
use crate::{
    error::AppError,
    features::{
        admin::types::RegistrationPolicy,
        auth::types::{LinkedIdentity, ProviderButton, SignInMethods},
    },
    server::{
        auth::{
            password,
            service::{self, Client},
            session, sha256_hex, throttle,
        },
        db::{
            self,
            identities::{IdentityRow, LinkError, Profile},
            users::UserRow,
        },
        error::internal,
        AppState,
    },
};

/// `Err((code, reason))`: the message code for the person, a reason for the audit log.
pub type Outcome = Result<(), (&'static str, String)>;

/// How fresh a provider sign-in must be to count as a confirmation.
const FRESH_AUTH_SECS: i64 = 5 * 60;

fn profile_of(p: &ExternalProfile) -> Profile<'_> {
    Profile {
        email: p.email.as_deref(),
        email_verified: p.email_verified,
        display_name: p.name.as_deref(),
        avatar_url: p.avatar_url.as_deref(),
    }
}

fn token_error(e: tokens::TokenError) -> AppError {
    internal("store provider tokens", e)
}

pub async fn sign_in(
    state: &AppState,
    session: &Session,
    client: &Client,
    provider: &Provider,
    profile: &ExternalProfile,
    grant: &Grant,
    invite: Option<&str>,
) -> Result<Outcome, AppError> {
    let existing = db::identities::find(&state.db, &provider.slug, &profile.subject)
        .await
        .map_err(|e| internal("find identity", e))?;
    let user = match existing {
        Some(identity) => {
            let Some(user) = service::enabled_user(state, identity.user_id).await? else {
                return Ok(Err(("account_disabled", "account disabled".into())));
            };
            let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
            db::identities::record_sign_in(&mut *tx, identity.id, &profile_of(profile))
                .await
                .map_err(|e| internal("record identity sign-in", e))?;
            tokens::store(state, &mut *tx, identity.id, grant)
                .await
                .map_err(token_error)?;
            db::users::record_login(&mut *tx, user.id, None)
                .await
                .map_err(|e| internal("record login", e))?;
            tx.commit().await.map_err(|e| internal("commit", e))?;
            user
        }
        None => match register(state, client, provider, profile, grant, invite).await? {
            Ok(user) => user,
            Err(refusal) => return Ok(Err(refusal)),
        },
    };
    session::start(session, user.id, client).await?;
    // By provider kind, so the label set stays small whatever admins name providers.
    metrics::counter!("logins_total", "method" => provider.kind.as_str()).increment(1);
    service::audit(
        state,
        Some(user.id),
        "login.succeeded",
        Some(&user.username),
        client,
        json!({ "method": provider.slug }),
    )
    .await?;
    Ok(Ok(()))
}

/// A new account from a provider's answer, when the rules allow one.
async fn register(
    state: &AppState,
    client: &Client,
    provider: &Provider,
    profile: &ExternalProfile,
    grant: &Grant,
    invite: Option<&str>,
) -> Result<Result<UserRow, (&'static str, String)>, AppError> {
    let Some(email) = profile.email.as_deref().map(str::trim) else {
        return Ok(Err(("email_missing", "no email address".into())));
    };
    if db::users::email_exists(&state.db, email)
        .await
        .map_err(|e| internal("find email", e))?
    {
        return Ok(Err((
            "account_exists",
            format!(
                "the address belongs to an account (verified by the provider: {})",
                profile.email_verified
            ),
        )));
    }
    if !profile.email_verified {
        return Ok(Err(("email_unverified", "address not verified".into())));
    }
    if service::email_problem(email).is_some() {
        return Ok(Err(("email_missing", "not an email address".into())));
    }
    // The first account is the admin, made with the setup token only.
    if !db::users::any_exist(&state.db)
        .await
        .map_err(|e| internal("count users", e))?
    {
        return Ok(Err(("registration_closed", "no admin exists yet".into())));
    }
    match (service::registration_policy(state).await?, invite) {
        (RegistrationPolicy::Open, _) | (RegistrationPolicy::Invite, Some(_)) => {}
        (RegistrationPolicy::Invite, None) => {
            return Ok(Err((
                "invite_required",
                "registration is invite only".into(),
            )))
        }
        (RegistrationPolicy::Closed, _) => {
            return Ok(Err((
                "registration_closed",
                "registration is closed".into(),
            )))
        }
    }
    let display_name: String = profile
        .name
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .chars()
        .take(100)
        .collect();
    // Two sign-ups may pick the same free username at once: the loser tries the next one.
    for attempt in 0..3 {
        let username = free_username(state, profile, email, attempt).await?;
        let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
        let user = match db::users::insert(
            &mut tx,
            db::users::NewUser {
                username: &username,
                email,
                display_name: if display_name.is_empty() {
                    &username
                } else {
                    &display_name
                },
                password_hash: None,
                role: "user",
            },
        )
        .await
        {
            Ok(user) => user,
            Err(db::users::InsertError::UsernameTaken) => continue,
            Err(db::users::InsertError::EmailTaken) => {
                return Ok(Err((
                    "account_exists",
                    "the address was taken meanwhile".into(),
                )))
            }
            Err(db::users::InsertError::Db(e)) => return Err(internal("insert user", e)),
        };
        let identity = Uuid::new_v4();
        match db::identities::insert(
            &mut *tx,
            identity,
            user.id,
            &provider.slug,
            &profile.subject,
            &profile_of(profile),
        )
        .await
        {
            Ok(()) => {}
            // Signed up twice at once with the same provider account: the other one won.
            Err(LinkError::IdentityTaken | LinkError::AlreadyLinked) => {
                return Ok(Err(("identity_taken", "linked meanwhile".into())))
            }
            Err(LinkError::Db(e)) => return Err(internal("insert identity", e)),
        }
        tokens::store(state, &mut *tx, identity, grant)
            .await
            .map_err(token_error)?;
        if let Some(invite) = invite {
            if !db::invites::redeem(&mut *tx, &sha256_hex(invite), user.id)
                .await
                .map_err(|e| internal("redeem invite", e))?
            {
                return Ok(Err(("invite_invalid", "invite used or expired".into())));
            }
        }
        db::audit::record(
            &mut *tx,
            db::audit::Event {
                actor_id: Some(user.id),
                action: "user.registered",
                subject: Some(&user.username),
                ip: client.ip.map(|ip| ip.to_string()),
                details: json!({ "role": "user", "method": provider.slug }),
            },
        )
        .await
        .map_err(|e| internal("audit", e))?;
        tx.commit().await.map_err(|e| internal("commit", e))?;
        return Ok(Ok(user));
    }
    Err(internal(
        "pick a username",
        "three usernames were taken in a row",
    ))
}

/// A username from the provider's handle or the address, made valid and unique.
async fn free_username(
    state: &AppState,
    profile: &ExternalProfile,
    email: &str,
    attempt: u32,
) -> Result<String, AppError> {
    let base = username_base(
        profile
            .username_hint
            .as_deref()
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default()),
    );
    for n in (attempt * 100)..(attempt * 100 + 100) {
        let candidate = if n == 0 {
            base.clone()
        } else {
            let suffix = (n + 1).to_string();
            format!("{}{suffix}", &base[..base.len().min(32 - suffix.len())])
        };
        if !db::users::username_exists(&state.db, &candidate)
            .await
            .map_err(|e| internal("find username", e))?
        {
            return Ok(candidate);
        }
    }
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| internal("randomness", e))?;
    Ok(format!(
        "{}-{}",
        &base[..base.len().min(23)],
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Letters, digits and `._-` from `hint`, starting with a letter or digit, 3 to 32 long.
pub fn username_base(hint: &str) -> String {
    let cleaned: String = hint
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    let mut name: String = cleaned
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(32)
        .collect();
    if name.len() < 3 {
        name = format!("user{name}");
    }
    name
}

/// Links the provider account to the account that started the link, if it is still the one
/// signed in here and it confirmed who it is within the last ten minutes.
pub async fn link(
    state: &AppState,
    session: &Session,
    client: &Client,
    started_by: Option<Uuid>,
    provider: &Provider,
    profile: &ExternalProfile,
    grant: &Grant,
) -> Result<Outcome, AppError> {
    let Some(user) = signed_in_as(state, session, started_by).await? else {
        return Ok(Err(("signed_out", "not the account that started".into())));
    };
    if !session::recently_confirmed(session).await? {
        return Ok(Err(("reauth_required", "confirmation expired".into())));
    }
    add_identity(state, client, &user, provider, profile, grant).await
}

/// Links a new identity to `user`, with its tokens.
async fn add_identity(
    state: &AppState,
    client: &Client,
    user: &UserRow,
    provider: &Provider,
    profile: &ExternalProfile,
    grant: &Grant,
) -> Result<Outcome, AppError> {
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    db::users::lock(&mut tx, user.id)
        .await
        .map_err(|e| internal("lock user", e))?
        .ok_or(AppError::Unauthorized)?;
    let identity = Uuid::new_v4();
    match db::identities::insert(
        &mut *tx,
        identity,
        user.id,
        &provider.slug,
        &profile.subject,
        &profile_of(profile),
    )
    .await
    {
        Ok(()) => {}
        Err(LinkError::IdentityTaken) => {
            return Ok(Err(("identity_taken", "linked to another account".into())))
        }
        Err(LinkError::AlreadyLinked) => {
            return Ok(Err((
                "already_linked",
                "one of this provider is linked".into(),
            )))
        }
        Err(LinkError::Db(e)) => return Err(internal("insert identity", e)),
    }
    tokens::store(state, &mut *tx, identity, grant)
        .await
        .map_err(token_error)?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    service::audit(
        state,
        Some(user.id),
        "identity.linked",
        Some(&user.username),
        client,
        json!({ "provider": provider.slug }),
    )
    .await?;
    Ok(Ok(()))
}

/// Whether `user` has linked an account of the provider `slug`.
pub async fn has_identity(state: &AppState, user_id: Uuid, slug: &str) -> Result<bool, AppError> {
    Ok(db::identities::of_user_at(&state.db, user_id, slug)
        .await
        .map_err(|e| internal("find identity", e))?
        .is_some())
}

/// Discord's Linked Roles verification: the member's Discord account is linked (a new link
/// needs a recent confirmation), its tokens (now with `role_connections.write`) kept, and
/// their values sent to Discord.
pub async fn linked_role(
    state: &AppState,
    session: &Session,
    client: &Client,
    started_by: Option<Uuid>,
    provider: &Provider,
    profile: &ExternalProfile,
    grant: &Grant,
) -> Result<Outcome, AppError> {
    let Some(user) = signed_in_as(state, session, started_by).await? else {
        return Ok(Err(("signed_out", "not the account that started".into())));
    };
    match db::identities::find(&state.db, &provider.slug, &profile.subject)
        .await
        .map_err(|e| internal("find identity", e))?
    {
        Some(identity) if identity.user_id != user.id => {
            return Ok(Err(("identity_taken", "linked to another account".into())))
        }
        Some(identity) => {
            let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
            db::identities::record_sign_in(&mut *tx, identity.id, &profile_of(profile))
                .await
                .map_err(|e| internal("record identity", e))?;
            tokens::store(state, &mut *tx, identity.id, grant)
                .await
                .map_err(token_error)?;
            tx.commit().await.map_err(|e| internal("commit", e))?;
        }
        None => {
            if !session::recently_confirmed(session).await? {
                return Ok(Err(("reauth_required", "confirmation expired".into())));
            }
            if let Err(refusal) =
                add_identity(state, client, &user, provider, profile, grant).await?
            {
                return Ok(Err(refusal));
            }
        }
    }
    let pushed = crate::server::discord::roles::connect(state, &user, &grant.access_token).await?;
    service::audit(
        state,
        Some(user.id),
        "discord.connected",
        Some(&user.username),
        client,
        json!({ "pushed": pushed.is_ok() }),
    )
    .await?;
    Ok(pushed.map_err(|reason| ("discord_push_failed", reason)))
}

/// A confirmation through a linked provider, for an account without a password. OpenID
/// providers must show a sign-in of the last five minutes (`auth_time`).
pub async fn reauthenticate(
    state: &AppState,
    session: &Session,
    client: &Client,
    started_by: Option<Uuid>,
    provider: &Provider,
    profile: &ExternalProfile,
) -> Result<Outcome, AppError> {
    let Some(user) = signed_in_as(state, session, started_by).await? else {
        return Ok(Err(("signed_out", "not the account that started".into())));
    };
    if user.password_hash.is_some() {
        return Ok(Err(("use_password", "account has a password".into())));
    }
    let linked = db::identities::find(&state.db, &provider.slug, &profile.subject)
        .await
        .map_err(|e| internal("find identity", e))?
        .is_some_and(|i| i.user_id == user.id);
    if !linked {
        return Ok(Err(("not_linked", "another provider account".into())));
    }
    if provider.kind.is_oidc() {
        let fresh = profile
            .auth_time
            .is_some_and(|at| (chrono::Utc::now() - at).num_seconds() < FRESH_AUTH_SECS);
        if !fresh {
            return Ok(Err(("reauth_stale", "auth_time missing or old".into())));
        }
    }
    session::confirm(session).await?;
    service::audit(
        state,
        Some(user.id),
        "user.reauthenticated",
        Some(&user.username),
        client,
        json!({ "method": provider.slug }),
    )
    .await?;
    Ok(Ok(()))
}

/// The signed-in account, when it is the one that started the flow.
async fn signed_in_as(
    state: &AppState,
    session: &Session,
    started_by: Option<Uuid>,
) -> Result<Option<UserRow>, AppError> {
    match service::current_user(state, session).await {
        Ok(user) if Some(user.id) == started_by => Ok(Some(user)),
        Ok(_) | Err(AppError::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Confirms who the caller is with their password, for changes to how they sign in.
pub async fn confirm_with_password(
    state: &AppState,
    user: &UserRow,
    current: &Session,
    client: &Client,
    password: String,
) -> Result<(), AppError> {
    // A bearer token has no session to hold the confirmation.
    if session::user_id(current, &state.config).await? != Some(user.id) {
        return Err(AppError::forbidden(
            "Confirming who you are needs a browser session, not an API token.",
        ));
    }
    let account = user.id.to_string();
    let subject = throttle::Subject {
        account: &account,
        ip: client.ip,
    };
    throttle::check(state, &subject).await?;
    let verified = password::verify(password, user.password_hash.clone()).await;
    if verified == password::Verified::No {
        throttle::record_failure(state, &subject).await?;
        return Err(AppError::field("password", "is not your password"));
    }
    session::confirm(current).await?;
    service::audit(
        state,
        Some(user.id),
        "user.reauthenticated",
        Some(&user.username),
        client,
        json!({ "method": "password" }),
    )
    .await
}

pub async fn methods(
    state: &AppState,
    user: &UserRow,
    current: &Session,
) -> Result<SignInMethods, AppError> {
    let providers = db::providers::list(&state.db)
        .await
        .map_err(|e| internal("list providers", e))?;
    let identities = db::identities::of_user(&state.db, user.id)
        .await
        .map_err(|e| internal("list identities", e))?;
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let linked: Vec<LinkedIdentity> = identities
        .iter()
        .map(|i| {
            let p = providers.iter().find(|p| p.slug == i.provider);
            LinkedIdentity {
                provider: i.provider.clone(),
                provider_name: p.map_or_else(|| i.provider.clone(), |p| p.display_name.clone()),
                kind: p.map_or_else(String::new, |p| p.kind.clone()),
                display_name: i.display_name.clone(),
                email: i.email.clone(),
                avatar_url: i.avatar_url.clone().filter(|u| u.starts_with("https://")),
                linked_at: time(i.created_at),
                last_login_at: i.last_login_at.map(time),
            }
        })
        .collect();
    Ok(SignInMethods {
        has_password: user.password_hash.is_some(),
        available: providers
            .into_iter()
            .filter(|p| p.enabled && !identities.iter().any(|i| i.provider == p.slug))
            .map(|p| ProviderButton {
                slug: p.slug,
                display_name: p.display_name,
                kind: p.kind,
            })
            .collect(),
        identities: linked,
        recently_confirmed: session::recently_confirmed(current).await?,
    })
}

/// Unlinks a provider from the caller's account. The last way to sign in cannot go, and the
/// change needs a confirmation from the last ten minutes.
pub async fn unlink(
    state: &AppState,
    user: &UserRow,
    current: &Session,
    client: &Client,
    slug: &str,
) -> Result<(), AppError> {
    if !session::recently_confirmed(current).await? {
        return Err(AppError::forbidden(
            "Confirm it is you first: unlinking needs a sign-in or confirmation from the last 10 minutes.",
        ));
    }
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    let locked = db::users::lock(&mut tx, user.id)
        .await
        .map_err(|e| internal("lock user", e))?
        .ok_or(AppError::Unauthorized)?;
    let identities = db::identities::of_user(&mut *tx, user.id)
        .await
        .map_err(|e| internal("list identities", e))?;
    let identity = identities
        .iter()
        .find(|i| i.provider == slug)
        .cloned()
        .ok_or(AppError::NotFound)?;
    if locked.password_hash.is_none() && identities.len() == 1 {
        return Err(AppError::Conflict {
            message:
                "This is your only way to sign in: set a password or link another provider first."
                    .into(),
        });
    }
    clear_discord(state, &identity).await;
    db::identities::delete(&mut *tx, identity.id)
        .await
        .map_err(|e| internal("delete identity", e))?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    revoke(state, &identity).await;
    service::audit(
        state,
        Some(user.id),
        "identity.unlinked",
        Some(&user.username),
        client,
        json!({ "provider": slug }),
    )
    .await
}

/// Empties a Discord role connection while the identity and its grant still work: a
/// connection must not outlive the link.
async fn clear_discord(state: &AppState, identity: &IdentityRow) {
    if identity.provider == crate::server::discord::PROVIDER {
        crate::server::discord::roles::clear(state, identity.user_id).await;
    }
}

/// Revokes an identity's grant at its provider (best effort; see [`tokens::revoke`]).
async fn revoke(state: &AppState, identity: &IdentityRow) {
    match providers::load(state, &identity.provider).await {
        Ok(Some(provider)) => tokens::revoke(state, &provider, identity).await,
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot load a provider to revoke a grant"),
    }
}

/// Revokes every grant an account gave, before the account is deleted.
pub async fn revoke_all_of(state: &AppState, user_id: Uuid) -> Result<(), AppError> {
    let identities = db::identities::of_user(&state.db, user_id)
        .await
        .map_err(|e| internal("list identities", e))?;
    for identity in &identities {
        clear_discord(state, identity).await;
        revoke(state, identity).await;
    }
    Ok(())
}

/// Sets the first password of an account made through a provider.
pub async fn set_first_password(
    state: &AppState,
    user: &UserRow,
    current: &Session,
    client: &Client,
    new_password: String,
) -> Result<(), AppError> {
    if user.password_hash.is_some() {
        return Err(AppError::field(
            "current_password",
            "is required to change your password",
        ));
    }
    if !session::recently_confirmed(current).await? {
        return Err(AppError::forbidden(
            "Confirm it is you first: setting a password needs a sign-in or confirmation from the last 10 minutes.",
        ));
    }
    password::check(&new_password, &[&user.username, &user.email])
        .map_err(|problem| AppError::field("new_password", problem.to_string()))?;
    let hash = password::hash(new_password)
        .await
        .map_err(|e| internal("hash password", e))?;
    db::users::set_password(&state.db, user.id, &hash)
        .await
        .map_err(|e| internal("store password", e))?;
    session::rotate(current).await?;
    service::audit(
        state,
        Some(user.id),
        "password.set",
        Some(&user.username),
        client,
        json!({}),
    )
    .await
}

/// Deletes a provider's identities and the provider. Refused when accounts are linked and the
/// caller did not choose to unlink them, or when unlinking would leave an account with no
/// way to sign in. Returns how many identities went.
pub async fn remove_provider(
    state: &AppState,
    slug: &str,
    unlink_linked: bool,
) -> Result<i64, AppError> {
    let provider = providers::load(state, slug).await?;
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    db::providers::lock(&mut tx, slug)
        .await
        .map_err(|e| internal("lock provider", e))?
        .ok_or(AppError::NotFound)?;
    let linked = db::identities::of_provider(&mut *tx, slug)
        .await
        .map_err(|e| internal("list identities", e))?;
    if !linked.is_empty() && !unlink_linked {
        return Err(AppError::Conflict {
            message: format!(
                "{} account(s) sign in with this provider. Delete with linked_accounts=unlink to unlink them.",
                linked.len()
            ),
        });
    }
    let mut user_ids: Vec<Uuid> = linked.iter().map(|i| i.user_id).collect();
    user_ids.sort();
    let mut stranded = Vec::new();
    for user_id in &user_ids {
        let Some(user) = db::users::lock(&mut tx, *user_id)
            .await
            .map_err(|e| internal("lock user", e))?
        else {
            continue;
        };
        let others = db::identities::of_user(&mut *tx, user.id)
            .await
            .map_err(|e| internal("list identities", e))?
            .into_iter()
            .filter(|i| i.provider != slug)
            .count();
        if user.password_hash.is_none() && others == 0 {
            stranded.push(user.username);
        }
    }
    if !stranded.is_empty() {
        return Err(AppError::Conflict {
            message: format!(
                "These accounts would have no way to sign in: {}. They need a password or another provider first.",
                stranded.join(", ")
            ),
        });
    }
    for identity in &linked {
        clear_discord(state, identity).await;
        db::identities::delete(&mut *tx, identity.id)
            .await
            .map_err(|e| internal("delete identity", e))?;
    }
    db::providers::delete(&mut *tx, slug)
        .await
        .map_err(|e| internal("delete provider", e))?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    if let Some(provider) = provider {
        for identity in &linked {
            tokens::revoke(state, &provider, identity).await;
        }
    }
    Ok(linked.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::username_base;

    #[test]
    fn usernames_from_handles_are_valid() {
        assert_eq!(username_base("octocat"), "octocat");
        assert_eq!(username_base("-._jo"), "userjo");
        assert_eq!(username_base("Zoë Smith"), "ZoSmith");
        assert_eq!(username_base(""), "user");
        assert_eq!(username_base(&"a".repeat(40)).len(), 32);
    }
}
