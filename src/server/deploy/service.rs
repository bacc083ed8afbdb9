//! Deployments as users and admins act on them. The REST handlers (and the UI's server
//! functions) are thin wrappers around these functions, which check who may do what: a user
//! sees and acts on their own deployments only, others' are "not found"; admins act on all.

use std::collections::HashMap;

use serde_json::json;
use uuid::Uuid;

use super::{
    engine,
    git::{Git, GitError},
    pipeline::{self, env_context, token_context},
    ports,
    validate::{self, Fields},
};
use crate::{
    error::AppError,
    features::deployments::types::{
        CreateDeploymentRequest, Deployment, DeploymentState, EnvValue, LogLine, Owner,
        PortAllocation, Release, ReleaseState, RoutingInfo, SubdomainAvailability,
        UpdateDeploymentRequest,
    },
    server::{
        auth::{
            admin::Admin,
            service::{self as auth, Client},
        },
        config::Config,
        db::{
            deployments::{self as db, DeploymentRow, ReleaseRow},
            users::UserRow,
        },
        error::internal,
        live, AppState,
    },
};

pub fn is_admin(user: &UserRow) -> bool {
    user.role == "admin" && user.disabled_at.is_none()
}

/// `<subdomain>.<BASE_DOMAIN>`: the name nginx serves the deployment under.
pub fn host_name(config: &Config, subdomain: &str) -> String {
    format!("{subdomain}.{}", config.base_domain)
}

/// `http://<subdomain>.<BASE_DOMAIN>[:port]`: the address nginx answers on.
pub fn public_url(config: &Config, subdomain: &str) -> String {
    // Through a tunnel the public reaches the app at Cloudflare's edge, which serves HTTPS.
    let scheme = if config.cloudflare.is_some() {
        "https"
    } else {
        config.deploy.public_scheme.as_str()
    };
    let port = config.nginx_listen_port;
    if scheme == "https" || port == 80 {
        format!("{scheme}://{subdomain}.{}", config.base_domain)
    } else {
        format!("{scheme}://{subdomain}.{}:{port}", config.base_domain)
    }
}

fn release_view(r: &ReleaseRow, steps: Option<&serde_json::Value>) -> Release {
    Release {
        id: r.id.to_string(),
        deployment_id: r.deployment_id.to_string(),
        number: r.number,
        trigger: r.trigger.clone(),
        state: ReleaseState::parse(&r.state).unwrap_or(ReleaseState::Failed),
        commit_sha: r.commit_sha.clone(),
        commit_message: r.commit_message.clone(),
        image: r.image.clone(),
        error: r.error.clone(),
        created_at: r.created_at.to_rfc3339(),
        started_at: r.started_at.map(|t| t.to_rfc3339()),
        finished_at: r.finished_at.map(|t| t.to_rfc3339()),
        steps: steps
            .and_then(serde_json::Value::as_object)
            .map(|steps| {
                steps
                    .iter()
                    .filter_map(|(step, at)| Some((step.clone(), at.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Rows to API views, with env keys and releases fetched for all rows at once.
async fn views(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    rows: Vec<DeploymentRow>,
) -> Result<Vec<Deployment>, AppError> {
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let mut keys: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (id, key) in db::env_keys(&mut *conn, &ids)
        .await
        .map_err(|e| internal("load env keys", e))?
    {
        keys.entry(id).or_default().push(key);
    }
    let releases = db::current_and_latest(&mut *conn, &ids)
        .await
        .map_err(|e| internal("load releases", e))?;
    let release_ids: Vec<Uuid> = releases.iter().map(|r| r.id).collect();
    let steps = db::step_times(&mut *conn, &release_ids)
        .await
        .map_err(|e| internal("load release steps", e))?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let mine: Vec<&ReleaseRow> = releases
                .iter()
                .filter(|r| r.deployment_id == d.id)
                .collect();
            let current = d
                .current_release_id
                .and_then(|id| mine.iter().find(|r| r.id == id))
                .map(|r| release_view(r, steps.get(&r.id)));
            let latest = mine
                .iter()
                .max_by_key(|r| r.number)
                .map(|r| release_view(r, steps.get(&r.id)));
            Deployment {
                id: d.id.to_string(),
                url: public_url(&state.config, &d.subdomain),
                name: d.name,
                repo_url: d.repo_url,
                branch: d.branch,
                subdomain: d.subdomain,
                state: DeploymentState::parse(&d.state).unwrap_or(DeploymentState::Failed),
                port: d.port.and_then(|p| u16::try_from(p).ok()),
                current_release: current,
                latest_release: latest,
                env_keys: keys.remove(&d.id).unwrap_or_default(),
                dockerfile: d.dockerfile,
                context: d.build_context,
                container_port: d.container_port.and_then(|p| u16::try_from(p).ok()),
                health_path: d.health_path,
                memory_mb: d.memory_mb as u32,
                cpus: f64::from(d.cpu_millis) / 1000.0,
                has_access_token: d.access_token.is_some(),
                owner: Owner {
                    id: d.owner_id.to_string(),
                    username: d.owner_username,
                },
                created_at: d.created_at.to_rfc3339(),
                updated_at: d.updated_at.to_rfc3339(),
                error: d.error,
                routing_error: d.routing_error,
            }
        })
        .collect())
}

pub(crate) async fn view(state: &AppState, id: Uuid) -> Result<Deployment, AppError> {
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| internal("acquire", e))?;
    view_in(state, &mut conn, id).await
}

/// The deployment after a change, told to live viewers too.
async fn changed_view(state: &AppState, id: Uuid) -> Result<Deployment, AppError> {
    let deployment = view(state, id).await?;
    live::events::announce(state, &deployment).await;
    Ok(deployment)
}

async fn view_in(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    id: Uuid,
) -> Result<Deployment, AppError> {
    let row = db::find(&mut *conn, id)
        .await
        .map_err(|e| internal("load deployment", e))?
        .ok_or(AppError::NotFound)?;
    Ok(views(state, conn, vec![row]).await?.remove(0))
}

/// The deployment, if `user` may see it; "not found" for everyone else's.
pub(crate) async fn load_for(
    state: &AppState,
    user: &UserRow,
    id: &str,
) -> Result<DeploymentRow, AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let row = db::find(&state.db, id)
        .await
        .map_err(|e| internal("load deployment", e))?
        .ok_or(AppError::NotFound)?;
    if row.owner_id != user.id && !is_admin(user) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

fn git_error(e: GitError) -> AppError {
    match e {
        GitError::NoSuchBranch(_) => AppError::field("branch", e.to_string()),
        GitError::Spawn(cause) => internal("run git", cause),
        other => AppError::field("repo_url", other.to_string()),
    }
}

fn seal(state: &AppState, context: &str, value: &str) -> Result<Vec<u8>, AppError> {
    state
        .cipher
        .seal(context, value.as_bytes())
        .map_err(|e| internal("seal a secret", e))
}

fn default_dockerfile(context: &str) -> String {
    if context == "." {
        "Dockerfile".into()
    } else {
        format!("{context}/Dockerfile")
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// `POST /api/v1/deployments`: validates everything, checks the repository answers, then
/// stores the deployment with its encrypted variables, a port and a queued first release.
pub async fn create(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    request: CreateDeploymentRequest,
) -> Result<Deployment, AppError> {
    let settings = &state.config.deploy;
    let mut f = Fields::default();
    let repo_url = f.check("repo_url", validate::repo_url(&request.repo_url, settings));
    let branch = match non_empty(request.branch.as_deref()) {
        Some(b) => f.check("branch", validate::branch(b)).map(Some),
        None => Some(None),
    };
    let subdomain = match validate::subdomain(&request.subdomain, settings) {
        Ok(s) => Some(s),
        Err(problem) => {
            f.add("subdomain", problem.message());
            None
        }
    };
    let name = match request.name.as_deref() {
        Some(n) => f.check("name", validate::name(n)),
        None => subdomain.clone(),
    };
    validate::env(
        request.env.iter().map(|(k, v)| (k, Some(v))),
        request.env.len(),
        &mut f,
    );
    let token = match non_empty(request.access_token.as_deref()) {
        Some(t) => f.check("access_token", validate::access_token(t)).map(Some),
        None => Some(None),
    };
    let context = f.check(
        "context",
        validate::repo_path(request.context.as_deref().unwrap_or(".")),
    );
    let dockerfile = match request.dockerfile.as_deref() {
        Some(p) => f.check("dockerfile", validate::repo_path(p)),
        None => context.as_deref().map(default_dockerfile),
    };
    let container_port = request
        .container_port
        .map(|p| f.check("container_port", validate::container_port(p)));
    let health_path = non_empty(request.health_path.as_deref())
        .map(|p| f.check("health_path", validate::health_path(p)));
    let memory_mb = f.check(
        "memory_mb",
        validate::memory_mb(
            request.memory_mb.unwrap_or(settings.default_memory_mb),
            settings,
        ),
    );
    let cpu_millis = f.check(
        "cpus",
        validate::cpus(request.cpus.unwrap_or(settings.default_cpus), settings),
    );
    f.into_result()?;
    let (
        Some(repo_url),
        Some(branch),
        Some(subdomain),
        Some(name),
        Some(token),
        Some(context),
        Some(dockerfile),
        Some(memory_mb),
        Some(cpu_millis),
    ) = (
        repo_url, branch, subdomain, name, token, context, dockerfile, memory_mb, cpu_millis,
    )
    else {
        unreachable!("every field was checked")
    };
    let container_port = container_port.flatten();
    let health_path = health_path.flatten();

    if db::subdomain_taken(&state.db, &subdomain)
        .await
        .map_err(|e| internal("check subdomain", e))?
    {
        return Err(subdomain_taken());
    }
    let branch = Git::new(settings, token.as_deref())
        .ls_remote(&repo_url, branch.as_deref())
        .await
        .map_err(git_error)?;

    let id = Uuid::new_v4();
    let sealed_token = token
        .as_deref()
        .map(|t| seal(state, &token_context(id), t))
        .transpose()?;
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    db::insert(
        &mut tx,
        db::NewDeployment {
            id,
            owner_id: user.id,
            name: &name,
            repo_url: &repo_url,
            branch: &branch,
            subdomain: &subdomain,
            access_token: sealed_token.as_deref(),
            dockerfile: &dockerfile,
            build_context: &context,
            container_port: container_port.map(i32::from),
            health_path: health_path.as_deref(),
            memory_mb: memory_mb as i32,
            cpu_millis,
        },
    )
    .await
    .map_err(|e| match e {
        db::InsertError::SubdomainTaken => subdomain_taken(),
        db::InsertError::Db(e) => internal("insert deployment", e),
    })?;
    for (key, value) in &request.env {
        let sealed = seal(state, &env_context(id, key), value)?;
        db::set_env(&mut tx, id, key, &sealed)
            .await
            .map_err(|e| internal("store env", e))?;
    }
    ports::allocate(&mut tx, state.config.port_range.clone(), id, None).await?;
    db::insert_release(&mut tx, id, "create")
        .await
        .map_err(|e| internal("queue release", e))?;
    // Read before the worker can claim it: the answer shows the deployment as queued.
    let created = view_in(state, &mut tx, id).await?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    live::events::announce(state, &created).await;

    auth::audit(
        state,
        Some(user.id),
        "deployment.created",
        Some(&subdomain),
        client,
        json!({ "deployment": id, "repo_url": repo_url, "branch": branch }),
    )
    .await?;
    state.deployer.wake();
    Ok(created)
}

fn subdomain_taken() -> AppError {
    AppError::Conflict {
        message: "subdomain: is already taken; choose another".into(),
    }
}

/// Mine, or with `all` (admins only) everyone's.
pub async fn list(
    state: &AppState,
    user: &UserRow,
    all: bool,
) -> Result<Vec<Deployment>, AppError> {
    if all && !is_admin(user) {
        return Err(AppError::forbidden(
            "Only admins can list every deployment.",
        ));
    }
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| internal("acquire", e))?;
    let rows = db::list(&mut *conn, (!all).then_some(user.id))
        .await
        .map_err(|e| internal("list deployments", e))?;
    views(state, &mut conn, rows).await
}

pub async fn get(state: &AppState, user: &UserRow, id: &str) -> Result<Deployment, AppError> {
    let row = load_for(state, user, id).await?;
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| internal("acquire", e))?;
    Ok(views(state, &mut conn, vec![row]).await?.remove(0))
}

pub async fn releases(
    state: &AppState,
    user: &UserRow,
    id: &str,
) -> Result<Vec<Release>, AppError> {
    let row = load_for(state, user, id).await?;
    let releases = db::releases(&state.db, row.id)
        .await
        .map_err(|e| internal("list releases", e))?;
    let ids: Vec<Uuid> = releases.iter().map(|r| r.id).collect();
    let steps = db::step_times(&state.db, &ids)
        .await
        .map_err(|e| internal("load release steps", e))?;
    Ok(releases
        .iter()
        .map(|r| release_view(r, steps.get(&r.id)))
        .collect())
}

/// The stored build log after line `after`, at most `limit` lines.
pub async fn release_log(
    state: &AppState,
    user: &UserRow,
    release: &str,
    after: i32,
    limit: i64,
) -> Result<Vec<LogLine>, AppError> {
    let id = Uuid::parse_str(release).map_err(|_| AppError::NotFound)?;
    let release = db::find_release(&state.db, id)
        .await
        .map_err(|e| internal("load release", e))?
        .ok_or(AppError::NotFound)?;
    load_for(state, user, &release.deployment_id.to_string()).await?;
    Ok(
        db::log(&state.db, release.id, after, limit.clamp(1, 10_000))
            .await
            .map_err(|e| internal("read build log", e))?
            .into_iter()
            .map(|l| LogLine {
                seq: l.seq,
                ts: l.ts.to_rfc3339(),
                stream: l.stream,
                line: l.line,
            })
            .collect(),
    )
}

pub async fn subdomain_availability(
    state: &AppState,
    name: &str,
) -> Result<SubdomainAvailability, AppError> {
    match validate::subdomain(name, &state.config.deploy) {
        Err(problem) => Ok(SubdomainAvailability {
            available: false,
            reason: Some(problem.reason().into()),
            message: Some(problem.message()),
        }),
        Ok(subdomain) => {
            let taken = db::subdomain_taken(&state.db, &subdomain)
                .await
                .map_err(|e| internal("check subdomain", e))?;
            Ok(SubdomainAvailability {
                available: !taken,
                reason: taken.then(|| "taken".into()),
                message: taken.then(|| "is already taken".into()),
            })
        }
    }
}

/// `GET /api/v1/deployments/{id}/env/{key}`: one variable's value, for its owner (or an
/// admin) who asked to see it. Every reveal is audited, naming the key, never the value.
pub async fn reveal_env(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
    key: &str,
) -> Result<EnvValue, AppError> {
    let row = load_for(state, user, id).await?;
    let sealed = db::env(&state.db, row.id)
        .await
        .map_err(|e| internal("load env", e))?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .ok_or(AppError::NotFound)?;
    let value = state
        .cipher
        .open(&pipeline::env_context(row.id, key), &sealed)
        .map_err(|e| internal("open an env value", e))?;
    let value = String::from_utf8(value).map_err(|e| internal("env value is not UTF-8", e))?;
    auth::audit(
        state,
        Some(user.id),
        "deployment.env_revealed",
        Some(&row.subdomain),
        client,
        json!({ "deployment": row.id, "key": key }),
    )
    .await?;
    Ok(EnvValue {
        key: key.to_owned(),
        value,
    })
}

/// `GET /api/v1/deployments/{id}/routing`: what is configured now.
pub async fn routing(state: &AppState, user: &UserRow, id: &str) -> Result<RoutingInfo, AppError> {
    let row = load_for(state, user, id).await?;
    let path = state.nginx.site_path(row.id);
    let vhost = tokio::fs::read_to_string(&path).await.ok();
    let upstream_port = vhost.as_deref().and_then(|text| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix("proxy_pass http://127.0.0.1:"))
            .and_then(|rest| rest.trim_end_matches(';').parse::<u16>().ok())
    });
    let host = host_name(&state.config, &row.subdomain);
    let (cloudflare, cloudflare_error) = match state.cloudflare.as_deref() {
        None => (Default::default(), None),
        Some(cf) => match cf.route(row.id, &host).await {
            Ok(route) => (route, row.routing_error),
            Err(e) => (Default::default(), Some(e)),
        },
    };
    Ok(RoutingInfo {
        url: public_url(&state.config, &row.subdomain),
        host,
        vhost_path: path.display().to_string(),
        vhost_present: vhost.is_some(),
        upstream_port,
        cloudflare: state.cloudflare.is_some(),
        tunnel_rule_present: cloudflare.rule,
        dns_record_id: cloudflare.record,
        cloudflare_error,
    })
}

pub async fn port_registry(
    state: &AppState,
    _admin: &Admin,
) -> Result<Vec<PortAllocation>, AppError> {
    Ok(db::ports(&state.db)
        .await
        .map_err(|e| internal("list ports", e))?
        .into_iter()
        .map(|p| PortAllocation {
            port: p.port as u16,
            deployment_id: p.deployment_id.to_string(),
            subdomain: p.subdomain,
            allocated_at: p.allocated_at.to_rfc3339(),
        })
        .collect())
}

/// Queues a build of the branch (at `commit`, when one is named) and returns its release. A
/// build already waiting is joined instead, and then builds the branch's head: asks arrive in
/// any order, and the head holds every commit they named. A queued rollback is never joined.
/// The caller holds the deployment's row lock.
pub(crate) async fn queue_build(
    tx: &mut sqlx::PgConnection,
    row: &DeploymentRow,
    trigger: &str,
    commit: Option<&str>,
) -> Result<Uuid, AppError> {
    let waiting = db::queued_build(&mut *tx, row.id)
        .await
        .map_err(|e| internal("find queued release", e))?;
    if let Some(release) = waiting {
        db::pin(&mut *tx, release, None)
            .await
            .map_err(|e| internal("unpin release", e))?;
        return Ok(release);
    }
    let release = db::insert_release(&mut *tx, row.id, trigger)
        .await
        .map_err(|e| internal("queue release", e))?;
    if let Some(commit) = commit {
        db::pin(&mut *tx, release.id, Some(commit))
            .await
            .map_err(|e| internal("pin release", e))?;
    }
    if !DeploymentState::parse(&row.state).is_some_and(DeploymentState::is_in_progress)
        && row.current_release_id.is_none()
    {
        db::set_state(&mut *tx, row.id, "queued", None)
            .await
            .map_err(|e| internal("queue", e))?;
    }
    Ok(release.id)
}

fn being_deleted() -> AppError {
    AppError::Conflict {
        message: "This deployment is being deleted.".into(),
    }
}

fn refuse_while_deleting(row: &DeploymentRow) -> Result<(), AppError> {
    if row.state == "deleting" {
        return Err(being_deleted());
    }
    Ok(())
}

/// Locks the deployment's row for a change, which a delete under way (or done) refuses.
pub(crate) async fn lock_for_change(tx: &mut sqlx::PgConnection, id: Uuid) -> Result<(), AppError> {
    match db::lock(tx, id)
        .await
        .map_err(|e| internal("lock deployment", e))?
    {
        None => Err(AppError::NotFound),
        Some(state) if state == "deleting" => Err(being_deleted()),
        Some(_) => Ok(()),
    }
}

/// `PATCH /api/v1/deployments/{id}`: a change to anything but the name queues a release.
pub async fn update(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
    request: UpdateDeploymentRequest,
) -> Result<Deployment, AppError> {
    let row = load_for(state, user, id).await?;
    refuse_while_deleting(&row)?;
    let settings = &state.config.deploy;
    let mut f = Fields::default();
    let name = match request.name.as_deref() {
        Some(n) => f.check("name", validate::name(n)),
        None => Some(row.name.clone()),
    };
    let branch = match request.branch.as_deref() {
        Some(b) => f.check("branch", validate::branch(b)),
        None => Some(row.branch.clone()),
    };
    let existing_keys: Vec<String> = db::env(&state.db, row.id)
        .await
        .map_err(|e| internal("load env", e))?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let env_changes = request.env.clone().unwrap_or_default();
    let total_after = {
        let mut keys: std::collections::BTreeSet<&String> = existing_keys.iter().collect();
        for (k, v) in &env_changes {
            if v.is_some() {
                keys.insert(k);
            } else {
                keys.remove(k);
            }
        }
        keys.len()
    };
    validate::env(
        env_changes.iter().map(|(k, v)| (k, v.as_ref())),
        total_after,
        &mut f,
    );
    // Some(None) removes the token.
    let token: Option<Option<String>> = match request.access_token.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(t) => f.check("access_token", validate::access_token(t)).map(Some),
    };
    let context = match request.context.as_deref() {
        Some(c) => f.check("context", validate::repo_path(c)),
        None => Some(row.build_context.clone()),
    };
    let dockerfile = match request.dockerfile.as_deref() {
        Some(p) => f.check("dockerfile", validate::repo_path(p)),
        None => Some(row.dockerfile.clone()),
    };
    let container_port = match request.container_port {
        Some(0) => Some(None),
        Some(p) => f
            .check("container_port", validate::container_port(p))
            .map(Some),
        None => Some(row.container_port.and_then(|p| u16::try_from(p).ok())),
    };
    let health_path = match request.health_path.as_deref().map(str::trim) {
        Some("") => Some(None),
        Some(p) => f.check("health_path", validate::health_path(p)).map(Some),
        None => Some(row.health_path.clone()),
    };
    let memory_mb = match request.memory_mb {
        Some(m) => f.check("memory_mb", validate::memory_mb(m, settings)),
        None => Some(row.memory_mb as u32),
    };
    let cpu_millis = match request.cpus {
        Some(c) => f.check("cpus", validate::cpus(c, settings)),
        None => Some(row.cpu_millis),
    };
    f.into_result()?;
    let (
        Some(name),
        Some(branch),
        Some(context),
        Some(dockerfile),
        Some(container_port),
        Some(health_path),
        Some(memory_mb),
        Some(cpu_millis),
    ) = (
        name,
        branch,
        context,
        dockerfile,
        container_port,
        health_path,
        memory_mb,
        cpu_millis,
    )
    else {
        unreachable!("every field was checked")
    };

    let current_token = pipeline::secrets(state, &row, Vec::new())
        .map_err(|e| internal("open access token", e))?
        .1;
    let new_token = token.clone().unwrap_or(current_token);
    if branch != row.branch || token.is_some() {
        Git::new(settings, new_token.as_deref())
            .ls_remote(&row.repo_url, Some(&branch))
            .await
            .map_err(git_error)?;
    }
    let sealed_token = new_token
        .as_deref()
        .map(|t| seal(state, &token_context(row.id), t))
        .transpose()?;

    let rebuild = branch != row.branch
        || token.is_some()
        || !env_changes.is_empty()
        || context != row.build_context
        || dockerfile != row.dockerfile
        || container_port.map(i32::from) != row.container_port
        || health_path != row.health_path
        || memory_mb as i32 != row.memory_mb
        || cpu_millis != row.cpu_millis;

    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    lock_for_change(&mut tx, row.id).await?;
    db::update(
        &mut tx,
        row.id,
        db::Update {
            name: &name,
            branch: &branch,
            access_token: sealed_token.as_deref(),
            dockerfile: &dockerfile,
            build_context: &context,
            container_port: container_port.map(i32::from),
            health_path: health_path.as_deref(),
            memory_mb: memory_mb as i32,
            cpu_millis,
        },
    )
    .await
    .map_err(|e| internal("update deployment", e))?;
    for (key, value) in &env_changes {
        match value {
            Some(value) => {
                let sealed = seal(state, &env_context(row.id, key), value)?;
                db::set_env(&mut tx, row.id, key, &sealed).await
            }
            None => db::remove_env(&mut tx, row.id, key).await,
        }
        .map_err(|e| internal("store env", e))?;
    }
    // Counted again under the row lock: two concurrent changes cannot pass the limit together.
    let count = db::env_count(&mut *tx, row.id)
        .await
        .map_err(|e| internal("count env", e))?;
    if count > validate::MAX_ENV_PAIRS as i64 {
        return Err(AppError::field(
            "env",
            format!("at most {} variables", validate::MAX_ENV_PAIRS),
        ));
    }
    if rebuild {
        queue_build(&mut tx, &row, "update", None).await?;
    }
    tx.commit().await.map_err(|e| internal("commit", e))?;
    auth::audit(
        state,
        Some(user.id),
        "deployment.updated",
        Some(&row.subdomain),
        client,
        json!({ "deployment": row.id, "env_keys_changed": env_changes.keys().collect::<Vec<_>>(), "redeploy": rebuild }),
    )
    .await?;
    if rebuild {
        state.deployer.wake();
    }
    changed_view(state, row.id).await
}

/// `POST .../redeploy`: builds the branch's newest commit.
pub async fn redeploy(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
) -> Result<Deployment, AppError> {
    let row = load_for(state, user, id).await?;
    refuse_while_deleting(&row)?;
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    lock_for_change(&mut tx, row.id).await?;
    let release = queue_build(&mut tx, &row, "redeploy", None).await?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    auth::audit(
        state,
        Some(user.id),
        "deployment.redeployed",
        Some(&row.subdomain),
        client,
        json!({ "release_id": release.to_string() }),
    )
    .await?;
    state.deployer.wake();
    changed_view(state, row.id).await
}

/// `POST .../rollback {release_id}`: runs an earlier release's image again, with the
/// environment it had, through the same zero-downtime switch as a redeploy.
pub async fn rollback(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
    release_id: &str,
) -> Result<Deployment, AppError> {
    let row = load_for(state, user, id).await?;
    refuse_while_deleting(&row)?;
    let source = Uuid::parse_str(release_id)
        .ok()
        .ok_or_else(|| AppError::field("release_id", "is not a release id"))?;
    let release = db::find_release(&state.db, source)
        .await
        .map_err(|e| internal("load release", e))?
        .filter(|r| r.deployment_id == row.id)
        .ok_or_else(|| AppError::field("release_id", "is not a release of this deployment"))?;
    if row.current_release_id == Some(release.id) {
        return Err(AppError::field("release_id", "is the live release already"));
    }
    if release.image.is_none() || release.state == "failed" {
        return Err(AppError::field(
            "release_id",
            format!(
                "release #{} has no image to go back to (failed or pruned; KEEP_RELEASES keeps {})",
                release.number, state.config.deploy.keep_releases
            ),
        ));
    }
    let mut tx = state.db.begin().await.map_err(|e| internal("begin", e))?;
    lock_for_change(&mut tx, row.id).await?;
    db::insert_rollback(&mut tx, row.id, release.id)
        .await
        .map_err(|e| internal("queue rollback", e))?;
    tx.commit().await.map_err(|e| internal("commit", e))?;
    auth::audit(
        state,
        Some(user.id),
        "deployment.rolled_back",
        Some(&row.subdomain),
        client,
        json!({ "deployment": row.id, "to_release": release.number }),
    )
    .await?;
    state.deployer.wake();
    changed_view(state, row.id).await
}

#[derive(Clone, Copy)]
pub enum Power {
    Stop,
    Start,
    Restart,
}

/// `POST .../stop`, `.../start`, `.../restart` on the live release's container.
/// `POST .../stop|start|restart`. Audited once it took effect: a refused one leaves no entry.
pub async fn power(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
    action: Power,
) -> Result<Deployment, AppError> {
    let deployment = switch_power(state, user, id, action).await?;
    let action = match action {
        Power::Stop => "deployment.stopped",
        Power::Start => "deployment.started",
        Power::Restart => "deployment.restarted",
    };
    auth::audit(
        state,
        Some(user.id),
        action,
        Some(&deployment.subdomain),
        client,
        json!({}),
    )
    .await?;
    Ok(deployment)
}

async fn switch_power(
    state: &AppState,
    user: &UserRow,
    id: &str,
    action: Power,
) -> Result<Deployment, AppError> {
    let row = load_for(state, user, id).await?;
    refuse_while_deleting(&row)?;
    if DeploymentState::parse(&row.state).is_some_and(DeploymentState::is_in_progress) {
        return Err(AppError::Conflict {
            message: "A release is being deployed; wait for it to finish.".into(),
        });
    }
    let live = match row.current_release_id {
        Some(r) => db::find_release(&state.db, r)
            .await
            .map_err(|e| internal("load release", e))?,
        None => None,
    };
    let Some(live) = live else {
        return Err(AppError::Conflict {
            message: "This deployment has no release that went live; redeploy it first.".into(),
        });
    };
    let docker = state
        .docker
        .client()
        .await
        .map_err(|e| AppError::Unavailable {
            message: format!(
                "The Docker engine is not reachable: {}",
                engine::message(&e)
            ),
        })?;
    let engine_error = |e: bollard::errors::Error| AppError::Unavailable {
        message: format!("The Docker engine refused: {}", engine::message(&e)),
    };
    let container = match live.container_id.as_deref() {
        Some(c)
            if engine::observe(&docker, c)
                .await
                .map_err(engine_error)?
                .is_some() =>
        {
            c.to_owned()
        }
        // The container is gone: start recreates it from the release's image.
        _ if !matches!(action, Power::Stop) => {
            super::reconcile::recreate(state, &row, &live)
                .await
                .map_err(|message| AppError::Unavailable { message })?;
            db::set_state(&state.db, row.id, "running", None)
                .await
                .map_err(|e| internal("set state", e))?;
            return changed_view(state, row.id).await;
        }
        _ => {
            db::set_state(&state.db, row.id, "stopped", None)
                .await
                .map_err(|e| internal("set state", e))?;
            return changed_view(state, row.id).await;
        }
    };
    let (result, next) = match action {
        Power::Stop => (engine::stop(&docker, &container).await, "stopped"),
        Power::Start => (
            match engine::start(&docker, &container).await {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 304, ..
                }) => Ok(()),
                other => other,
            },
            "running",
        ),
        Power::Restart => (engine::restart(&docker, &container).await, "running"),
    };
    result.map_err(engine_error)?;
    db::set_state(&state.db, row.id, next, None)
        .await
        .map_err(|e| internal("set state", e))?;
    changed_view(state, row.id).await
}

/// `DELETE /api/v1/deployments/{id}`: marks the deployment and removes it in the
/// background. A second call while it is going retries; once it is gone, "not found".
pub async fn delete(
    state: &AppState,
    user: &UserRow,
    client: &Client,
    id: &str,
) -> Result<(), AppError> {
    let row = load_for(state, user, id).await?;
    if !db::mark_deleting(&state.db, row.id)
        .await
        .map_err(|e| internal("mark deleting", e))?
    {
        return Err(AppError::NotFound);
    }
    live::events::changed(state, row.id).await;
    auth::audit(
        state,
        Some(user.id),
        "deployment.deleted",
        Some(&row.subdomain),
        client,
        json!({ "deployment": row.id }),
    )
    .await?;
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = finish_delete(&state, row.id).await {
            tracing::warn!(deployment = %row.id, error = %e, "delete did not finish; the reconciler retries");
        }
    });
    Ok(())
}

/// Deletes every deployment of a user (before the user is deleted), synchronously.
pub async fn delete_all_of(state: &AppState, owner: Uuid) -> Result<(), AppError> {
    let ids = db::ids_of_owner(&state.db, owner)
        .await
        .map_err(|e| internal("list deployments", e))?;
    for id in ids {
        db::mark_deleting(&state.db, id)
            .await
            .map_err(|e| internal("mark deleting", e))?;
        finish_delete(state, id)
            .await
            .map_err(|message| AppError::Unavailable {
                message: format!("A deployment of this user could not be removed: {message}"),
            })?;
        // Another task may have been deleting it already: wait for it to finish.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        while db::find(&state.db, id)
            .await
            .map_err(|e| internal("load deployment", e))?
            .is_some()
        {
            if tokio::time::Instant::now() >= deadline {
                return Err(AppError::Unavailable {
                    message: "A deployment of this user is still being removed; try again.".into(),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Removes everything a deployment owns, each step safe to repeat: the build in flight,
/// containers, images, work directories, then the rows (port, env, releases, logs).
pub async fn finish_delete(state: &AppState, id: Uuid) -> Result<(), String> {
    let Some(_guard) = state.deployer.deleting(id) else {
        return Ok(()); // Another task is already at it.
    };
    let owner = match db::find(&state.db, id).await {
        Ok(Some(row)) => row.owner_id,
        Ok(None) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let outcome = remove_everything(state, id).await;
    match &outcome {
        Ok(()) => live::events::deleted(state, id, owner).await,
        Err(message) => {
            let _ =
                db::set_delete_error(&state.db, id, &format!("Delete did not finish: {message}"))
                    .await;
            live::events::changed(state, id).await;
        }
    }
    outcome
}

async fn remove_everything(state: &AppState, id: Uuid) -> Result<(), String> {
    state.deployer.cancel(id).await;
    let docker = state.docker.client().await.map_err(|e| {
        format!(
            "the Docker engine is not reachable: {}",
            engine::message(&e)
        )
    })?;
    let instance = state.instance_id.to_string();
    let deployment = id.to_string();
    let labels = [
        (engine::LABEL_INSTANCE, instance.as_str()),
        (engine::LABEL_DEPLOYMENT, deployment.as_str()),
    ];
    for container in engine::containers(&docker, &labels)
        .await
        .map_err(|e| engine::message(&e))?
    {
        engine::remove_container(&docker, &container.id)
            .await
            .map_err(|e| engine::message(&e))?;
    }
    let releases = db::releases(&state.db, id)
        .await
        .map_err(|e| e.to_string())?;
    let mut images: Vec<String> = releases.iter().filter_map(|r| r.image.clone()).collect();
    for (image, _) in engine::images(&docker, &labels)
        .await
        .map_err(|e| engine::message(&e))?
    {
        images.push(image.id);
    }
    for image in images {
        engine::remove_image(&docker, &image)
            .await
            .map_err(|e| engine::message(&e))?;
    }
    for release in &releases {
        let dir = pipeline::work_dir(state, release.id);
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{} cannot be removed: {e}", dir.display())),
        }
    }
    super::tunnel::unpublish(state, id).await?;
    state.nginx.remove(id).await?;
    let mut tx = state.db.begin().await.map_err(|e| e.to_string())?;
    db::release_ports(&mut *tx, id)
        .await
        .map_err(|e| e.to_string())?;
    db::delete(&mut *tx, id).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Removes images of releases beyond the newest `KEEP_RELEASES` that went live.
pub async fn prune_images(state: &AppState, deployment: Uuid) {
    let keep = i64::from(state.config.deploy.keep_releases);
    let Ok(old) = db::releases_to_prune(&state.db, deployment, keep).await else {
        return;
    };
    let Ok(all) = db::releases(&state.db, deployment).await else {
        return;
    };
    let Ok(docker) = state.docker.client().await else {
        return;
    };
    let pruned: std::collections::HashSet<Uuid> = old.iter().map(|r| r.id).collect();
    // A rollback runs its source's image: an image goes only when no kept release uses it.
    let in_use: std::collections::HashSet<&str> = all
        .iter()
        .filter(|r| !pruned.contains(&r.id))
        .filter_map(|r| r.image.as_deref())
        .collect();
    for release in &old {
        let Some(image) = release.image.as_deref() else {
            continue;
        };
        if !in_use.contains(image) {
            if let Err(e) = engine::remove_image(&docker, image).await {
                tracing::warn!(error = %engine::message(&e), image, "pruning an old image");
                continue;
            }
        }
        let _ = db::clear_release_image(&state.db, release.id).await;
    }
}
