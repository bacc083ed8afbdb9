//! The `deployments`, `deployment_env`, `releases`, `build_logs` and `ports` tables.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct DeploymentRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub owner_username: String,
    pub name: String,
    pub repo_url: String,
    pub branch: String,
    pub subdomain: String,
    pub access_token: Option<Vec<u8>>,
    pub dockerfile: String,
    pub build_context: String,
    pub container_port: Option<i32>,
    pub health_path: Option<String>,
    pub memory_mb: i32,
    pub cpu_millis: i32,
    pub state: String,
    pub error: Option<String>,
    pub current_release_id: Option<Uuid>,
    pub port: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The tunnel ingress rule Slipway made, if it did: its host name and service.
    pub tunnel_host: Option<String>,
    pub tunnel_service: Option<String>,
    /// The Cloudflare DNS record Slipway created, if it did.
    pub dns_record_id: Option<String>,
    /// Why routing (the tunnel or DNS) is not complete; cleared once it is.
    pub routing_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReleaseRow {
    pub id: Uuid,
    pub deployment_id: Uuid,
    pub number: i32,
    pub trigger: String,
    pub state: String,
    pub commit_sha: Option<String>,
    pub commit_message: Option<String>,
    pub image: Option<String>,
    pub container_id: Option<String>,
    pub container_port: Option<i32>,
    /// Where the release's container is published on 127.0.0.1.
    pub host_port: Option<i32>,
    pub error: Option<String>,
    pub worker_id: Option<Uuid>,
    /// For a rollback: the release whose image and environment it runs again.
    pub source_release_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub struct NewDeployment<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: &'a str,
    pub repo_url: &'a str,
    pub branch: &'a str,
    pub subdomain: &'a str,
    pub access_token: Option<&'a [u8]>,
    pub dockerfile: &'a str,
    pub build_context: &'a str,
    pub container_port: Option<i32>,
    pub health_path: Option<&'a str>,
    pub memory_mb: i32,
    pub cpu_millis: i32,
}

#[derive(Debug)]
pub enum InsertError {
    SubdomainTaken,
    Db(sqlx::Error),
}

#[tracing::instrument(skip_all)]
pub async fn insert(db: &mut PgConnection, new: NewDeployment<'_>) -> Result<(), InsertError> {
    sqlx::query!(
        "INSERT INTO deployments (id, owner_id, name, repo_url, branch, subdomain, access_token,
             dockerfile, build_context, container_port, health_path, memory_mb, cpu_millis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        new.id,
        new.owner_id,
        new.name,
        new.repo_url,
        new.branch,
        new.subdomain,
        new.access_token,
        new.dockerfile,
        new.build_context,
        new.container_port,
        new.health_path,
        new.memory_mb,
        new.cpu_millis,
    )
    .execute(db)
    .await
    .map(drop)
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("deployments_subdomain_key") => {
            InsertError::SubdomainTaken
        }
        _ => InsertError::Db(e),
    })
}

#[tracing::instrument(skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<DeploymentRow>, sqlx::Error> {
    sqlx::query_as!(
        DeploymentRow,
        r#"SELECT d.id, d.owner_id, u.username AS owner_username, d.name, d.repo_url, d.branch,
                  d.subdomain, d.access_token, d.dockerfile, d.build_context, d.container_port,
                  d.health_path, d.memory_mb, d.cpu_millis, d.state, d.error,
                  d.current_release_id, p.port AS "port?", d.created_at, d.updated_at,
                  d.tunnel_host, d.tunnel_service, d.dns_record_id, d.routing_error
           FROM deployments d
           JOIN users u ON u.id = d.owner_id
           LEFT JOIN LATERAL (
               SELECT port FROM ports WHERE deployment_id = d.id
               ORDER BY release_id IS NOT DISTINCT FROM d.current_release_id DESC, allocated_at
               LIMIT 1) p ON true
           WHERE d.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Newest first; every deployment when `owner` is `None`.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: impl PgExecutor<'_>,
    owner: Option<Uuid>,
) -> Result<Vec<DeploymentRow>, sqlx::Error> {
    sqlx::query_as!(
        DeploymentRow,
        r#"SELECT d.id, d.owner_id, u.username AS owner_username, d.name, d.repo_url, d.branch,
                  d.subdomain, d.access_token, d.dockerfile, d.build_context, d.container_port,
                  d.health_path, d.memory_mb, d.cpu_millis, d.state, d.error,
                  d.current_release_id, p.port AS "port?", d.created_at, d.updated_at,
                  d.tunnel_host, d.tunnel_service, d.dns_record_id, d.routing_error
           FROM deployments d
           JOIN users u ON u.id = d.owner_id
           LEFT JOIN LATERAL (
               SELECT port FROM ports WHERE deployment_id = d.id
               ORDER BY release_id IS NOT DISTINCT FROM d.current_release_id DESC, allocated_at
               LIMIT 1) p ON true
           WHERE $1::uuid IS NULL OR d.owner_id = $1
           ORDER BY d.created_at DESC, d.id"#,
        owner
    )
    .fetch_all(db)
    .await
}

pub async fn ids_of_owner(db: impl PgExecutor<'_>, owner: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM deployments WHERE owner_id = $1", owner)
        .fetch_all(db)
        .await
}

pub async fn ids_in_state(db: impl PgExecutor<'_>, state: &str) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM deployments WHERE state = $1", state)
        .fetch_all(db)
        .await
}

pub async fn all_ids(db: impl PgExecutor<'_>) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM deployments")
        .fetch_all(db)
        .await
}

pub async fn subdomain_taken(
    db: impl PgExecutor<'_>,
    subdomain: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM deployments WHERE subdomain = $1) AS "taken!""#,
        subdomain
    )
    .fetch_one(db)
    .await
}

/// Locks the row for the rest of the transaction; `None` when it is gone.
pub async fn lock(db: &mut PgConnection, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT state FROM deployments WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(db)
        .await
}

pub async fn set_state(
    db: impl PgExecutor<'_>,
    id: Uuid,
    state: &str,
    error: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE deployments SET state = $2, error = $3, updated_at = now()
         WHERE id = $1 AND state <> 'deleting'",
        id,
        state,
        error
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the deployment for deletion; `false` when it does not exist.
pub async fn mark_deleting(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE deployments SET state = 'deleting', updated_at = now() WHERE id = $1",
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_delete_error(
    db: impl PgExecutor<'_>,
    id: Uuid,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deployments SET error = $2, updated_at = now() WHERE id = $1",
        id,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_live(
    db: impl PgExecutor<'_>,
    id: Uuid,
    release: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE deployments SET state = 'running', error = NULL, current_release_id = $2,
             updated_at = now()
         WHERE id = $1 AND state <> 'deleting'",
        id,
        release
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct Update<'a> {
    pub name: &'a str,
    pub branch: &'a str,
    pub access_token: Option<&'a [u8]>,
    pub dockerfile: &'a str,
    pub build_context: &'a str,
    pub container_port: Option<i32>,
    pub health_path: Option<&'a str>,
    pub memory_mb: i32,
    pub cpu_millis: i32,
}

pub async fn update(db: &mut PgConnection, id: Uuid, u: Update<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deployments SET name = $2, branch = $3, access_token = $4, dockerfile = $5,
             build_context = $6, container_port = $7, health_path = $8, memory_mb = $9,
             cpu_millis = $10, updated_at = now()
         WHERE id = $1",
        id,
        u.name,
        u.branch,
        u.access_token,
        u.dockerfile,
        u.build_context,
        u.container_port,
        u.health_path,
        u.memory_mb,
        u.cpu_millis,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the row and, by cascade, its env, releases, logs and port.
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM deployments WHERE id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

// --- environment ------------------------------------------------------------------------------

pub async fn env(db: impl PgExecutor<'_>, id: Uuid) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT key, value FROM deployment_env WHERE deployment_id = $1 ORDER BY key",
        id
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.key, r.value))
    .collect())
}

pub async fn env_count(db: impl PgExecutor<'_>, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM deployment_env WHERE deployment_id = $1"#,
        id
    )
    .fetch_one(db)
    .await
}

/// Keys per deployment, for many deployments in one query.
pub async fn env_keys(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT deployment_id, key FROM deployment_env WHERE deployment_id = ANY($1)
         ORDER BY deployment_id, key",
        ids
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.deployment_id, r.key))
    .collect())
}

pub async fn set_env(
    db: &mut PgConnection,
    id: Uuid,
    key: &str,
    value: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO deployment_env (deployment_id, key, value) VALUES ($1, $2, $3)
         ON CONFLICT (deployment_id, key) DO UPDATE SET value = EXCLUDED.value",
        id,
        key,
        value
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn remove_env(db: &mut PgConnection, id: Uuid, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM deployment_env WHERE deployment_id = $1 AND key = $2",
        id,
        key
    )
    .execute(db)
    .await?;
    Ok(())
}

// --- releases ---------------------------------------------------------------------------------

/// Queues a release, numbered after the deployment's last. The caller holds the deployment's
/// row lock, so numbers never collide.
pub async fn insert_release(
    db: &mut PgConnection,
    deployment: Uuid,
    trigger: &str,
) -> Result<ReleaseRow, sqlx::Error> {
    sqlx::query_as!(
        ReleaseRow,
        "INSERT INTO releases (deployment_id, number, trigger)
         VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM releases WHERE deployment_id = $1), $2)
         RETURNING id, deployment_id, number, trigger, state, commit_sha, commit_message, image,
                   container_id, container_port, host_port, error, worker_id, source_release_id, created_at, started_at,
                   finished_at",
        deployment,
        trigger
    )
    .fetch_one(db)
    .await
}

/// Queues a rollback to `source`.
pub async fn insert_rollback(
    db: &mut PgConnection,
    deployment: Uuid,
    source: Uuid,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO releases (deployment_id, number, trigger, source_release_id)
         VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM releases WHERE deployment_id = $1),
                 'rollback', $2)
         RETURNING id",
        deployment,
        source
    )
    .fetch_one(db)
    .await
}

pub async fn set_env_snapshot(
    db: impl PgExecutor<'_>,
    release: Uuid,
    snapshot: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE releases SET env_snapshot = $2 WHERE id = $1",
        release,
        snapshot
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn env_snapshot(
    db: impl PgExecutor<'_>,
    release: Uuid,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    Ok(
        sqlx::query_scalar!("SELECT env_snapshot FROM releases WHERE id = $1", release)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

/// Replaces every variable of the deployment (a rollback restores a snapshot).
pub async fn clear_env(db: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM deployment_env WHERE deployment_id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

/// A queued build (not a rollback) that a new request can join.
#[tracing::instrument(skip_all)]
pub async fn queued_build(
    db: impl PgExecutor<'_>,
    deployment: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM releases WHERE deployment_id = $1 AND state = 'queued' AND source_release_id IS NULL LIMIT 1",
        deployment
    )
    .fetch_optional(db)
    .await
}

/// Pins a queued release to a commit, or unpins it (`None`: the branch's head).
#[tracing::instrument(skip_all)]
pub async fn pin(
    db: impl PgExecutor<'_>,
    release: Uuid,
    commit: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE releases SET requested_commit = $2 WHERE id = $1",
        release,
        commit
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// The commit a release must build, when one was asked for.
#[tracing::instrument(skip_all)]
pub async fn pinned_commit(
    db: impl PgExecutor<'_>,
    release: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "SELECT requested_commit FROM releases WHERE id = $1",
        release
    )
    .fetch_optional(db)
    .await?
    .flatten())
}

pub async fn releases(
    db: impl PgExecutor<'_>,
    deployment: Uuid,
) -> Result<Vec<ReleaseRow>, sqlx::Error> {
    sqlx::query_as!(
        ReleaseRow,
        "SELECT id, deployment_id, number, trigger, state, commit_sha, commit_message, image,
                container_id, container_port, host_port, error, worker_id, source_release_id, created_at, started_at,
                finished_at
         FROM releases WHERE deployment_id = $1 ORDER BY number DESC",
        deployment
    )
    .fetch_all(db)
    .await
}

/// The newest release of each deployment, and each one's live release.
pub async fn current_and_latest(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<Vec<ReleaseRow>, sqlx::Error> {
    sqlx::query_as!(
        ReleaseRow,
        "SELECT r.id, r.deployment_id, r.number, r.trigger, r.state, r.commit_sha,
                r.commit_message, r.image, r.container_id, r.container_port, r.host_port, r.error,
                r.worker_id, r.source_release_id, r.created_at, r.started_at, r.finished_at
         FROM releases r JOIN deployments d ON d.id = r.deployment_id
         WHERE r.deployment_id = ANY($1)
           AND (r.id = d.current_release_id
                OR r.number = (SELECT MAX(number) FROM releases x WHERE x.deployment_id = r.deployment_id))",
        ids
    )
    .fetch_all(db)
    .await
}

pub async fn find_release(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<ReleaseRow>, sqlx::Error> {
    sqlx::query_as!(
        ReleaseRow,
        "SELECT id, deployment_id, number, trigger, state, commit_sha, commit_message, image,
                container_id, container_port, host_port, error, worker_id, source_release_id, created_at, started_at,
                finished_at
         FROM releases WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// Takes the oldest queued release whose deployment has nothing else in the pipeline, for
/// `worker`. `SKIP LOCKED` on both rows means two processes never take the same release, nor
/// two releases of one deployment.
pub async fn claim_next(
    db: impl PgExecutor<'_>,
    worker: Uuid,
) -> Result<Option<ReleaseRow>, sqlx::Error> {
    sqlx::query_as!(
        ReleaseRow,
        "UPDATE releases SET state = 'cloning', worker_id = $1, started_at = now(),
                             step_times = step_times || jsonb_build_object('cloning', now())
         WHERE id = (
             SELECT r.id FROM releases r JOIN deployments d ON d.id = r.deployment_id
             WHERE r.state = 'queued' AND d.state <> 'deleting'
               AND NOT EXISTS (
                   SELECT 1 FROM releases o WHERE o.deployment_id = r.deployment_id
                     AND o.state IN ('cloning', 'building', 'starting', 'checking_health'))
             ORDER BY r.created_at, r.number
             LIMIT 1
             FOR UPDATE OF r, d SKIP LOCKED)
         RETURNING id, deployment_id, number, trigger, state, commit_sha, commit_message, image,
                   container_id, container_port, host_port, error, worker_id, source_release_id, created_at, started_at,
                   finished_at",
        worker
    )
    .fetch_optional(db)
    .await
}

/// Moves a release on, only while `worker` still owns it and it has not finished: a worker
/// whose releases were declared interrupted cannot resurrect them.
pub async fn advance_release(
    db: impl PgExecutor<'_>,
    id: Uuid,
    worker: Uuid,
    state: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE releases SET state = $3, step_times = step_times || jsonb_build_object($3::text, now())
         WHERE id = $1 AND worker_id = $2
           AND state IN ('cloning', 'building', 'starting', 'checking_health')",
        id,
        worker,
        state
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_release_commit(
    db: impl PgExecutor<'_>,
    id: Uuid,
    sha: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE releases SET commit_sha = $2, commit_message = $3 WHERE id = $1",
        id,
        sha,
        message
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_release_image(
    db: impl PgExecutor<'_>,
    id: Uuid,
    image: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE releases SET image = $2 WHERE id = $1", id, image)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_release_container(
    db: impl PgExecutor<'_>,
    id: Uuid,
    container: Option<&str>,
    port: Option<i32>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE releases SET container_id = $2, container_port = COALESCE($3, container_port)
         WHERE id = $1",
        id,
        container,
        port
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a release (`running`, `failed`, `superseded`).
pub async fn finish_release(
    db: impl PgExecutor<'_>,
    id: Uuid,
    state: &str,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE releases SET state = $2, error = $3, finished_at = COALESCE(finished_at, now()),
                             step_times = step_times || jsonb_build_object($2::text, now())
         WHERE id = $1",
        id,
        state,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a release this worker still owns; `false` when it is no longer its to end (another
/// process declared it interrupted).
pub async fn complete_release(
    db: impl PgExecutor<'_>,
    id: Uuid,
    worker: Uuid,
    state: &str,
    error: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE releases SET state = $3, error = $4, finished_at = now(),
                             step_times = step_times || jsonb_build_object($3::text, now())
         WHERE id = $1 AND worker_id = $2
           AND state IN ('cloning', 'building', 'starting', 'checking_health')",
        id,
        worker,
        state,
        error
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Releases in the pipeline, with the worker that has them.
pub async fn active_releases(db: impl PgExecutor<'_>) -> Result<Vec<ReleaseRow>, sqlx::Error> {
    sqlx::query_as!(
        ReleaseRow,
        "SELECT id, deployment_id, number, trigger, state, commit_sha, commit_message, image,
                container_id, container_port, host_port, error, worker_id, source_release_id, created_at, started_at,
                finished_at
         FROM releases WHERE state IN ('cloning', 'building', 'starting', 'checking_health')"
    )
    .fetch_all(db)
    .await
}

/// Releases whose images can go: failed ones, and those beyond the newest `keep` that went
/// live (never the live one).
pub async fn releases_to_prune(
    db: impl PgExecutor<'_>,
    deployment: Uuid,
    keep: i64,
) -> Result<Vec<ReleaseRow>, sqlx::Error> {
    sqlx::query_as!(
        ReleaseRow,
        "SELECT r.id, r.deployment_id, r.number, r.trigger, r.state, r.commit_sha,
                r.commit_message, r.image, r.container_id, r.container_port, r.host_port, r.error,
                r.worker_id, r.source_release_id, r.created_at, r.started_at, r.finished_at
         FROM releases r JOIN deployments d ON d.id = r.deployment_id
         WHERE r.deployment_id = $1 AND r.image IS NOT NULL
           AND r.id IS DISTINCT FROM d.current_release_id
           AND r.state IN ('superseded', 'failed')
           AND (r.state = 'failed' OR r.number NOT IN (
               SELECT number FROM releases WHERE deployment_id = $1
                 AND state IN ('running', 'superseded')
               ORDER BY number DESC LIMIT $2))",
        deployment,
        keep
    )
    .fetch_all(db)
    .await
}

/// Releases whose image is kept (live, or kept for rollbacks).
pub async fn releases_with_images(db: impl PgExecutor<'_>) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM releases WHERE image IS NOT NULL")
        .fetch_all(db)
        .await
}

pub async fn clear_release_image(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE releases SET image = NULL WHERE id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

// --- build logs -------------------------------------------------------------------------------

pub struct LogRow {
    pub seq: i32,
    pub ts: DateTime<Utc>,
    pub stream: String,
    pub line: String,
}

pub async fn append_log(
    db: impl PgExecutor<'_>,
    release: Uuid,
    seqs: &[i32],
    streams: &[String],
    lines: &[String],
) -> Result<DateTime<Utc>, sqlx::Error> {
    // Every row of one insert gets the same `now()`: one is enough to return.
    let stored = sqlx::query_scalar!(
        "INSERT INTO build_logs (release_id, seq, stream, line)
         SELECT $1, * FROM UNNEST($2::int4[], $3::text[], $4::text[])
         RETURNING ts",
        release,
        seqs,
        streams,
        lines
    )
    .fetch_all(db)
    .await?;
    Ok(stored.into_iter().next().unwrap_or_else(Utc::now))
}

/// When each of these releases entered each step.
pub async fn step_times(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, serde_json::Value>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT id, step_times FROM releases WHERE id = ANY($1)",
        ids
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.step_times))
    .collect())
}

pub async fn end_log(db: impl PgExecutor<'_>, release: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE releases SET log_ended_at = now() WHERE id = $1 AND log_ended_at IS NULL",
        release
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// Whether the log has its last line: ended, or the release is gone, or it left the pipeline
/// long ago (a process that stopped between the two never marked it).
pub async fn log_ended(db: impl PgExecutor<'_>, release: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE((
               SELECT log_ended_at IS NOT NULL
                   OR (state IN ('failed', 'superseded')
                       AND finished_at < now() - interval '1 minute')
                   -- A live release's log goes on while the old one drains.
                   OR (state = 'running' AND finished_at < now() - interval '1 hour')
               FROM releases WHERE id = $1), true) AS "ended!""#,
        release
    )
    .fetch_one(db)
    .await
}

pub async fn last_log_seq(db: impl PgExecutor<'_>, release: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE(MAX(seq), 0) AS "seq!" FROM build_logs WHERE release_id = $1"#,
        release
    )
    .fetch_one(db)
    .await
}

pub async fn log(
    db: impl PgExecutor<'_>,
    release: Uuid,
    after: i32,
    limit: i64,
) -> Result<Vec<LogRow>, sqlx::Error> {
    sqlx::query_as!(
        LogRow,
        "SELECT seq, ts, stream, line FROM build_logs
         WHERE release_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        release,
        after,
        limit
    )
    .fetch_all(db)
    .await
}

// --- ports ------------------------------------------------------------------------------------

pub struct PortRow {
    pub port: i32,
    pub deployment_id: Uuid,
    pub subdomain: String,
    pub allocated_at: DateTime<Utc>,
}

pub async fn ports(db: impl PgExecutor<'_>) -> Result<Vec<PortRow>, sqlx::Error> {
    sqlx::query_as!(
        PortRow,
        "SELECT p.port, p.deployment_id, d.subdomain, p.allocated_at
         FROM ports p JOIN deployments d ON d.id = p.deployment_id ORDER BY p.port"
    )
    .fetch_all(db)
    .await
}

pub async fn ports_in_range(
    db: impl PgExecutor<'_>,
    low: i32,
    high: i32,
) -> Result<Vec<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT port FROM ports WHERE port BETWEEN $1 AND $2 ORDER BY port",
        low,
        high
    )
    .fetch_all(db)
    .await
}

/// `false` when someone else holds the port (the primary key settles races).
pub async fn try_take_port(
    db: &mut PgConnection,
    port: i32,
    deployment: Uuid,
    release: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query_scalar!(
        "INSERT INTO ports (port, deployment_id, release_id) VALUES ($1, $2, $3)
         ON CONFLICT (port) DO NOTHING RETURNING port",
        port,
        deployment,
        release
    )
    .fetch_optional(db)
    .await?;
    Ok(taken.is_some())
}

/// Gives the deployment's first port to `release` (when no release is live, the new one
/// takes the deployment's port over).
pub async fn claim_home_port(
    db: impl PgExecutor<'_>,
    deployment: Uuid,
    release: Uuid,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE ports SET release_id = $2
         WHERE port = (SELECT port FROM ports WHERE deployment_id = $1
                       ORDER BY allocated_at, port LIMIT 1)
         RETURNING port",
        deployment,
        release
    )
    .fetch_optional(db)
    .await
}

/// Frees the ports of one release (its container is gone).
pub async fn release_port_of(db: impl PgExecutor<'_>, release: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM ports WHERE release_id = $1", release)
        .execute(db)
        .await?;
    Ok(())
}

/// Ports held by releases that failed, where the deployment keeps another port: what an
/// interrupted redeploy left.
pub async fn release_stray_ports(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM ports p USING releases r
         WHERE p.release_id = r.id AND r.state = 'failed'
           AND EXISTS (SELECT 1 FROM ports o WHERE o.deployment_id = p.deployment_id
                         AND o.port <> p.port)"
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn set_release_host_port(
    db: impl PgExecutor<'_>,
    release: Uuid,
    port: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE releases SET host_port = $2 WHERE id = $1",
        release,
        port
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn release_ports(db: impl PgExecutor<'_>, deployment: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM ports WHERE deployment_id = $1", deployment)
        .execute(db)
        .await?;
    Ok(())
}

// --- workers ----------------------------------------------------------------------------------

pub struct WorkerRow {
    pub id: Uuid,
    pub lock_key: i64,
}

pub async fn register_worker(
    db: impl PgExecutor<'_>,
    id: Uuid,
    lock_key: i64,
    hostname: &str,
    pid: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO workers (id, lock_key, hostname, pid) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()",
        id,
        lock_key,
        hostname,
        pid
    )
    .execute(db)
    .await?;
    Ok(())
}

/// `false` when the worker's row is gone.
pub async fn heartbeat(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("UPDATE workers SET heartbeat_at = now() WHERE id = $1", id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn workers(db: impl PgExecutor<'_>) -> Result<Vec<WorkerRow>, sqlx::Error> {
    sqlx::query_as!(WorkerRow, "SELECT id, lock_key FROM workers")
        .fetch_all(db)
        .await
}

pub async fn remove_worker(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM workers WHERE id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

/// Records what Slipway made in Cloudflare for a deployment, and the last attempt's error.
pub async fn set_cloudflare_routing(
    db: impl PgExecutor<'_>,
    id: Uuid,
    rule: Option<(&str, &str)>,
    dns_record_id: Option<&str>,
    routing_error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deployments
         SET tunnel_host = $2, tunnel_service = $3, dns_record_id = $4, routing_error = $5
         WHERE id = $1",
        id,
        rule.map(|(host, _)| host),
        rule.map(|(_, service)| service),
        dns_record_id,
        routing_error
    )
    .execute(db)
    .await
    .map(|_| ())
}

/// How many deployments are in each state (for `/metrics`).
#[tracing::instrument(skip_all)]
pub async fn count_by_state(db: impl PgExecutor<'_>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    Ok(
        sqlx::query!(r#"SELECT state, count(*) AS "count!" FROM deployments GROUP BY state"#)
            .fetch_all(db)
            .await?
            .into_iter()
            .map(|r| (r.state, r.count))
            .collect(),
    )
}
