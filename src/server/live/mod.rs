//! Live data for the browser: build and runtime logs and deployment state changes, as
//! Server-Sent Events, fanned out between Slipway processes through Redis.

pub mod build_log;
pub mod events;
pub mod hub;
pub mod runtime_log;
pub mod sse;

pub use hub::Hub;

use std::time::Duration;

use chrono::DateTime;
use uuid::Uuid;

use crate::{
    error::AppError,
    server::{
        db::{
            deployments::{self as db, DeploymentRow, ReleaseRow},
            users::{self, UserRow},
        },
        deploy::service::load_for,
        error::internal,
        AppState,
    },
};

/// What `GET /api/v1/deployments/{id}/logs` streams, once the caller may see it.
pub enum LogSource {
    Build {
        deployment: Uuid,
        release: Uuid,
        after: i32,
    },
    Runtime {
        deployment: Box<DeploymentRow>,
        release: Box<ReleaseRow>,
        start: runtime_log::Start,
    },
}

/// Checks the caller may see the deployment and resolves the release: the one named, else the
/// newest for a build log and the live one for a runtime log. `resume` is the last event id
/// the viewer saw (`Last-Event-ID`, or `after`).
pub async fn open_logs(
    state: &AppState,
    user: &UserRow,
    deployment: &str,
    kind: Option<&str>,
    release: Option<&str>,
    resume: Option<&str>,
    tail: Option<usize>,
) -> Result<LogSource, AppError> {
    let d = load_for(state, user, deployment).await?;
    let releases = db::releases(&state.db, d.id)
        .await
        .map_err(|e| internal("list releases", e))?;
    let named = match release {
        None => None,
        Some(id) => {
            let id = Uuid::parse_str(id)
                .map_err(|_| AppError::field("release", "is not a release of this deployment"))?;
            Some(
                releases
                    .iter()
                    .find(|r| r.id == id)
                    .cloned()
                    .ok_or_else(|| {
                        AppError::field("release", "is not a release of this deployment")
                    })?,
            )
        }
    };
    match kind.unwrap_or("build") {
        "build" => {
            let release = named
                .or_else(|| releases.iter().max_by_key(|r| r.number).cloned())
                .ok_or(AppError::NotFound)?;
            let after = match resume {
                None => 0,
                Some(raw) => raw.trim().parse::<i32>().map_err(|_| {
                    AppError::field("after", "must be the number of a line (the last event id)")
                })?,
            };
            Ok(LogSource::Build {
                deployment: d.id,
                release: release.id,
                after,
            })
        }
        "runtime" => {
            let release = match named {
                Some(r) => r,
                None => d
                    .current_release_id
                    .and_then(|c| releases.iter().find(|r| r.id == c).cloned())
                    .ok_or_else(|| {
                        AppError::field("release", "no release of this deployment is live")
                    })?,
            };
            let after = match resume {
                None => None,
                Some(raw) => Some(DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| {
                    AppError::field(
                        "after",
                        "must be the timestamp of a line (the last event id)",
                    )
                })?),
            };
            Ok(LogSource::Runtime {
                deployment: Box::new(d),
                release: Box::new(release),
                start: runtime_log::Start {
                    after,
                    tail: tail.unwrap_or(runtime_log::DEFAULT_TAIL).min(10_000),
                },
            })
        }
        _ => Err(AppError::field("kind", "must be build or runtime")),
    }
}

/// How often a live stream makes sure its viewer may still see it: an account disabled (or
/// demoted from admin) loses its open streams within this.
pub const RECHECK_VIEWER: Duration = Duration::from_secs(30);

/// The viewer's account as it is now; `None` when it is gone or disabled. A database that
/// does not answer keeps the stream (the next check decides).
pub async fn viewer_now(state: &AppState, user: &UserRow) -> Option<UserRow> {
    match users::find_by_id(&state.db, user.id).await {
        Ok(Some(now)) if now.disabled_at.is_none() => Some(now),
        Ok(_) => None,
        Err(_) => Some(user.clone()),
    }
}

/// Who follows a deployment's logs.
pub struct Viewer {
    pub user: UserRow,
    pub deployment: Uuid,
}

impl Viewer {
    /// Whether the viewer may still see the deployment (its owner, or an admin).
    pub async fn may_still_see(&self, state: &AppState) -> bool {
        match viewer_now(state, &self.user).await {
            None => false,
            Some(now) => !matches!(
                load_for(state, &now, &self.deployment.to_string()).await,
                Err(AppError::NotFound)
            ),
        }
    }
}
