//! A container's output as a live stream, straight from Docker (`follow`, with timestamps):
//! the last `tail` lines, then each new one, then `end` when the container stops. Each line's
//! event id is Docker's timestamp; a reconnect with `Last-Event-ID` asks Docker for the lines
//! since that second and skips those already seen. Secrets are masked as in build logs.

use bollard::{container::LogOutput, query_parameters::LogsOptionsBuilder};
use chrono::{DateTime, FixedOffset};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::sse::Frame;
use crate::{
    features::deployments::types::RuntimeLine,
    server::{
        db::deployments::{self as db, DeploymentRow, ReleaseRow},
        deploy::{engine, pipeline, redact::Redactor},
        AppState,
    },
};

/// Lines sent from before the viewer connected, unless it asks for another number.
pub const DEFAULT_TAIL: usize = 500;

pub struct Start {
    /// The last line the viewer saw (`Last-Event-ID`): resume after it.
    pub after: Option<DateTime<FixedOffset>>,
    pub tail: usize,
}

pub async fn follow(
    state: AppState,
    viewer: super::Viewer,
    d: DeploymentRow,
    release: ReleaseRow,
    start: Start,
    out: mpsc::Sender<Frame>,
) {
    let Some(container) = release.container_id.clone() else {
        let _ = out
            .send(Frame::event(
                "end",
                r#"{"reason":"the release has no container"}"#,
            ))
            .await;
        return;
    };
    let docker = match state.docker.client().await {
        Ok(docker) => docker,
        Err(e) => {
            let reason = serde_json::json!({ "reason": format!("the Docker engine is not reachable: {}", engine::message(&e)) });
            let _ = out.send(Frame::event("end", &reason.to_string())).await;
            return;
        }
    };
    // The container may run with values the deployment no longer has (a change whose
    // release failed): those it was started with are masked too. Without them, no stream.
    let redactor = match secrets(&state, &d, &release).await {
        Ok(redactor) => redactor,
        Err(problem) => {
            let reason = serde_json::json!({ "reason": format!("the secrets to mask cannot be read: {problem}") });
            let _ = out.send(Frame::event("end", &reason.to_string())).await;
            return;
        }
    };
    let mut options = LogsOptionsBuilder::new()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .timestamps(true);
    options = match start.after {
        // Docker takes whole seconds: lines of that second already seen are skipped below.
        Some(after) => options.since(i32::try_from(after.timestamp()).unwrap_or(0)),
        None => options.tail(&start.tail.to_string()),
    };
    let mut logs = docker.logs(&container, Some(options.build()));
    let mut recheck_viewer = tokio::time::interval(super::RECHECK_VIEWER);
    recheck_viewer.tick().await;
    loop {
        let chunk = tokio::select! {
            chunk = logs.next() => chunk,
            _ = recheck_viewer.tick() => {
                if !viewer.may_still_see(&state).await {
                    return;
                }
                continue;
            }
            () = out.closed() => return,
            () = state.live.closed() => return,
        };
        let Some(Ok(chunk)) = chunk else {
            let _ = out
                .send(Frame::event("end", r#"{"reason":"the container stopped"}"#))
                .await;
            return;
        };
        let stream = match &chunk {
            LogOutput::StdErr { .. } => "stderr",
            _ => "stdout",
        };
        let text = String::from_utf8_lossy(&chunk.into_bytes()).into_owned();
        for raw in text.split_terminator('\n') {
            let (ts, line) = raw.split_once(' ').unwrap_or((raw, ""));
            let Ok(at) = DateTime::parse_from_rfc3339(ts) else {
                continue;
            };
            if start.after.is_some_and(|after| at <= after) {
                continue;
            }
            let line = RuntimeLine {
                ts: ts.to_owned(),
                stream: stream.to_owned(),
                line: redactor.redact(line.strip_suffix('\r').unwrap_or(line)),
            };
            let data = serde_json::to_string(&line).unwrap_or_default();
            if out.send(Frame::message(line.ts, data)).await.is_err() {
                return;
            }
        }
    }
}

async fn secrets(
    state: &AppState,
    d: &DeploymentRow,
    release: &ReleaseRow,
) -> Result<Redactor, String> {
    let stored = db::env(&state.db, d.id).await.map_err(|e| e.to_string())?;
    let (mut env, token) = pipeline::secrets(state, d, stored)?;
    env.extend(
        pipeline::snapshot_of(state, release.id)
            .await?
            .unwrap_or_default(),
    );
    Ok(pipeline::redactor(&env, token.as_deref()))
}
