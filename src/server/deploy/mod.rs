//! The deployment engine: Git repository → Docker image → container on an allocated port.
//!
//! [`Deployer`] is this process's worker. It claims queued releases from PostgreSQL (`FOR
//! UPDATE SKIP LOCKED`, so several Slipway processes can share one database), runs at most
//! `BUILD_CONCURRENCY` of them at a time through [`pipeline`], and holds an advisory lock for
//! as long as it lives so that [`reconcile`] in any process can tell its releases from those
//! of a process that died.

pub mod buildlog;
pub mod cloudflare;
pub mod engine;
pub mod git;
pub mod pipeline;
pub mod ports;
pub mod probe;
pub mod reconcile;
pub mod redact;
pub mod service;
pub mod tunnel;
pub mod ui;
pub mod validate;
pub mod webhooks;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use sqlx::{postgres::PgConnectOptions, Connection, PgConnection};
use tokio::{
    sync::{Notify, Semaphore},
    task::{AbortHandle, JoinHandle},
};
use uuid::Uuid;

use super::{db::deployments as db, AppState};

/// How often the queue is looked at when nothing woke the worker (another process may have
/// queued work).
const POLL: Duration = Duration::from_secs(2);
const HEARTBEAT: Duration = Duration::from_secs(15);

pub struct Deployer {
    pub worker_id: Uuid,
    lock_key: i64,
    wake: Notify,
    permits: Arc<Semaphore>,
    /// Pipelines running here: deployment → (release, task).
    running: Mutex<HashMap<Uuid, (Uuid, AbortHandle)>>,
    deleting: Mutex<HashSet<Uuid>>,
}

/// Held while a delete of one deployment runs here; another delete of it meanwhile returns at
/// once and leaves the work to this one.
pub struct DeleteGuard<'a> {
    deployer: &'a Deployer,
    id: Uuid,
}

impl Drop for DeleteGuard<'_> {
    fn drop(&mut self) {
        self.deployer
            .deleting
            .lock()
            .expect("deleting set")
            .remove(&self.id);
    }
}

impl Deployer {
    pub fn new(concurrency: usize) -> Self {
        let mut key = [0u8; 8];
        // A clash of two random 64-bit keys is not a practical concern; a failure of the
        // system's randomness falls back to the (unique) worker id's bits.
        let worker_id = Uuid::new_v4();
        if getrandom::fill(&mut key).is_err() {
            key.copy_from_slice(&worker_id.as_bytes()[..8]);
        }
        Self {
            worker_id,
            lock_key: i64::from_le_bytes(key),
            wake: Notify::new(),
            permits: Arc::new(Semaphore::new(concurrency)),
            running: Mutex::new(HashMap::new()),
            deleting: Mutex::new(HashSet::new()),
        }
    }

    /// Looks at the queue now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn deleting(&self, id: Uuid) -> Option<DeleteGuard<'_>> {
        self.deleting
            .lock()
            .expect("deleting set")
            .insert(id)
            .then_some(DeleteGuard { deployer: self, id })
    }

    /// Releases whose pipeline runs in this process.
    pub fn running_releases(&self) -> HashSet<Uuid> {
        self.running
            .lock()
            .expect("running map")
            .values()
            .map(|(release, _)| *release)
            .collect()
    }

    /// Stops the deployment's pipeline in this process, if one runs, and waits until it has
    /// let go (dropping the build request cancels the build in the engine).
    pub async fn cancel(&self, deployment: Uuid) {
        let entry = self
            .running
            .lock()
            .expect("running map")
            .remove(&deployment);
        if let Some((_, handle)) = entry {
            handle.abort();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while !handle.is_finished() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    fn abort_all(&self) {
        for (_, (_, handle)) in self.running.lock().expect("running map").drain() {
            handle.abort();
        }
    }
}

/// The worker's background tasks; [`Background::stop`] ends them on shutdown.
pub struct Background {
    tasks: Vec<JoinHandle<()>>,
}

pub fn start(state: AppState) -> Background {
    let (ready_tx, ready_rx) = tokio::sync::watch::channel(false);
    let lock = tokio::spawn(hold_worker_lock(state.clone(), ready_tx));
    let work = tokio::spawn(claim_loop(state.clone(), ready_rx.clone()));
    let reconciler = tokio::spawn({
        let mut ready = ready_rx;
        async move {
            if ready.wait_for(|r| *r).await.is_err() {
                return;
            }
            loop {
                if let Err(e) = reconcile::reconcile(&state).await {
                    tracing::warn!(error = %e, "reconciling deployments with Docker");
                }
                tokio::time::sleep(state.config.deploy.reconcile_interval).await;
            }
        }
    });
    Background {
        tasks: vec![lock, work, reconciler],
    }
}

impl Background {
    /// Stops claiming, abandons builds in flight and records them as interrupted, and
    /// deregisters the worker, so nothing waits for the reconciler of a later start.
    pub async fn stop(self, state: &AppState) {
        for task in &self.tasks {
            task.abort();
        }
        state.deployer.abort_all();
        let me = state.deployer.worker_id;
        if let Ok(active) = db::active_releases(&state.db).await {
            for release in active.into_iter().filter(|r| r.worker_id == Some(me)) {
                reconcile::interrupt(state, &release).await;
            }
        }
        let _ = db::remove_worker(&state.db, me).await;
    }
}

/// Registers the worker and holds its advisory lock on a connection of its own, reconnecting
/// if PostgreSQL goes away. `ready` turns true once the lock is held.
async fn hold_worker_lock(state: AppState, ready: tokio::sync::watch::Sender<bool>) {
    let deployer = &state.deployer;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let pid = i32::try_from(std::process::id()).unwrap_or(0);
    loop {
        let connected: Result<PgConnection, sqlx::Error> = async {
            let options: PgConnectOptions = state.config.database_url.expose().parse()?;
            let mut conn =
                PgConnection::connect_with(&options.application_name("slipway-worker")).await?;
            // Lock first: a registered worker is always a locked one, so no reconciler can
            // find its row with the lock free and take it for dead.
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(deployer.lock_key)
                .execute(&mut conn)
                .await?;
            db::register_worker(
                &mut conn,
                deployer.worker_id,
                deployer.lock_key,
                &hostname,
                pid,
            )
            .await?;
            Ok(conn)
        }
        .await;
        match connected {
            Ok(mut conn) => {
                let _ = ready.send(true);
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    match db::heartbeat(&mut conn, deployer.worker_id).await {
                        Ok(true) => {}
                        // Our row went (taken for dead during an outage): register again.
                        Ok(false) => {
                            if let Err(e) = db::register_worker(
                                &mut conn,
                                deployer.worker_id,
                                deployer.lock_key,
                                &hostname,
                                pid,
                            )
                            .await
                            {
                                tracing::warn!(error = %e, "re-registering the worker");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "worker heartbeat failed; reconnecting");
                            break;
                        }
                    }
                }
                // Without the lock, claiming would let others take this worker for dead.
                let _ = ready.send(false);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot register the build worker; retrying");
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        }
    }
}

async fn claim_loop(state: AppState, mut lock_held: tokio::sync::watch::Receiver<bool>) {
    let deployer = state.deployer.clone();
    loop {
        if lock_held.wait_for(|held| *held).await.is_err() {
            return;
        }
        let Ok(permit) = deployer.permits.clone().acquire_owned().await else {
            return;
        };
        match db::claim_next(&state.db, deployer.worker_id).await {
            Ok(Some(release)) => {
                let (deployment, release_id) = (release.deployment_id, release.id);
                let task_state = state.clone();
                let handle = tokio::spawn(async move {
                    pipeline::run(&task_state, release).await;
                    drop(permit);
                    let mut running = task_state.deployer.running.lock().expect("running map");
                    if running
                        .get(&deployment)
                        .is_some_and(|(r, _)| *r == release_id)
                    {
                        running.remove(&deployment);
                    }
                });
                deployer
                    .running
                    .lock()
                    .expect("running map")
                    .insert(deployment, (release_id, handle.abort_handle()));
                if handle.is_finished() {
                    deployer
                        .running
                        .lock()
                        .expect("running map")
                        .remove(&deployment);
                }
            }
            Ok(None) => {
                drop(permit);
                tokio::select! {
                    () = deployer.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
            Err(e) => {
                drop(permit);
                tracing::warn!(error = %e, "claiming a release");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}
