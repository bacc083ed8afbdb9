//! Makes Docker, the work directories and PostgreSQL agree again after anything: a crash, a
//! killed process, a container someone removed by hand. Runs at start-up and every
//! `RECONCILE_INTERVAL_SECS`.
//!
//! - A release in the pipeline whose worker process is dead becomes `failed` ("interrupted"),
//!   and what it left (container, image, work directory) is removed.
//! - A deployment marked `deleting` is deleted (again).
//! - Containers and images labelled as this installation's that belong to no deployment, or
//!   to no release that is live or in the pipeline, are removed.
//! - A running deployment whose container vanished gets it back from the release's image, or
//!   is marked failed when the image is gone too; one whose container stopped is started.
//! - A live deployment whose Cloudflare route is missing or failed is routed again.

use std::collections::HashSet;

use sqlx::Row;
use uuid::Uuid;

use super::{
    buildlog::BuildLog,
    engine::{self, RunSpec},
    pipeline::{self, container_env},
    redact::Redactor,
    service,
};
use crate::server::{
    db::deployments::{self as db, DeploymentRow, ReleaseRow},
    AppState,
};

/// Workers whose process is gone: their advisory lock is free.
async fn dead_workers(state: &AppState) -> Result<HashSet<Uuid>, sqlx::Error> {
    let me = state.deployer.worker_id;
    let mut dead = HashSet::new();
    let mut conn = state.db.acquire().await?;
    for worker in db::workers(&mut *conn).await? {
        if worker.id == me {
            continue;
        }
        let free: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(worker.lock_key)
            .fetch_one(&mut *conn)
            .await?
            .get(0);
        if free {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(worker.lock_key)
                .execute(&mut *conn)
                .await?;
            dead.insert(worker.id);
        }
    }
    Ok(dead)
}

pub async fn reconcile(state: &AppState) -> Result<(), String> {
    let dead = dead_workers(state).await.map_err(|e| e.to_string())?;
    let known: HashSet<Uuid> = db::workers(&state.db)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|w| w.id)
        .collect();
    let active = db::active_releases(&state.db)
        .await
        .map_err(|e| e.to_string())?;
    let me = state.deployer.worker_id;
    let local = state.deployer.running_releases();
    let just_claimed = chrono::Utc::now() - chrono::Duration::seconds(30);
    for release in active {
        let alive = match release.worker_id {
            // Ours, but no task of ours runs it (it panicked or lost its database): stuck.
            Some(w) if w == me => {
                local.contains(&release.id) || release.started_at.is_none_or(|t| t > just_claimed)
            }
            Some(w) => known.contains(&w) && !dead.contains(&w),
            None => false,
        };
        if !alive {
            interrupt(state, &release).await;
        }
    }
    for id in &dead {
        let _ = db::remove_worker(&state.db, *id).await;
    }
    if let Err(e) = db::release_stray_ports(&state.db).await {
        tracing::warn!(error = %e, "freeing ports of failed releases");
    }

    for id in db::ids_in_state(&state.db, "deleting")
        .await
        .map_err(|e| e.to_string())?
    {
        if let Err(e) = service::finish_delete(state, id).await {
            tracing::warn!(deployment = %id, error = %e, "retrying a delete");
        }
    }

    // Cloudflare routes are repaired even when Docker cannot be reached.
    let docker = remove_orphans(state).await;
    let running = restore_running(state).await;
    let deployments = db::list(&state.db, None).await.map_err(|e| e.to_string())?;
    super::tunnel::repair(state, &deployments).await;
    docker.and(running)
}

/// Marks a release whose worker died (or stopped) as failed and clears what it left behind.
pub async fn interrupt(state: &AppState, release: &ReleaseRow) {
    let error = format!(
        "Deploy failed: interrupted — the Slipway process running this release stopped while it was {}",
        release.state.replace('_', " ")
    );
    tracing::warn!(release = %release.id, "{error}");
    let mut log = BuildLog::open(state, release.id, Redactor::default()).await;
    log.line("stderr", &format!("✗ {error}")).await;
    if let Ok(docker) = state.docker.client().await {
        let _ = engine::remove_container(&docker, &engine::container_name(release.id)).await;
        let tag = engine::image_tag(release.deployment_id, release.number);
        let _ = engine::remove_image(&docker, &tag).await;
    }
    let _ = tokio::fs::remove_dir_all(pipeline::work_dir(state, release.id)).await;
    let _ = db::finish_release(&state.db, release.id, "failed", Some(&error)).await;
    let _ = db::clear_release_image(&state.db, release.id).await;
    log.end().await;
    if let Ok(Some(d)) = db::find(&state.db, release.deployment_id).await {
        let still_serving = d.current_release_id.is_some_and(|c| c != release.id);
        pipeline::show_failure(state, d.id, still_serving, release.number, &error).await;
    }
}

/// Docker objects and work directories are listed before the database is read, so anything
/// a worker (here or in another process) made after the listing is never taken for an orphan.
async fn remove_orphans(state: &AppState) -> Result<(), String> {
    let Ok(docker) = state.docker.client().await else {
        return Ok(()); // /health reports the engine; nothing to compare against.
    };
    let instance = state.instance_id.to_string();
    let ours = [(engine::LABEL_INSTANCE, instance.as_str())];
    let containers = engine::containers(&docker, &ours)
        .await
        .map_err(|e| engine::message(&e))?;
    let images = engine::images(&docker, &ours)
        .await
        .map_err(|e| engine::message(&e))?;
    let sites = state.nginx.sites().await;
    let builds = state.config.data_dir.join("builds");
    let mut work_dirs = Vec::new();
    if let Ok(mut entries) = tokio::fs::read_dir(&builds).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            work_dirs.push(entry);
        }
    }

    let deployments: Vec<DeploymentRow> =
        db::list(&state.db, None).await.map_err(|e| e.to_string())?;
    let ids: HashSet<Uuid> = deployments.iter().map(|d| d.id).collect();
    let live: HashSet<Uuid> = deployments
        .iter()
        .filter_map(|d| d.current_release_id)
        .collect();
    // Every release still in the pipeline: those of dead workers were interrupted above.
    let mut in_flight: HashSet<Uuid> = db::active_releases(&state.db)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| r.id)
        .collect();
    in_flight.extend(state.deployer.running_releases());
    let imaged: HashSet<Uuid> = db::releases_with_images(&state.db)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let keep = |labels: &std::collections::HashMap<String, String>, containers: bool| {
        let deployment = labels
            .get(engine::LABEL_DEPLOYMENT)
            .and_then(|v| Uuid::parse_str(v).ok());
        let release = labels
            .get(engine::LABEL_RELEASE)
            .and_then(|v| Uuid::parse_str(v).ok());
        match (deployment, release) {
            (Some(d), Some(r)) if ids.contains(&d) => {
                // Containers stay only for the live release; images also for those kept for
                // rollbacks. What a failed or interrupted release left goes.
                live.contains(&r) || in_flight.contains(&r) || (!containers && imaged.contains(&r))
            }
            _ => false,
        }
    };
    for container in containers {
        if !keep(&container.labels, true) {
            tracing::info!(container = %container.id, "removing an orphaned container");
            engine::remove_container(&docker, &container.id)
                .await
                .map_err(|e| engine::message(&e))?;
        }
    }
    for (image, _) in images {
        if !keep(&image.labels, false) {
            tracing::info!(image = %image.id, "removing an orphaned image");
            engine::remove_image(&docker, &image.id)
                .await
                .map_err(|e| engine::message(&e))?;
        }
    }
    for site in sites {
        if !ids.contains(&site) {
            tracing::info!(deployment = %site, "removing the virtual host of a deployment that is gone");
            state.nginx.remove(site).await?;
        }
    }
    for entry in work_dirs {
        let release = entry
            .file_name()
            .to_str()
            .and_then(|n| Uuid::parse_str(n).ok());
        if release.is_none_or(|r| !in_flight.contains(&r)) {
            let _ = tokio::fs::remove_dir_all(entry.path()).await;
        }
    }
    Ok(())
}

/// Running deployments whose container is gone or stopped get it back.
async fn restore_running(state: &AppState) -> Result<(), String> {
    let Ok(docker) = state.docker.client().await else {
        return Ok(());
    };
    for d in db::list(&state.db, None).await.map_err(|e| e.to_string())? {
        if d.state != "running" {
            continue;
        }
        let Some(release) = (match d.current_release_id {
            Some(id) => db::find_release(&state.db, id)
                .await
                .map_err(|e| e.to_string())?,
            None => None,
        }) else {
            continue;
        };
        if !tokio::fs::try_exists(state.nginx.site_path(d.id))
            .await
            .unwrap_or(true)
        {
            if let Some(port) = d.port.and_then(|p| u16::try_from(p).ok()) {
                tracing::warn!(deployment = %d.id, "restoring a missing virtual host");
                let host = service::host_name(&state.config, &d.subdomain);
                if let Err(e) = state
                    .nginx
                    .apply(&crate::server::nginx::Site {
                        deployment: d.id,
                        host: &host,
                        upstream_port: port,
                    })
                    .await
                {
                    let _ = db::set_state(
                        &state.db,
                        d.id,
                        "running",
                        Some(&format!("Routing failed: {e}")),
                    )
                    .await;
                    crate::server::live::events::changed(state, d.id).await;
                }
            }
        }
        let observed = match release.container_id.as_deref() {
            Some(c) => engine::observe(&docker, c)
                .await
                .map_err(|e| engine::message(&e))?,
            None => None,
        };
        match observed {
            Some(o) if o.running || o.restarting => {}
            Some(_) => {
                let container = release.container_id.as_deref().unwrap_or_default();
                tracing::warn!(deployment = %d.id, "starting a stopped container of a running deployment");
                if let Err(e) = engine::start(&docker, container).await {
                    tracing::warn!(error = %engine::message(&e), "starting a container");
                }
            }
            None => {
                tracing::warn!(deployment = %d.id, "the container of a running deployment vanished");
                if let Err(problem) = recreate(state, &d, &release).await {
                    let _ = db::set_state(
                        &state.db,
                        d.id,
                        "failed",
                        Some(&format!(
                            "The container vanished and could not be recreated: {problem}"
                        )),
                    )
                    .await;
                    crate::server::live::events::changed(state, d.id).await;
                }
            }
        }
    }
    Ok(())
}

/// Runs the release's image again in a new container (same port, same limits).
pub async fn recreate(
    state: &AppState,
    d: &DeploymentRow,
    release: &ReleaseRow,
) -> Result<(), String> {
    let docker = state.docker.client().await.map_err(|e| {
        format!(
            "the Docker engine is not reachable: {}",
            engine::message(&e)
        )
    })?;
    let image = release
        .image
        .as_deref()
        .ok_or("the release's image is gone; redeploy")?;
    if docker.inspect_image(image).await.is_err() {
        return Err("the release's image is gone; redeploy".into());
    }
    let host_port = release
        .host_port
        .or(d.port)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("the deployment holds no port")?;
    let container_port = release
        .container_port
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(pipeline::DEFAULT_CONTAINER_PORT);
    let stored = db::env(&state.db, d.id).await.map_err(|e| e.to_string())?;
    let (env, _) = pipeline::secrets(state, d, stored)?;
    let name = engine::container_name(release.id);
    let _ = engine::remove_container(&docker, &name).await;
    let id = engine::run(
        &docker,
        RunSpec {
            name: &name,
            image,
            env: container_env(&env, container_port),
            labels: engine::labels(state.instance_id, d.id, release.id),
            container_port,
            host_port,
            memory_mb: d.memory_mb as u32,
            cpus: f64::from(d.cpu_millis) / 1000.0,
        },
    )
    .await
    .map_err(|e| engine::message(&e))?;
    db::set_release_container(&state.db, release.id, Some(&id), None)
        .await
        .map_err(|e| e.to_string())?;
    let mut log = BuildLog::open(state, release.id, pipeline::redactor(&env, None)).await;
    log.system("The container was missing; recreated it from the release's image")
        .await;
    Ok(())
}
