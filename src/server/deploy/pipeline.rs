//! One release through the pipeline: `cloning → building → starting → checking_health →
//! running`, or `failed` with the step and the reason. Every transition is a conditional
//! update that only the owning worker can make, and each is written to the build log.
//!
//! A redeploy stops the live container only once the new image is built, and starts it again
//! if the new release does not come up, so a failed redeploy leaves the old version serving.
//! (The routing issue replaces this with a start-new-then-switch on a second port.)

use std::{path::PathBuf, time::Duration};

use bollard::Docker;
use tokio::time::Instant;

use super::{
    buildlog::BuildLog,
    engine::{self, BuildSpec, RunSpec},
    git::Git,
    probe::{self, Target},
    redact::Redactor,
};
use crate::server::{
    db::deployments::{self as db, DeploymentRow, ReleaseRow},
    live,
    nginx::Site,
    AppState,
};

/// Without an override or an `EXPOSE`, the app is expected here (and told so in `PORT`).
pub const DEFAULT_CONTAINER_PORT: u16 = 8080;
const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// The pause after the first failed probe; it doubles up to [`PROBE_INTERVAL`].
const FIRST_PROBE_PAUSE: Duration = Duration::from_millis(25);
/// A container that has crashed this often while we wait will not get better.
const CRASH_LIMIT: i64 = 2;

pub fn env_context(deployment: uuid::Uuid, key: &str) -> String {
    format!("env:{deployment}:{key}")
}

pub fn token_context(deployment: uuid::Uuid) -> String {
    format!("token:{deployment}")
}

pub fn work_dir(state: &AppState, release: uuid::Uuid) -> PathBuf {
    state
        .config
        .data_dir
        .join("builds")
        .join(release.to_string())
}

/// A deployment's variables in the clear, in key order.
pub type Env = Vec<(String, String)>;

/// The deployment's decrypted variables and token. An error names what cannot be opened,
/// never a value.
pub fn secrets(
    state: &AppState,
    d: &DeploymentRow,
    env: Vec<(String, Vec<u8>)>,
) -> Result<(Env, Option<String>), String> {
    let env = env
        .into_iter()
        .map(|(key, blob)| {
            state
                .cipher
                .open_string(&env_context(d.id, &key), &blob)
                .map(|value| (key.clone(), value))
                .map_err(|e| format!("variable {key} cannot be decrypted: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let token = d
        .access_token
        .as_deref()
        .map(|blob| {
            state
                .cipher
                .open_string(&token_context(d.id), blob)
                .map_err(|e| format!("the access token cannot be decrypted: {e}"))
        })
        .transpose()?;
    Ok((env, token))
}

fn snapshot_context(release: uuid::Uuid) -> String {
    format!("env-snapshot:{release}")
}

/// Keeps, sealed, the variables a release runs with, for a later rollback to it.
async fn save_snapshot(state: &AppState, release: uuid::Uuid, env: &Env) -> Result<(), String> {
    let json = serde_json::to_vec(env).map_err(|e| e.to_string())?;
    let sealed = state
        .cipher
        .seal(&snapshot_context(release), &json)
        .map_err(|e| e.to_string())?;
    db::set_env_snapshot(&state.db, release, &sealed)
        .await
        .map_err(|e| e.to_string())
}

/// The variables a release ran with, if it kept them.
pub async fn snapshot_of(state: &AppState, release: uuid::Uuid) -> Result<Option<Env>, String> {
    let Some(sealed) = db::env_snapshot(&state.db, release)
        .await
        .map_err(|e| format!("the environment could not be read: {e}"))?
    else {
        return Ok(None);
    };
    let json = state
        .cipher
        .open(&snapshot_context(release), &sealed)
        .map_err(|e| format!("the environment snapshot cannot be decrypted: {e}"))?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|_| "the environment snapshot is damaged".to_owned())
}

/// The source release's variables, written back as the deployment's.
async fn restore_snapshot(
    state: &AppState,
    d: &DeploymentRow,
    source: uuid::Uuid,
) -> Result<(Env, Option<String>), String> {
    let sealed = db::env_snapshot(&state.db, source)
        .await
        .map_err(|e| format!("the environment could not be read: {e}"))?
        .ok_or("the release to roll back to kept no environment")?;
    let json = state
        .cipher
        .open(&snapshot_context(source), &sealed)
        .map_err(|e| format!("the environment snapshot cannot be decrypted: {e}"))?;
    let env: Env = serde_json::from_slice(&json)
        .map_err(|_| "the environment snapshot is damaged".to_owned())?;
    let mut tx = state.db.begin().await.map_err(|e| e.to_string())?;
    db::clear_env(&mut tx, d.id)
        .await
        .map_err(|e| e.to_string())?;
    for (key, value) in &env {
        let sealed = state
            .cipher
            .seal(&env_context(d.id, key), value.as_bytes())
            .map_err(|e| e.to_string())?;
        db::set_env(&mut tx, d.id, key, &sealed)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let (_, token) = secrets(state, d, Vec::new())?;
    Ok((env, token))
}

/// What a failed release does to its deployment: one that still has a live release keeps
/// `running` with the failure as its error; one that never went live is `failed`.
pub async fn show_failure(
    state: &AppState,
    deployment: uuid::Uuid,
    still_serving: bool,
    number: i32,
    error: &str,
) {
    let result = if still_serving {
        let message = format!("Release #{number} failed. {error}");
        db::set_state(&state.db, deployment, "running", Some(&message)).await
    } else {
        db::set_state(&state.db, deployment, "failed", Some(error)).await
    };
    if let Err(e) = result {
        tracing::error!(error = %e, %deployment, "recording a failed release");
    }
    live::events::changed(state, deployment).await;
}

pub fn redactor(env: &[(String, String)], token: Option<&str>) -> Redactor {
    Redactor::new(env.iter().map(|(_, v)| v.as_str()).chain(token))
}

/// The container's environment: the user's variables, plus `PORT` unless they set it.
pub fn container_env(env: &[(String, String)], container_port: u16) -> Vec<String> {
    let mut out: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !env.iter().any(|(k, _)| k == "PORT") {
        out.push(format!("PORT={container_port}"));
    }
    out
}

struct Failure {
    step: &'static str,
    message: String,
}

fn step_label(step: &str) -> &'static str {
    match step {
        "cloning" => "Clone failed",
        "building" => "Build failed",
        "starting" => "Start failed",
        "checking_health" => "Health check failed",
        "routing" => "Routing failed",
        _ => "Deploy failed",
    }
}

struct Run<'a> {
    state: &'a AppState,
    d: DeploymentRow,
    r: ReleaseRow,
    env: Vec<(String, String)>,
    token: Option<String>,
    log: BuildLog,
    step: &'static str,
    /// The worker lost the release (declared interrupted, or the deployment is being deleted).
    fenced: bool,
    image: Option<String>,
    container: Option<String>,
    /// This release took a port of its own (the live one kept the deployment's).
    own_port: bool,
    /// The release traffic moved away from, to retire once requests in flight are done.
    replaced: Option<ReleaseRow>,
}

/// Runs a claimed release to its end. Never panics on a failure: every way out is recorded.
pub async fn run(state: &AppState, release: ReleaseRow) {
    let d = match db::find(&state.db, release.deployment_id).await {
        Ok(Some(d)) => d,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, release = %release.id, "loading a deployment to build");
            let _ = db::finish_release(
                &state.db,
                release.id,
                "failed",
                Some("Deploy failed: the database could not be read"),
            )
            .await;
            return;
        }
    };
    // Never deploy without the app's variables: a read error fails the release. A rollback
    // runs with its source's variables, which become the deployment's again.
    let opened = match release.source_release_id {
        Some(source) => restore_snapshot(state, &d, source).await,
        None => db::env(&state.db, d.id)
            .await
            .map_err(|e| format!("the environment could not be read: {e}"))
            .and_then(|stored| secrets(state, &d, stored)),
    };
    if let Ok((env, _)) = &opened {
        if let Err(e) = save_snapshot(state, release.id, env).await {
            tracing::warn!(error = %e, release = %release.id, "saving the environment snapshot");
        }
    }
    let (env, token, problem) = match opened {
        Ok((env, token)) => (env, token, None),
        Err(problem) => (Vec::new(), None, Some(problem)),
    };
    let log = BuildLog::open(state, release.id, redactor(&env, token.as_deref())).await;
    let mut run = Run {
        state,
        d,
        r: release,
        env,
        token,
        log,
        step: "cloning",
        fenced: false,
        image: None,
        container: None,
        own_port: false,
        replaced: None,
    };
    let outcome = match problem {
        Some(problem) => Err(Failure {
            step: "cloning",
            message: problem,
        }),
        None => run.execute().await,
    };
    run.conclude(outcome).await;
    state.deployer.wake();
}

impl Run<'_> {
    fn fail(&self, message: impl Into<String>) -> Failure {
        Failure {
            step: self.step,
            message: message.into(),
        }
    }

    /// Moves release and deployment to `step`, unless the release is no longer ours.
    async fn advance(&mut self, step: &'static str) -> Result<(), Failure> {
        self.step = step;
        let worker = self.state.deployer.worker_id;
        let ours = db::advance_release(&self.state.db, self.r.id, worker, step)
            .await
            .map_err(|e| self.fail(format!("the database could not be updated: {e}")))?;
        let deployment_live = ours
            && db::set_state(&self.state.db, self.d.id, step, None)
                .await
                .map_err(|e| self.fail(format!("the database could not be updated: {e}")))?;
        if !deployment_live {
            self.fenced = true;
            return Err(self.fail("the release was cancelled"));
        }
        live::events::changed(self.state, self.d.id).await;
        Ok(())
    }

    async fn docker(&self) -> Result<Docker, Failure> {
        self.state.docker.client().await.map_err(|e| {
            self.fail(format!(
                "the Docker engine is not reachable: {}",
                engine::message(&e)
            ))
        })
    }

    async fn execute(&mut self) -> Result<(), Failure> {
        // Cloning (the claim already moved the release here; the deployment follows).
        self.step = "cloning";
        if !db::set_state(&self.state.db, self.d.id, "cloning", None)
            .await
            .map_err(|e| self.fail(format!("the database could not be updated: {e}")))?
        {
            self.fenced = true;
            return Err(self.fail("the release was cancelled"));
        }
        crate::server::live::events::changed(self.state, self.d.id).await;
        let (docker, tag) = match self.r.source_release_id {
            Some(source) => self.reuse_image(source).await?,
            None => self.clone_and_build().await?,
        };

        // Starting.
        self.advance("starting").await?;
        let live = self.live_release().await;
        let host_port = match &live {
            // A release is live: the new one starts next to it on a port of its own, and
            // traffic moves only once it is healthy.
            Some(_) => {
                let mut tx =
                    self.state.db.begin().await.map_err(|e| {
                        self.fail(format!("the database could not be updated: {e}"))
                    })?;
                let port = super::ports::allocate(
                    &mut tx,
                    self.state.config.port_range.clone(),
                    self.d.id,
                    Some(self.r.id),
                )
                .await
                .map_err(|e| self.fail(e.to_string()))?;
                tx.commit()
                    .await
                    .map_err(|e| self.fail(format!("the database could not be updated: {e}")))?;
                self.own_port = true;
                port
            }
            None => db::claim_home_port(&self.state.db, self.d.id, self.r.id)
                .await
                .map_err(|e| self.fail(format!("the database could not be updated: {e}")))?
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| self.fail("the deployment holds no port"))?,
        };
        let _ = db::set_release_host_port(&self.state.db, self.r.id, i32::from(host_port)).await;
        let container_port = match self.d.container_port.and_then(|p| u16::try_from(p).ok()) {
            Some(port) => port,
            None => match engine::exposed_port(&docker, &tag).await {
                Ok(Some(port)) => {
                    self.log
                        .system(&format!("The image exposes port {port}; routing to it"))
                        .await;
                    port
                }
                Ok(None) => {
                    self.log
                        .system(&format!(
                            "The image exposes no port; expecting the app on {DEFAULT_CONTAINER_PORT} (set container_port to change it)"
                        ))
                        .await;
                    DEFAULT_CONTAINER_PORT
                }
                Err(e) => return Err(self.fail(engine::message(&e))),
            },
        };
        let name = engine::container_name(self.r.id);
        // A retried start may find its own earlier attempt.
        let _ = engine::remove_container(&docker, &name).await;
        let id = engine::run(
            &docker,
            RunSpec {
                name: &name,
                image: &tag,
                env: container_env(&self.env, container_port),
                labels: engine::labels(self.state.instance_id, self.d.id, self.r.id),
                container_port,
                host_port,
                memory_mb: self.d.memory_mb as u32,
                cpus: f64::from(self.d.cpu_millis) / 1000.0,
            },
        )
        .await
        .map_err(|e| self.fail(engine::message(&e)))?;
        self.container = Some(id.clone());
        let _ = db::set_release_container(
            &self.state.db,
            self.r.id,
            Some(&id),
            Some(i32::from(container_port)),
        )
        .await;
        self.log
            .system(&format!(
                "Started container {} on 127.0.0.1:{host_port} → {container_port} ({} MiB, {} CPUs)",
                &id[..12.min(id.len())],
                self.d.memory_mb,
                f64::from(self.d.cpu_millis) / 1000.0
            ))
            .await;

        // Checking health.
        self.advance("checking_health").await?;
        let checking = Instant::now();
        let healthy = self
            .wait_healthy(&docker, &id, host_port, container_port)
            .await;
        metrics::histogram!("health_check_duration_seconds")
            .record(checking.elapsed().as_secs_f64());
        healthy?;

        // Routing: the virtual host points at the port; unchanged on a redeploy.
        self.step = "routing";
        let host = super::service::host_name(&self.state.config, &self.d.subdomain);
        self.state
            .nginx
            .apply(&Site {
                deployment: self.d.id,
                host: &host,
                upstream_port: host_port,
            })
            .await
            .map_err(|e| self.fail(e))?;
        self.log
            .system(&format!("nginx routes {host} to 127.0.0.1:{host_port}"))
            .await;
        if !super::tunnel::is_published(self.state, &self.d) {
            match super::tunnel::publish(self.state, self.d.id).await {
                Ok(Some(made)) => {
                    self.log
                        .system(&format!(
                            "Cloudflare Tunnel routes {host} (CNAME record {})",
                            made.record.as_deref().unwrap_or("?")
                        ))
                        .await
                }
                Ok(None) => {}
                Err(e) => {
                    self.log
                        .line(
                            "stderr",
                            &format!(
                                "✗ Cloudflare Tunnel: {e}. The app answers through nginx; \
                                 Slipway retries every {} s.",
                                self.state.config.deploy.reconcile_interval.as_secs()
                            ),
                        )
                        .await
                }
            }
        }
        self.replaced = live;
        Ok(())
    }

    /// Clones the branch and builds its image: the `cloning` and `building` steps.
    async fn clone_and_build(&mut self) -> Result<(Docker, String), Failure> {
        let settings = &self.state.config.deploy;
        self.log
            .system(&format!(
                "Release #{} ({}): cloning {} (branch {})",
                self.r.number, self.r.trigger, self.d.repo_url, self.d.branch
            ))
            .await;
        let dir = work_dir(self.state, self.r.id);
        let _ = tokio::fs::remove_dir_all(&dir).await;
        if let Some(parent) = dir.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| self.fail(format!("the work directory cannot be made: {e}")))?;
        }
        let started = Instant::now();
        // A push webhook pins the commit it announced (unless later asks joined the release).
        let pinned = db::pinned_commit(&self.state.db, self.r.id)
            .await
            .map_err(|e| self.fail(format!("the release cannot be read: {e}")))?;
        if let Some(commit) = &pinned {
            self.log
                .system(&format!("Building commit {commit}, which the push named"))
                .await;
        }
        let (sha, subject) = Git::new(settings, self.token.as_deref())
            .clone(&self.d.repo_url, &self.d.branch, &dir, pinned.as_deref())
            .await
            .map_err(|e| self.fail(e.to_string()))?;
        let _ = db::set_release_commit(&self.state.db, self.r.id, &sha, &subject).await;
        self.log
            .system(&format!(
                "Checked out {} “{}” in {:.1}s",
                &sha[..sha.len().min(12)],
                subject,
                started.elapsed().as_secs_f64()
            ))
            .await;

        // Building.
        self.advance("building").await?;
        let docker = self.docker().await?;
        let tag = engine::image_tag(self.d.id, self.r.number);
        // The image may exist in part even when the build fails: always clean it up.
        self.image = Some(tag.clone());
        let started = Instant::now();
        for attempt in 0.. {
            let packed = {
                let (dir, context, dockerfile) = (
                    dir.clone(),
                    self.d.build_context.clone(),
                    self.d.dockerfile.clone(),
                );
                tokio::task::spawn_blocking(move || {
                    engine::context_archive(&dir, &context, &dockerfile)
                })
                .await
                .map_err(|e| self.fail(format!("packing the build context panicked: {e}")))?
                .map_err(|e| self.fail(e))?
            };
            self.log
                .system(&format!(
                    "Building image {tag} from {} (context {}, {} KiB; limits {} MiB, {} CPUs)",
                    self.d.dockerfile,
                    self.d.build_context,
                    packed.archive.len() / 1024,
                    settings.build_memory_mb,
                    settings.build_cpus
                ))
                .await;
            let spec = BuildSpec {
                context: packed.archive,
                dockerfile: &packed.dockerfile,
                tag: &tag,
                labels: engine::labels(self.state.instance_id, self.d.id, self.r.id),
                build_args: self
                    .env
                    .iter()
                    .filter(|(k, _)| packed.declared_args.contains(k))
                    .cloned()
                    .collect(),
                memory_mb: settings.build_memory_mb,
                cpus: settings.build_cpus,
                no_cache: attempt > 0,
            };
            let built = tokio::time::timeout(
                settings.build_timeout.saturating_sub(started.elapsed()),
                engine::build(&docker, spec, &mut self.log),
            )
            .await;
            match built {
                Err(_) => {
                    return Err(self.fail(format!(
                        "the build took longer than {} seconds (BUILD_TIMEOUT_SECS)",
                        settings.build_timeout.as_secs()
                    )))
                }
                // Another image sharing cached layers with this build was removed while it
                // ran (a deployment deleted, old images pruned): once more, without the cache.
                Ok(Err(message))
                    if attempt == 0
                        && (message.contains("unknown parent image ID")
                            || (message.contains("failed to get digest")
                                && message.contains("no such file or directory"))) =>
                {
                    self.log
                        .system("Docker's build cache changed during the build (an image it shared layers with was removed); building again without the cache")
                        .await;
                }
                Ok(Err(message)) => return Err(self.fail(message)),
                Ok(Ok(())) => break,
            }
        }
        let _ = db::set_release_image(&self.state.db, self.r.id, &tag).await;
        metrics::histogram!("build_duration_seconds").record(started.elapsed().as_secs_f64());
        self.log
            .system(&format!(
                "Built {tag} in {:.1}s",
                started.elapsed().as_secs_f64()
            ))
            .await;
        let _ = tokio::fs::remove_dir_all(&dir).await;
        Ok((docker, tag))
    }

    /// A rollback: the source release's image, still on this host, without a build.
    async fn reuse_image(&mut self, source: uuid::Uuid) -> Result<(Docker, String), Failure> {
        let docker = self.docker().await?;
        let source = db::find_release(&self.state.db, source)
            .await
            .map_err(|e| self.fail(format!("the database could not be read: {e}")))?
            .ok_or_else(|| self.fail("the release to roll back to is gone"))?;
        let Some(tag) = source.image.clone() else {
            return Err(self.fail(format!(
                "the image of release #{} was pruned (KEEP_RELEASES); redeploy instead",
                source.number
            )));
        };
        if docker.inspect_image(&tag).await.is_err() {
            return Err(self.fail(format!(
                "the image of release #{} is no longer on this host; redeploy instead",
                source.number
            )));
        }
        let _ = db::set_release_commit(
            &self.state.db,
            self.r.id,
            source.commit_sha.as_deref().unwrap_or_default(),
            source.commit_message.as_deref().unwrap_or_default(),
        )
        .await;
        let _ = db::set_release_image(&self.state.db, self.r.id, &tag).await;
        self.log
            .system(&format!(
                "Release #{}: rolling back to release #{} ({tag}) with its environment",
                self.r.number, source.number
            ))
            .await;
        Ok((docker, tag))
    }

    async fn live_release(&self) -> Option<ReleaseRow> {
        let current = self.d.current_release_id?;
        db::find_release(&self.state.db, current)
            .await
            .ok()
            .flatten()
            .filter(|r| r.id != self.r.id)
    }

    async fn wait_healthy(
        &mut self,
        docker: &Docker,
        id: &str,
        host_port: u16,
        container_port: u16,
    ) -> Result<(), Failure> {
        let timeout = self.state.config.deploy.health_timeout;
        let deadline = Instant::now() + timeout;
        let what = match self.d.health_path.as_deref() {
            Some(path) => format!("GET {path} on port {host_port}"),
            None => format!("a TCP connection to port {container_port}"),
        };
        self.log
            .system(&format!("Waiting up to {}s for {what}", timeout.as_secs()))
            .await;
        let started = Instant::now();
        let mut last;
        let mut pause = FIRST_PROBE_PAUSE;
        loop {
            let inspect = docker
                .inspect_container(id, None)
                .await
                .map_err(|e| self.fail(engine::message(&e)))?;
            let state = inspect.state.clone().unwrap_or_default();
            let running = state.running.unwrap_or(false);
            let crashes = inspect.restart_count.unwrap_or(0);
            if !running || crashes >= CRASH_LIMIT {
                let mut code = state.exit_code.unwrap_or_default();
                if crashes >= CRASH_LIMIT {
                    // Mid restart-loop the engine reports the current run; stopped, the last.
                    let _ = engine::stop(docker, id).await;
                    if let Ok(stopped) = docker.inspect_container(id, None).await {
                        code = stopped.state.and_then(|s| s.exit_code).unwrap_or(code);
                    }
                }
                let why = if state.oom_killed.unwrap_or(false) {
                    format!("the container ran out of memory ({} MiB)", self.d.memory_mb)
                } else if crashes >= CRASH_LIMIT {
                    format!("the container keeps crashing (exit code {code}, restarted {crashes} times)")
                } else if !state.restarting.unwrap_or(false) {
                    format!("the container exited with code {code}")
                } else {
                    String::new()
                };
                if !why.is_empty() {
                    self.append_container_output(docker, id).await;
                    return Err(self.fail(why));
                }
            }
            let ip = engine::container_ip(&inspect);
            let target = match self.d.health_path.as_deref() {
                Some(path) => Target::Http { host_port, path },
                None => Target::Tcp {
                    addr: match ip {
                        Some(ip) => format!("{ip}:{container_port}"),
                        None => format!("127.0.0.1:{host_port}"),
                    },
                },
            };
            match probe::probe(&target).await {
                Ok(()) => {
                    self.log
                        .system(&format!(
                            "Healthy after {:.1}s",
                            started.elapsed().as_secs_f64()
                        ))
                        .await;
                    return Ok(());
                }
                Err(e) => last = e,
            }
            if Instant::now() >= deadline {
                self.append_container_output(docker, id).await;
                return Err(self.fail(format!(
                    "not healthy after {}s (DEPLOY_HEALTH_TIMEOUT_SECS): {last}",
                    timeout.as_secs()
                )));
            }
            // Most apps listen within milliseconds: probe again soon, then back off.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(PROBE_INTERVAL);
        }
    }

    async fn append_container_output(&mut self, docker: &Docker, id: &str) {
        let lines = engine::tail(docker, id, 30).await;
        if lines.is_empty() {
            return;
        }
        self.log.system("Last output of the container:").await;
        let pairs: Vec<(&str, &str)> = lines
            .iter()
            .map(|(s, l)| (s.as_str(), l.as_str()))
            .collect();
        self.log.write(&pairs).await;
    }

    async fn conclude(&mut self, outcome: Result<(), Failure>) {
        let state = self.state;
        let _ = tokio::fs::remove_dir_all(work_dir(state, self.r.id)).await;
        match outcome {
            Ok(()) => self.went_live().await,
            Err(failure) => self.failed(failure).await,
        }
        self.log.end().await;
        live::events::changed(state, self.d.id).await;
    }

    async fn went_live(&mut self) {
        let state = self.state;
        let worker = state.deployer.worker_id;
        match db::complete_release(&state.db, self.r.id, worker, "running", None).await {
            Ok(true) => metrics::counter!("releases_total", "outcome" => "running").increment(1),
            // Declared interrupted meanwhile: what this run made is not the live release.
            Ok(false) => {
                self.fenced = true;
                return self
                    .failed(Failure {
                        step: self.step,
                        message: "the release was cancelled".into(),
                    })
                    .await;
            }
            Err(e) => {
                tracing::error!(error = %e, release = %self.r.id, "recording a live release");
                return self
                    .failed(Failure {
                        step: self.step,
                        message: format!("the database could not be updated: {e}"),
                    })
                    .await;
            }
        }
        match db::set_live(&state.db, self.d.id, self.r.id).await {
            Ok(true) => live::events::changed(state, self.d.id).await,
            // Deleted while we finished: the delete removes what we made.
            Ok(false) => return,
            Err(e) => {
                tracing::error!(error = %e, deployment = %self.d.id, "recording a live release")
            }
        }
        if let Some(previous) = self.replaced.take() {
            // nginx's old workers finish the requests they hold; then the old release goes.
            let drain = state.config.deploy.drain;
            self.log
                .system(&format!(
                    "Retiring release #{} after {}s for requests in flight",
                    previous.number,
                    drain.as_secs()
                ))
                .await;
            tokio::time::sleep(drain).await;
            let _ = db::finish_release(&state.db, previous.id, "superseded", None).await;
            if let (Ok(docker), Some(container)) = (
                state.docker.client().await,
                previous.container_id.as_deref(),
            ) {
                if let Err(e) = engine::remove_container(&docker, container).await {
                    tracing::warn!(error = %engine::message(&e), "removing a superseded container");
                }
            }
            if let Err(e) = db::release_port_of(&state.db, previous.id).await {
                tracing::warn!(error = %e, "freeing a superseded release's port");
            }
        }
        let url = super::service::public_url(&state.config, &self.d.subdomain);
        self.log
            .system(&format!("Release #{} is live: {url}", self.r.number))
            .await;
        super::service::prune_images(state, self.d.id).await;
    }

    async fn failed(&mut self, failure: Failure) {
        let state = self.state;
        // The engine's message may quote a build argument: stored errors are redacted too.
        let error = self.log.redact(&format!(
            "{}: {}",
            step_label(failure.step),
            failure.message
        ));
        self.log.line("stderr", &format!("✗ {error}")).await;
        if let Ok(docker) = state.docker.client().await {
            if let Some(container) = self.container.take() {
                if let Err(e) = engine::remove_container(&docker, &container).await {
                    tracing::warn!(error = %engine::message(&e), "removing a failed release's container");
                }
            }
            if let Some(image) = self.image.take() {
                if let Err(e) = engine::remove_image(&docker, &image).await {
                    tracing::warn!(error = %engine::message(&e), "removing a failed release's image");
                }
            }
        }
        let _ = db::clear_release_image(&state.db, self.r.id).await;
        if self.own_port {
            if let Err(e) = db::release_port_of(&state.db, self.r.id).await {
                tracing::warn!(error = %e, "freeing a failed release's port");
            }
        }
        if self.fenced {
            return;
        }
        let worker = state.deployer.worker_id;
        match db::complete_release(&state.db, self.r.id, worker, "failed", Some(&error)).await {
            Ok(true) => metrics::counter!("releases_total", "outcome" => "failed").increment(1),
            // Another process declared it interrupted and has recorded why.
            Ok(false) => return,
            Err(e) => {
                tracing::error!(error = %e, release = %self.r.id, "recording a failed release");
            }
        }
        let still_serving = self.d.current_release_id.is_some_and(|c| c != self.r.id);
        show_failure(state, self.d.id, still_serving, self.r.number, &error).await;
    }
}
