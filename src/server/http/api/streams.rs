//! Server-Sent Events: a deployment's logs and the state changes of every deployment the
//! caller can see. The streams themselves live in `server::live`; this frames them.

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::Caller;
use crate::{
    error::AppError,
    server::{
        live::{self, build_log, events, runtime_log, sse::Frame, LogSource, Viewer},
        AppState,
    },
};

/// Comments sent while nothing happens, so proxies keep the connection and clients notice a
/// dead one.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Counts a viewer in the `sse_viewers` gauge for as long as its stream lives.
struct Watching;

impl Watching {
    fn start() -> Self {
        metrics::gauge!("sse_viewers").increment(1.0);
        Self
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        metrics::gauge!("sse_viewers").decrement(1.0);
    }
}

fn stream_of(rx: mpsc::Receiver<Frame>) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((rx, Watching::start()), |(mut rx, watching)| async move {
        let frame = rx.recv().await?;
        let mut event = Event::default().data(frame.data);
        if let Some(id) = frame.id {
            event = event.id(id);
        }
        if let Some(name) = frame.event {
            event = event.event(name);
        }
        Some((Ok(event), (rx, watching)))
    })
}

fn respond(rx: mpsc::Receiver<Frame>) -> Response {
    let mut response = Sse::new(stream_of(rx))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // nginx (in front of Slipway) would otherwise buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

#[derive(Deserialize)]
pub struct LogsQuery {
    kind: Option<String>,
    release: Option<String>,
    /// For clients that cannot send `Last-Event-ID`.
    after: Option<String>,
    tail: Option<usize>,
}

/// `GET /api/v1/deployments/{id}/logs?kind=build|runtime[&release=][&tail=]`.
#[utoipa::path(
    get,
    path = "/deployments/{id}/logs",
    tag = "live",
    summary = "A deployment's build or runtime log, live (Server-Sent Events; resumes after Last-Event-ID)",
    params(("id" = String, Path, description = "The deployment's id"), ("kind" = Option<String>, Query, description = "`build` (default) or `runtime`"), ("release" = Option<String>, Query, description = "A release's id (build logs)"), ("after" = Option<String>, Query, description = "Resume after this event id"), ("tail" = Option<usize>, Query, description = "Runtime logs: start with this many last lines")),
    responses((status = 200, description = "An event stream: one event per line, `end` when a build log is complete", body = String, content_type = "text/event-stream"), (status = 404, description = "No such deployment or release of mine", body = crate::server::error::ErrorBody), (status = 422, description = "kind is invalid", body = crate::server::error::ErrorBody)),
)]
pub async fn logs(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(q.after);
    let source = live::open_logs(
        &state,
        &user,
        &id,
        q.kind.as_deref(),
        q.release.as_deref(),
        resume.as_deref(),
        q.tail,
    )
    .await?;
    let (tx, rx) = live::sse::channel();
    match source {
        LogSource::Build {
            deployment,
            release,
            after,
        } => {
            let viewer = Viewer { user, deployment };
            tokio::spawn(build_log::follow(state, viewer, release, after, tx));
        }
        LogSource::Runtime {
            deployment,
            release,
            start,
        } => {
            let viewer = Viewer {
                user,
                deployment: deployment.id,
            };
            tokio::spawn(runtime_log::follow(
                state,
                viewer,
                *deployment,
                *release,
                start,
                tx,
            ));
        }
    }
    Ok(respond(rx))
}

/// `GET /api/v1/events`.
#[utoipa::path(
    get,
    path = "/events",
    tag = "live",
    summary = "State changes of every deployment I may see (Server-Sent Events)",
    responses((status = 200, description = "An event stream: `deployment`, `deleted` and `resync` events", body = String, content_type = "text/event-stream")),
)]
pub async fn events(State(state): State<AppState>, Caller(user): Caller) -> Response {
    let (tx, rx) = live::sse::channel();
    tokio::spawn(events::follow(state, user, tx));
    let mut response = respond(rx);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
