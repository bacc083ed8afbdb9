//! Push webhooks: GitHub's (`POST /hooks/github/{id}`, HMAC-SHA256 signed with a secret per
//! deployment) and a generic one for other Git hosts and CI (`POST /hooks/deploy/{id}`, with
//! an API token). Every delivery is recorded with its outcome; a delivery id is honoured once,
//! and only once it is authenticated, so a forgery cannot use up a real delivery's id.
//!
//! The handler checks, records and queues in one transaction and answers at once: the build
//! runs in the deployer like any other release.

use axum::http::{HeaderMap, StatusCode};
use chrono::SecondsFormat;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

use super::service;
use crate::{
    error::AppError,
    features::deployments::types::{
        GenericDeployRequest, WebhookDelivery, WebhookInfo, WebhookSecret,
    },
    server::{
        auth::service::{audit, Client},
        db::{
            self,
            deployments::DeploymentRow,
            users::UserRow,
            webhooks::{DeliveryRow, NewDelivery},
        },
        error::internal,
        AppState,
    },
};

fn secret_context(deployment: Uuid) -> String {
    format!("webhook:{deployment}:secret")
}

/// GitHub's `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body,
/// compared in constant time.
pub fn github_signature_valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn info(state: &AppState, id: Uuid, row: Option<&db::webhooks::WebhookRow>) -> WebhookInfo {
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    WebhookInfo {
        enabled: row.is_some(),
        url: format!("{}/hooks/github/{id}", state.public_url),
        generic_url: format!("{}/hooks/deploy/{id}", state.public_url),
        created_at: row.map(|r| time(r.created_at)),
        rotated_at: row.map(|r| time(r.rotated_at)),
    }
}

pub async fn get(state: &AppState, user: &UserRow, id: &str) -> Result<WebhookInfo, AppError> {
    let row = service::load_for(state, user, id).await?;
    let hook = db::webhooks::find(&state.db, row.id)
        .await
        .map_err(|e| internal("load webhook", e))?;
    Ok(info(state, row.id, hook.as_ref()))
}

/// Turns the webhook on, or rotates its secret: the new secret is shown this once and the old
/// one stops working at once.
pub async fn enable(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
) -> Result<WebhookSecret, AppError> {
    let row = service::load_for(state, user, id).await?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| internal("randomness", e))?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let sealed = state
        .cipher
        .seal(&secret_context(row.id), secret.as_bytes())
        .map_err(|e| internal("seal webhook secret", e))?;
    let hook = db::webhooks::put(&state.db, row.id, &sealed)
        .await
        .map_err(|e| internal("store webhook", e))?;
    let rotated = hook.rotated_at > hook.created_at;
    audit(
        state,
        Some(user.id),
        if rotated {
            "deployment.webhook_rotated"
        } else {
            "deployment.webhook_enabled"
        },
        Some(&row.subdomain),
        client,
        json!({}),
    )
    .await?;
    Ok(WebhookSecret {
        info: info(state, row.id, Some(&hook)),
        secret,
    })
}

pub async fn disable(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
) -> Result<(), AppError> {
    let row = service::load_for(state, user, id).await?;
    if db::webhooks::delete(&state.db, row.id)
        .await
        .map_err(|e| internal("delete webhook", e))?
    {
        audit(
            state,
            Some(user.id),
            "deployment.webhook_disabled",
            Some(&row.subdomain),
            client,
            json!({}),
        )
        .await?;
    }
    Ok(())
}

fn delivery(row: DeliveryRow) -> WebhookDelivery {
    WebhookDelivery {
        id: row.id,
        source: row.source,
        delivery_id: row.delivery_id,
        event: row.event,
        outcome: row.outcome,
        detail: row.detail,
        commit_sha: row.commit_sha,
        release_id: row.release_id.map(|r| r.to_string()),
        repeats: row.repeats,
        received_at: row.received_at.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

pub async fn deliveries(
    state: &AppState,
    user: &UserRow,
    id: &str,
) -> Result<Vec<WebhookDelivery>, AppError> {
    let row = service::load_for(state, user, id).await?;
    Ok(db::webhooks::recent(&state.db, row.id, 50)
        .await
        .map_err(|e| internal("list deliveries", e))?
        .into_iter()
        .map(delivery)
        .collect())
}

/// An answer to a webhook call: the status and a small JSON body saying what happened.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

fn answer(status: StatusCode, outcome: &str, detail: &str, release: Option<Uuid>) -> Answer {
    let mut body = json!({ "outcome": outcome, "detail": detail });
    if let Some(release) = release {
        body["release_id"] = json!(release.to_string());
    }
    Answer { status, body }
}

fn counted(source: &str, answer: Answer) -> Answer {
    let outcome = answer.body["outcome"]
        .as_str()
        .unwrap_or("refused")
        .to_owned();
    metrics::counter!("webhook_deliveries_total", "source" => source.to_owned(), "outcome" => outcome)
        .increment(1);
    answer
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_sha(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `POST /hooks/github/{id}`.
pub async fn github(
    state: &AppState,
    client: &Client,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Answer, AppError> {
    let not_found = || answer(StatusCode::NOT_FOUND, "refused", "no webhook here", None);
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(not_found());
    };
    let Some(hook) = db::webhooks::find(&state.db, id)
        .await
        .map_err(|e| internal("load webhook", e))?
    else {
        // No webhook (or no deployment): nothing is recorded, nothing is told.
        return Ok(not_found());
    };
    let secret = state
        .cipher
        .open(&secret_context(id), &hook.secret)
        .map_err(|e| internal("open webhook secret", e))?;
    let event = header(headers, "x-github-event")
        .unwrap_or("unknown")
        .chars()
        .take(50)
        .collect::<String>();
    let delivery_id =
        header(headers, "x-github-delivery").map(|d| d.chars().take(200).collect::<String>());
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| internal("acquire", e))?;
    if !github_signature_valid(&secret, body, header(headers, "x-hub-signature-256")) {
        db::webhooks::record_refused(
            &mut conn,
            &NewDelivery {
                deployment: id,
                source: "github",
                delivery_id: delivery_id.as_deref(),
                event: &event,
                outcome: "refused",
                detail: "the signature (X-Hub-Signature-256) is missing or wrong",
                commit_sha: None,
                release_id: None,
            },
        )
        .await
        .map_err(|e| internal("record delivery", e))?;
        return Ok(counted(
            "github",
            answer(
                StatusCode::UNAUTHORIZED,
                "refused",
                "invalid signature",
                None,
            ),
        ));
    }
    drop(conn);
    let Some(delivery_id) = delivery_id else {
        return Ok(counted(
            "github",
            answer(
                StatusCode::BAD_REQUEST,
                "refused",
                "no X-GitHub-Delivery header",
                None,
            ),
        ));
    };
    let (outcome, detail, commit) = match event.as_str() {
        "ping" => ("pong", "GitHub says hello".to_owned(), None),
        "push" => match push_target(body) {
            Err(problem) => ("refused", problem, None),
            Ok(push) => ("queued", String::new(), Some(push)),
        },
        other => ("ignored", format!("`{other}` events do not deploy"), None),
    };
    let result = receive(
        state,
        client,
        id,
        Incoming {
            source: "github",
            delivery_id: &delivery_id,
            event: &event,
            outcome,
            detail: &detail,
            push: commit,
            actor: None,
        },
    )
    .await?;
    Ok(counted("github", result))
}

/// What a push payload names: the branch ref, the new head, whether the branch was deleted.
struct Push {
    git_ref: String,
    after: String,
    deleted: bool,
}

fn push_target(body: &[u8]) -> Result<Push, String> {
    let payload: Value = serde_json::from_slice(body)
        .map_err(|_| "the body is not a push payload (JSON)".to_owned())?;
    let git_ref = payload["ref"]
        .as_str()
        .ok_or("the push payload has no `ref`")?
        .to_owned();
    let deleted = payload["deleted"].as_bool().unwrap_or(false);
    let after = payload["after"].as_str().unwrap_or_default().to_owned();
    if !deleted && !is_sha(&after) {
        return Err("the push payload's `after` is not a commit id".into());
    }
    Ok(Push {
        git_ref,
        after,
        deleted,
    })
}

/// An authenticated delivery, and what its checks so far made of it.
struct Incoming<'a> {
    source: &'a str,
    delivery_id: &'a str,
    event: &'a str,
    /// `queued` when it asks for a release (the tracked branch is checked here), else final.
    outcome: &'a str,
    detail: &'a str,
    push: Option<Push>,
    /// Who asked, when a person did (the generic hook's token owner).
    actor: Option<&'a UserRow>,
}

/// Records an authenticated delivery once and queues what it asks for, in one transaction.
async fn receive(
    state: &AppState,
    client: &Client,
    id: Uuid,
    incoming: Incoming<'_>,
) -> Result<Answer, AppError> {
    let Incoming {
        source,
        delivery_id,
        event,
        outcome,
        detail,
        push,
        actor,
    } = incoming;
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    let row = db::deployments::find(&mut *tx, id)
        .await
        .map_err(|e| internal("load deployment", e))?
        .ok_or(AppError::NotFound)?;
    let commit = push
        .as_ref()
        .filter(|p| !p.deleted && !p.after.is_empty())
        .map(|p| p.after.clone());
    let claimed = db::webhooks::claim(
        &mut tx,
        &NewDelivery {
            deployment: id,
            source,
            delivery_id: Some(delivery_id),
            event,
            outcome,
            detail,
            commit_sha: commit.as_deref(),
            release_id: None,
        },
    )
    .await
    .map_err(|e| internal("record delivery", e))?;
    let delivery = match claimed {
        Ok(delivery) => delivery,
        Err(earlier) => {
            tx.commit().await.map_err(|e| internal("commit", e))?;
            // The same delivery again (GitHub's "Redeliver", a retry): its first outcome.
            if source == "generic" && earlier.commit_sha != commit {
                return Err(AppError::field(
                    "idempotency_key",
                    "was used before for another commit",
                ));
            }
            let mut a = answer(
                StatusCode::OK,
                &earlier.outcome,
                "received before: this is its first outcome",
                earlier.release_id,
            );
            a.body["received_before"] = json!(true);
            return Ok(a);
        }
    };
    let branch_ref = format!("refs/heads/{}", row.branch);
    let settled = match push {
        _ if outcome != "queued" => (outcome.to_owned(), detail.to_owned(), None),
        Some(p) if p.git_ref != branch_ref => (
            "ignored".into(),
            format!(
                "a push to {}, not to the tracked branch {}",
                p.git_ref, row.branch
            ),
            None,
        ),
        Some(p) if p.deleted => ("ignored".into(), format!("{} was deleted", p.git_ref), None),
        _ if row.state == "deleting" => (
            "ignored".into(),
            "the deployment is being deleted".into(),
            None,
        ),
        _ => {
            service::lock_for_change(&mut tx, id).await?;
            let release =
                service::queue_build(&mut tx, &row, &format!("{source}-hook"), commit.as_deref())
                    .await?;
            ("queued".into(), String::new(), Some(release))
        }
    };
    db::webhooks::settle(&mut *tx, delivery, &settled.0, &settled.1, settled.2)
        .await
        .map_err(|e| internal("record delivery", e))?;
    db::webhooks::forget_old(&mut *tx, id)
        .await
        .map_err(|e| internal("prune deliveries", e))?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    if let Some(release) = settled.2 {
        state.deployer.wake();
        crate::server::live::events::changed(state, id).await;
        audit(
            state,
            actor.map(|a| a.id),
            "deployment.webhook_deployed",
            Some(&row.subdomain),
            client,
            json!({ "source": source, "delivery": delivery_id, "commit": commit, "release_id": release.to_string() }),
        )
        .await?;
        return Ok(answer(StatusCode::ACCEPTED, "queued", "", Some(release)));
    }
    Ok(answer(StatusCode::OK, &settled.0, &settled.1, None))
}

/// `POST /hooks/deploy/{id}` with an API token: deploys the branch's head, or `commit` (which
/// must be on the branch). An `Idempotency-Key` makes retries safe.
pub async fn generic(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
    idempotency_key: Option<&str>,
    request: GenericDeployRequest,
) -> Result<Answer, AppError> {
    let row: DeploymentRow = service::load_for(state, user, id).await?;
    let commit = match request
        .commit
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) if is_sha(&c.to_ascii_lowercase()) => Some(c.to_ascii_lowercase()),
        Some(_) => {
            return Err(AppError::field(
                "commit",
                "must be a full commit id (40 hexadecimal characters)",
            ))
        }
        None => None,
    };
    let key = match idempotency_key.map(str::trim) {
        Some(k) if k.is_empty() || k.len() > 200 => {
            return Err(AppError::field(
                "idempotency_key",
                "must be 1 to 200 characters",
            ))
        }
        Some(k) => k.to_owned(),
        // Without a key every call is new.
        None => Uuid::new_v4().to_string(),
    };
    let push = Push {
        git_ref: format!("refs/heads/{}", row.branch),
        after: commit.clone().unwrap_or_default(),
        deleted: false,
    };
    let mut result = receive(
        state,
        client,
        row.id,
        Incoming {
            source: "generic",
            delivery_id: &key,
            event: "deploy",
            outcome: "queued",
            detail: "",
            push: Some(push),
            actor: Some(user),
        },
    )
    .await?;
    if commit.is_none() {
        result.body["detail"] = json!("the branch's head");
    }
    Ok(counted("generic", result))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example (Validating webhook deliveries).
    #[test]
    fn githubs_documented_test_vector_verifies() {
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(github_signature_valid(secret, body, Some(good)));
        assert!(!github_signature_valid(
            secret,
            b"Hello, World?",
            Some(good)
        ));
        assert!(!github_signature_valid(b"another secret", body, Some(good)));
        assert!(!github_signature_valid(
            secret,
            body,
            Some(&good.replace("sha256=", "sha1="))
        ));
        assert!(!github_signature_valid(
            secret,
            body,
            Some(&good[..good.len() - 2])
        ));
        assert!(!github_signature_valid(secret, body, None));
        let mut flipped = good.to_owned().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = b'6';
        assert!(!github_signature_valid(
            secret,
            body,
            Some(std::str::from_utf8(&flipped).unwrap())
        ));
    }
}
