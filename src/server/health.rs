//! The health report: one probe per dependency, run concurrently, each under its own deadline
//! so one hung service cannot hang the report.

use std::{future::Future, time::Instant};

use fred::interfaces::ClientLike;

use super::{db, AppState};
use crate::features::platform::types::{Check, Checks, HealthReport, HealthStatus};

pub async fn report(state: &AppState) -> HealthReport {
    let deadline = state.config.health_check_timeout;
    let (postgres, redis, docker, nginx) = tokio::join!(
        probe(deadline, check_postgres(state)),
        probe(deadline, check_redis(state)),
        probe(deadline, check_docker(state)),
        probe(deadline, check_nginx(state)),
    );
    let checks = Checks {
        postgres,
        redis,
        docker,
        nginx,
    };
    let down: Vec<String> = checks
        .iter()
        .filter(|(_, check)| !check.ok)
        .map(|(name, _)| name.to_owned())
        .collect();
    HealthReport {
        status: if down.is_empty() {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        },
        version: env!("CARGO_PKG_VERSION").to_owned(),
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        checks,
        down,
    }
}

/// Runs one check under the deadline and times it. The error strings are ours, not the
/// driver's, because driver messages can carry host names or URLs.
async fn probe(
    deadline: std::time::Duration,
    check: impl Future<Output = Result<Option<String>, String>>,
) -> Check {
    let started = Instant::now();
    let outcome = tokio::time::timeout(deadline, check).await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    let (ok, error, detail) = match outcome {
        Ok(Ok(detail)) => (true, None, detail),
        Ok(Err(error)) => (false, Some(error), None),
        Err(_) => (
            false,
            Some(format!("no answer within {} ms", deadline.as_millis())),
            None,
        ),
    };
    Check {
        ok,
        latency_ms,
        error,
        detail,
    }
}

/// One query both proves PostgreSQL answers and reads the schema version.
async fn check_postgres(state: &AppState) -> Result<Option<String>, String> {
    let mut conn = state.db.acquire().await.map_err(|e| {
        tracing::warn!(error = %e, "health: postgres connection failed");
        "cannot connect to PostgreSQL".to_owned()
    })?;
    let version = db::instance::schema_version(&mut *conn)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "health: postgres schema query failed");
            "PostgreSQL did not answer".to_owned()
        })?;
    Ok(version.map(|v| format!("schema {v}")))
}

async fn check_redis(state: &AppState) -> Result<Option<String>, String> {
    // While fred reconnects, a command would wait for the connection: say so at once instead.
    if !state.redis.is_connected() {
        return Err("Redis is not connected".to_owned());
    }
    state.redis.ping::<String>(None).await.map_err(|e| {
        tracing::warn!(error = %e, "health: redis ping failed");
        "Redis did not answer".to_owned()
    })?;
    Ok(None)
}

async fn check_docker(state: &AppState) -> Result<Option<String>, String> {
    let unreachable = |e: bollard::errors::Error| {
        tracing::warn!(error = %e, "health: docker engine unreachable");
        "the Docker engine did not answer".to_owned()
    };
    let docker = state.docker.client().await.map_err(unreachable)?;
    docker.ping().await.map_err(unreachable)?;
    Ok(Some(format!("API {}", docker.client_version())))
}

async fn check_nginx(state: &AppState) -> Result<Option<String>, String> {
    let nginx = &state.nginx;
    let dir = nginx.sites_dir.clone();
    let probe = nginx.clone();
    tokio::task::spawn_blocking(move || probe.probe_sites_dir())
        .await
        .map_err(|_| "the sites directory check was interrupted".to_owned())?
        .map_err(|e| {
            tracing::warn!(error = %e, dir = %dir.display(), "health: nginx sites dir not writable");
            "the nginx sites directory is not writable".to_owned()
        })?;
    tokio::net::TcpStream::connect(("127.0.0.1", nginx.listen_port))
        .await
        .map_err(|_| format!("nginx is not listening on port {}", nginx.listen_port))?;
    Ok(None)
}

/// The report for a server function, which finds the state in its context.
pub async fn report_in_context() -> Result<HealthReport, crate::error::AppError> {
    Ok(report(&super::context::app_state()?).await)
}
