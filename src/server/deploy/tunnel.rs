//! Keeps each live deployment's public route through Cloudflare (tunnel rule and CNAME) in
//! place, records on the deployment what Slipway made, and shows why when it could not.
//! Routing through Cloudflare never fails a release: the app already answers through nginx,
//! and the reconciler retries until Cloudflare agrees.
//!
//! Every change reads the deployment and records the outcome inside the Cloudflare lock, so a
//! delete (which takes the same lock) always sees what a concurrent publish made.

use uuid::Uuid;

use super::{
    cloudflare::{marker, Made},
    service::host_name,
};
use crate::server::{
    db::deployments::{self as db, DeploymentRow},
    AppState,
};

fn made_of(d: &DeploymentRow) -> Made {
    Made {
        rule: d.tunnel_host.clone().zip(d.tunnel_service.clone()),
        record: d.dns_record_id.clone(),
    }
}

fn record(made: &Made) -> Option<(&str, &str)> {
    made.rule.as_ref().map(|(h, s)| (h.as_str(), s.as_str()))
}

/// Adds what is missing of the deployment's rule and CNAME. `Ok(None)`: Cloudflare is not
/// configured, or the deployment is gone or being deleted. An error is also stored as the
/// deployment's `routing_error`.
pub async fn publish(state: &AppState, id: Uuid) -> Result<Option<Made>, String> {
    let Some(cf) = state.cloudflare.as_deref() else {
        return Ok(None);
    };
    let mut lock = cf.lock().await?;
    let d = match db::find(&mut *lock.tx, id).await {
        Ok(Some(d)) if d.state != "deleting" => d,
        Ok(_) => return Ok(None),
        Err(e) => return Err(format!("the database is not reachable: {e}")),
    };
    let host = host_name(&state.config, &d.subdomain);
    let mut made = made_of(&d);
    let outcome = lock.ensure(d.id, &host, &mut made).await;
    let error = outcome
        .as_ref()
        .err()
        .map(|e| format!("Cloudflare Tunnel: {e}"));
    db::set_cloudflare_routing(
        &mut *lock.tx,
        d.id,
        record(&made),
        made.record.as_deref(),
        error.as_deref(),
    )
    .await
    .map_err(|e| format!("the database is not reachable: {e}"))?;
    lock.commit().await?;
    if error != d.routing_error {
        crate::server::live::events::changed(state, d.id).await;
    }
    match outcome {
        Ok(()) => Ok(Some(made)),
        Err(e) => {
            tracing::warn!(deployment = %d.id, host = %host, error = %e, "routing through Cloudflare");
            Err(e)
        }
    }
}

/// Whether the route is recorded as complete for the deployment's current host name.
pub fn is_published(state: &AppState, d: &DeploymentRow) -> bool {
    let Some(cf) = state.cloudflare.as_deref() else {
        return true;
    };
    d.tunnel_host.as_deref() == Some(host_name(&state.config, &d.subdomain).as_str())
        && d.tunnel_service.as_deref() == Some(cf.origin())
        && d.dns_record_id.is_some()
        && d.routing_error.is_none()
}

/// Removes the deployment's rule and CNAME; safe to repeat.
pub async fn unpublish(state: &AppState, id: Uuid) -> Result<(), String> {
    let Some(cf) = state.cloudflare.as_deref() else {
        if let Ok(Some(d)) = db::find(&state.db, id).await {
            if d.tunnel_host.is_some() || d.dns_record_id.is_some() {
                tracing::warn!(
                    deployment = %d.id,
                    tunnel_host = ?d.tunnel_host,
                    dns_record = ?d.dns_record_id,
                    "Cloudflare is no longer configured: remove this deployment's tunnel rule and DNS record by hand"
                );
            }
        }
        return Ok(());
    };
    let mut lock = cf.lock().await?;
    let Some(d) = db::find(&mut *lock.tx, id)
        .await
        .map_err(|e| format!("the database is not reachable: {e}"))?
    else {
        return Ok(());
    };
    let host = host_name(&state.config, &d.subdomain);
    let mut made = made_of(&d);
    let outcome = lock.remove(d.id, &host, &mut made).await;
    // Whatever went already is forgotten, so a retry does not look for it again.
    db::set_cloudflare_routing(
        &mut *lock.tx,
        d.id,
        record(&made),
        made.record.as_deref(),
        d.routing_error.as_deref(),
    )
    .await
    .map_err(|e| format!("the database is not reachable: {e}"))?;
    lock.commit().await?;
    outcome.map_err(|e| format!("Cloudflare Tunnel: {e}"))
}

/// One read of the tunnel and the zone; a live deployment whose rule or CNAME is missing
/// (removed in the dashboard, say), was never made, or failed last time is routed again.
pub async fn repair(state: &AppState, deployments: &[DeploymentRow]) {
    let Some(cf) = state.cloudflare.as_deref() else {
        return;
    };
    let wanted: Vec<&DeploymentRow> = deployments
        .iter()
        .filter(|d| d.current_release_id.is_some() && d.state != "deleting")
        .collect();
    if wanted.is_empty() {
        return;
    }
    let snapshot = match cf.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(e) => {
            tracing::warn!(error = %e, "checking the Cloudflare Tunnel's routes");
            return;
        }
    };
    for d in wanted {
        let host = host_name(&state.config, &d.subdomain);
        let mark = marker(d.id);
        let rule_there = snapshot.rules.get(&host).map(String::as_str) == Some(cf.origin());
        let record_there = d.dns_record_id.as_deref().is_some_and(|id| {
            snapshot.records.iter().any(|r| {
                r.id == id
                    && r.name.eq_ignore_ascii_case(&host)
                    && r.comment.as_deref().is_some_and(|c| c.starts_with(&mark))
            })
        });
        if !(rule_there && record_there && is_published(state, d)) {
            if d.routing_error.is_none() {
                tracing::warn!(deployment = %d.id, host = %host, "restoring a missing Cloudflare route");
            }
            let _ = publish(state, d.id).await;
        }
    }
}
