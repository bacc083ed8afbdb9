//! Brute-force protection for sign-in, counted in Redis so every Slipway process shares it:
//! 10 failures on one account within 15 minutes lock it for 15 minutes, and 100 failures
//! from one address within an hour stop that address until the hour is over.

use std::net::IpAddr;

use fred::{
    interfaces::KeysInterface,
    types::{Expiration, ExpireOptions},
};

use crate::{error::AppError, server::AppState};

pub const ACCOUNT_MAX_FAILURES: i64 = 10;
pub const ACCOUNT_WINDOW_SECS: i64 = 15 * 60;
pub const ACCOUNT_LOCK_SECS: i64 = 15 * 60;
pub const IP_MAX_FAILURES: i64 = 100;
pub const IP_WINDOW_SECS: i64 = 60 * 60;

/// What the counters are kept under: the account's id when it exists, else the login as
/// typed (lowercased), so probing unknown names is limited too.
pub struct Subject<'a> {
    pub account: &'a str,
    pub ip: Option<IpAddr>,
}

struct Keys {
    account_failures: String,
    account_lock: String,
    ip_failures: Option<String>,
}

fn keys(state: &AppState, subject: &Subject<'_>) -> Keys {
    let prefix = &state.config.redis_key_prefix;
    Keys {
        account_failures: format!("{prefix}login:failures:account:{}", subject.account),
        account_lock: format!("{prefix}login:lock:account:{}", subject.account),
        ip_failures: subject
            .ip
            .map(|ip| format!("{prefix}login:failures:ip:{ip}")),
    }
}

/// `Err(TooManyRequests)` while the account or the address is locked out.
pub async fn check(state: &AppState, subject: &Subject<'_>) -> Result<(), AppError> {
    let keys = keys(state, subject);
    let lock_ttl: i64 = state
        .redis
        .ttl(&keys.account_lock)
        .await
        .map_err(unavailable)?;
    if lock_ttl > 0 {
        return Err(AppError::TooManyRequests {
            retry_after_secs: lock_ttl as u64,
        });
    }
    if let Some(ip_key) = &keys.ip_failures {
        let failures: Option<i64> = state.redis.get(ip_key).await.map_err(unavailable)?;
        if failures.unwrap_or(0) >= IP_MAX_FAILURES {
            let ttl: i64 = state.redis.ttl(ip_key).await.map_err(unavailable)?;
            return Err(AppError::TooManyRequests {
                retry_after_secs: ttl.max(1) as u64,
            });
        }
    }
    Ok(())
}

/// Counts a failure; returns the lock-out in seconds when this one crossed a limit.
pub async fn record_failure(
    state: &AppState,
    subject: &Subject<'_>,
) -> Result<Option<u64>, AppError> {
    let keys = keys(state, subject);
    let account: i64 = state
        .redis
        .incr(&keys.account_failures)
        .await
        .map_err(unavailable)?;
    // NX: the window starts at the first failure and is not pushed back by later ones.
    let _: i64 = state
        .redis
        .expire(
            &keys.account_failures,
            ACCOUNT_WINDOW_SECS,
            Some(ExpireOptions::NX),
        )
        .await
        .map_err(unavailable)?;
    let mut locked = None;
    if account >= ACCOUNT_MAX_FAILURES {
        let _: () = state
            .redis
            .set(
                &keys.account_lock,
                1,
                Some(Expiration::EX(ACCOUNT_LOCK_SECS)),
                None,
                false,
            )
            .await
            .map_err(unavailable)?;
        let _: i64 = state
            .redis
            .del(&keys.account_failures)
            .await
            .map_err(unavailable)?;
        locked = Some(ACCOUNT_LOCK_SECS as u64);
    }
    if let Some(ip_key) = &keys.ip_failures {
        let ip: i64 = state.redis.incr(ip_key).await.map_err(unavailable)?;
        let _: i64 = state
            .redis
            .expire(ip_key, IP_WINDOW_SECS, Some(ExpireOptions::NX))
            .await
            .map_err(unavailable)?;
        if ip >= IP_MAX_FAILURES && locked.is_none() {
            let ttl: i64 = state.redis.ttl(ip_key).await.map_err(unavailable)?;
            locked = Some(ttl.max(1) as u64);
        }
    }
    Ok(locked)
}

/// A successful sign-in forgives the account's earlier failures (not the address's).
pub async fn clear_account(state: &AppState, subject: &Subject<'_>) -> Result<(), AppError> {
    let keys = keys(state, subject);
    let _: i64 = state
        .redis
        .del(&keys.account_failures)
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Without Redis there is no brute-force protection, so sign-in waits for it to return.
fn unavailable(e: fred::error::Error) -> AppError {
    tracing::error!(error = %e, "login throttle: redis unavailable");
    AppError::Unavailable {
        message: "Sign-in is unavailable for a moment. Try again shortly.".to_owned(),
    }
}
