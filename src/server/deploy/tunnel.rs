//! Keeps each live deployment's public route through Cloudflare (tunnel rule and CNAME) in
//! place, records on the deployment what exists, and shows why when it does not. Routing
//! through Cloudflare never fails a release: the app already answers through nginx, and the
//! reconciler retries until Cloudflare agrees.

use super::{cloudflare::Route, service::host_name};
use crate::server::{
    db::deployments::{self as db, DeploymentRow},
    AppState,
};

/// Adds the deployment's rule and CNAME where missing. `Ok(None)`: Cloudflare is not
/// configured. An error is also stored as the deployment's `routing_error`.
pub async fn publish(state: &AppState, d: &DeploymentRow) -> Result<Option<Route>, String> {
    let Some(cf) = state.cloudflare.as_deref() else {
        return Ok(None);
    };
    let host = host_name(&state.config, &d.subdomain);
    let mut route = Route::default();
    let outcome = cf.ensure(d.id, &host, &mut route).await;
    let tunnel_host = if route.rule {
        Some(host.as_str())
    } else {
        d.tunnel_host.as_deref()
    };
    let record = route.record.as_deref().or(d.dns_record_id.as_deref());
    let error = outcome
        .as_ref()
        .err()
        .map(|e| format!("Cloudflare Tunnel: {e}"));
    if let Err(e) =
        db::set_cloudflare_routing(&state.db, d.id, tunnel_host, record, error.as_deref()).await
    {
        tracing::warn!(deployment = %d.id, error = %e, "recording the Cloudflare route");
    }
    match outcome {
        Ok(()) => Ok(Some(route)),
        Err(e) => {
            tracing::warn!(deployment = %d.id, host = %host, error = %e, "routing through Cloudflare");
            Err(e)
        }
    }
}

/// Whether the route is recorded as complete for the deployment's current host name.
pub fn is_published(state: &AppState, d: &DeploymentRow) -> bool {
    state.cloudflare.is_none()
        || (d.tunnel_host.as_deref() == Some(host_name(&state.config, &d.subdomain).as_str())
            && d.dns_record_id.is_some()
            && d.routing_error.is_none())
}

/// Removes the deployment's rule and CNAME; safe to repeat.
pub async fn unpublish(state: &AppState, d: &DeploymentRow) -> Result<(), String> {
    let Some(cf) = state.cloudflare.as_deref() else {
        if d.tunnel_host.is_some() || d.dns_record_id.is_some() {
            tracing::warn!(
                deployment = %d.id,
                tunnel_host = ?d.tunnel_host,
                dns_record = ?d.dns_record_id,
                "Cloudflare is no longer configured: remove this deployment's tunnel rule and DNS record by hand"
            );
        }
        return Ok(());
    };
    let host = host_name(&state.config, &d.subdomain);
    let made_rule = d.tunnel_host.as_deref() == Some(host.as_str());
    cf.remove(&host, d.dns_record_id.as_deref(), made_rule)
        .await
        .map_err(|e| format!("Cloudflare Tunnel: {e}"))?;
    // BASE_DOMAIN changed since the rule was made: that name goes too.
    if let Some(old) = d.tunnel_host.as_deref().filter(|h| *h != host) {
        cf.remove(old, None, true)
            .await
            .map_err(|e| format!("Cloudflare Tunnel: {e}"))?;
    }
    db::set_cloudflare_routing(&state.db, d.id, None, None, None)
        .await
        .map_err(|e| e.to_string())
}

/// One read of the tunnel configuration; deployments whose rule is missing (removed in the
/// dashboard, say), whose CNAME was never made or whose last attempt failed are routed again.
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
    let routed = match cf.routed_hosts().await {
        Ok(hosts) => hosts,
        Err(e) => {
            tracing::warn!(error = %e, "checking the Cloudflare Tunnel's rules");
            return;
        }
    };
    for d in wanted {
        let host = host_name(&state.config, &d.subdomain);
        if !routed.contains(&host) || !is_published(state, d) {
            if d.routing_error.is_none() {
                tracing::warn!(deployment = %d.id, host = %host, "restoring a missing Cloudflare route");
            }
            let _ = publish(state, d).await;
        }
    }
}
