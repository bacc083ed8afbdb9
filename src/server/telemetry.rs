//! Logs and metrics: tracing (JSON in production, readable in development) and the
//! Prometheus recorder behind `GET /metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use super::config::{Config, LogFormat};

/// Installs the global subscriber once; later calls (several apps in one test process) keep it.
pub fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match config.log_format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
}

/// The process-wide metrics recorder. The `metrics` facade has one global recorder, so every
/// app in a process (tests run several) shares it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                // Builds and health checks take seconds to minutes.
                .set_buckets_for_metric(
                    Matcher::Full("build_duration_seconds".into()),
                    &[1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0],
                )
                .expect("bucket list is not empty")
                .set_buckets_for_metric(
                    Matcher::Full("health_check_duration_seconds".into()),
                    &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
                )
                .expect("bucket list is not empty")
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0,
                    ],
                )
                .expect("bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first, which nothing in Slipway does.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

/// Deployments by state and active sessions, read now. A store that does not answer leaves
/// the last values (and the health check says why).
pub async fn record_state_gauges(state: &super::AppState) {
    use crate::features::deployments::types::DeploymentState;
    match super::db::deployments::count_by_state(&state.db).await {
        Ok(counts) => {
            for s in DeploymentState::ALL {
                let n = counts
                    .iter()
                    .find(|(name, _)| name == s.as_str())
                    .map_or(0, |(_, n)| *n);
                metrics::gauge!("deployments", "state" => s.as_str()).set(n as f64);
            }
        }
        Err(e) => tracing::debug!(error = %e, "counting deployments for /metrics"),
    }
    match state.sessions.count().await {
        Ok(n) => metrics::gauge!("active_sessions").set(n as f64),
        Err(e) => tracing::debug!(error = %e, "counting sessions for /metrics"),
    }
}

fn describe() {
    metrics::describe_gauge!("deployments", "Deployments by state");
    metrics::describe_counter!(
        "releases_total",
        "Releases that finished, by outcome (running or failed)"
    );
    metrics::describe_histogram!(
        "build_duration_seconds",
        metrics::Unit::Seconds,
        "Time to clone and build a release's image"
    );
    metrics::describe_histogram!(
        "health_check_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a release's container starting to it passing (or failing) its health check"
    );
    metrics::describe_counter!(
        "webhook_deliveries_total",
        "Webhook deliveries by source (github, generic) and outcome (queued, ignored, refused, pong)"
    );
    metrics::describe_gauge!("active_sessions", "Signed-in sessions in the session store");
    metrics::describe_counter!(
        "logins_total",
        "Successful sign-ins by method (password or a provider's slug)"
    );
    metrics::describe_counter!(
        "login_failures_total",
        "Refused sign-ins (wrong credentials, lock-outs, refused provider answers)"
    );
    metrics::describe_gauge!(
        "sse_viewers",
        "Open live streams (logs and events) of this process"
    );
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests by method, route and status"
    );
    metrics::describe_counter!(
        "nginx_reloads_total",
        "nginx reloads Slipway asked for, by outcome"
    );
    metrics::describe_histogram!(
        "route_switch_seconds",
        metrics::Unit::Seconds,
        "From writing a virtual host to nginx serving it"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by method, route and status"
    );
}
