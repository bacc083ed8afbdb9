//! Passwords: the NIST 800-63B rules and argon2id hashing, always off the async runtime.

use std::{collections::HashSet, sync::OnceLock};

use argon2::{
    password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier},
    Algorithm, Argon2, Params, Version,
};

/// Counted in Unicode scalar values, as a person counts characters.
pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

static COMMON: &str = include_str!("../../../assets/common-passwords.txt");

/// Why a password is refused, worded for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("must be at least {MIN_CHARS} characters")]
    TooShort,
    #[error("must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("is one of the most common passwords; choose another")]
    Common,
    #[error("must not be your username or email address")]
    SameAsIdentity,
}

/// NIST 800-63B: length 12..=128, no composition rules, not a common password, not the
/// account's own name. Passwords are never trimmed or truncated.
pub fn check(password: &str, identities: &[&str]) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lowered = password.to_lowercase();
    if common().contains(lowered.as_str()) {
        return Err(PasswordProblem::Common);
    }
    if identities
        .iter()
        .any(|id| !id.is_empty() && id.to_lowercase() == lowered)
    {
        return Err(PasswordProblem::SameAsIdentity);
    }
    Ok(())
}

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().filter(|l| !l.is_empty()).collect())
}

/// argon2id with the OWASP parameters: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(Params::DEFAULT_M_COST, Params::DEFAULT_T_COST, 1, None)
        .expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads argon2 runs on: all cores but one, so a burst of sign-ins queues here instead
/// of taking every core from the async runtime (measured: with both cores hashing, `/health`
/// p99 went from 47 ms to 195 ms; see docs/BENCHMARKS.md). Long-lived threads of our own,
/// not tokio's blocking pool: each hash allocates 19 MiB, and glibc keeps freed memory in the
/// arena of the thread that used it, so hashes spread over dozens of short-lived pool threads
/// left hundreds of MiB resident after a burst of logins. A fixed set reuses its memory.
fn hash_threads() -> &'static std::sync::mpsc::Sender<Job> {
    static POOL: OnceLock<std::sync::mpsc::Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for n in 0..cores.saturating_sub(1).max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("start a password hashing thread");
        }
        tx
    })
}

/// Runs one argon2 computation on [`hash_threads`].
async fn run_limited<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    hash_threads()
        .send(Box::new(move || {
            let _ = tx.send(work());
        }))
        .ok()?;
    rx.await.ok()
}

/// Hashes on the hashing threads: 19 MiB and tens of milliseconds of CPU per call would
/// otherwise stall every request sharing the runtime thread.
pub async fn hash(password: String) -> Result<String, HashError> {
    run_limited(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .unwrap_or_else(|| Err(HashError("the hashing task did not finish".to_owned())))
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but hashed with weaker parameters than today's: store a new hash.
    YesNeedsRehash,
}

/// Verifies on the hashing threads. With no stored hash (unknown user, account without a
/// password) it still spends one full hash, so timing does not tell which accounts exist.
pub async fn verify(password: String, stored: Option<String>) -> Verified {
    run_limited(move || {
        let Some(stored) = stored else {
            let _ = hasher().hash_password(password.as_bytes());
            return Verified::No;
        };
        let Ok(parsed) = PasswordHash::new(&stored) else {
            let _ = hasher().hash_password(password.as_bytes());
            return Verified::No;
        };
        if hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Verified::No;
        }
        if is_current(&parsed) {
            Verified::Yes
        } else {
            Verified::YesNeedsRehash
        }
    })
    .await
    .unwrap_or(Verified::No)
}

fn is_current(parsed: &PasswordHash) -> bool {
    let wanted = hasher();
    let wanted = wanted.params();
    parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(parsed).is_ok_and(|p| {
            p.m_cost() >= wanted.m_cost()
                && p.t_cost() >= wanted.t_cost()
                && p.p_cost() >= wanted.p_cost()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert_eq!(check("ééééééééééé", &[]), Err(PasswordProblem::TooShort)); // 11 chars, 22 bytes
        assert_eq!(check("éééééééééééé", &[]), Ok(()));
        assert_eq!(check(&"a".repeat(129), &[]), Err(PasswordProblem::TooLong));
        assert_eq!(check(&"ab".repeat(64), &[]), Ok(()));
    }

    #[test]
    fn common_passwords_and_own_names_are_refused() {
        assert_eq!(common().len(), 10_000);
        let long_common: Vec<&str> = COMMON.lines().filter(|p| p.chars().count() >= 12).collect();
        assert!(!long_common.is_empty());
        for password in long_common {
            assert_eq!(
                check(password, &[]),
                Err(PasswordProblem::Common),
                "{password}"
            );
            assert_eq!(
                check(&password.to_uppercase(), &[]),
                Err(PasswordProblem::Common),
                "{password}"
            );
        }
        assert_eq!(
            check(
                "Ada.Lovelace.1815",
                &["ada.lovelace.1815", "ada@example.com"]
            ),
            Err(PasswordProblem::SameAsIdentity)
        );
    }

    #[test]
    fn any_characters_are_allowed() {
        assert_eq!(check("correct horse battery staple", &[]), Ok(()));
        assert_eq!(check("  leading and trailing  ", &[]), Ok(()));
        assert_eq!(check("пароль-на-русском", &[]), Ok(()));
    }
}
