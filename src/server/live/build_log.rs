//! A release's build log as a live stream: the stored lines after the viewer's position,
//! then each line as it is written, then `end` once the release is done. Lines carry their
//! `seq` as the event id, so a reconnect with `Last-Event-ID` resumes exactly after the last
//! line seen: PostgreSQL holds every line, and the live messages only bring them sooner. Any
//! gap (a lost message, a lagging viewer) is filled from the database.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    hub::{Hub, Signal},
    sse::Frame,
    Viewer,
};
use crate::{
    features::deployments::types::LogLine,
    server::{db::deployments as db, AppState},
};

/// Stored lines read per query while catching up.
const BATCH: i64 = 1000;
/// How often a quiet stream looks at the database anyway (the end message may be lost).
const RECHECK: Duration = Duration::from_secs(5);

pub fn topic(release: Uuid) -> String {
    format!("log:{release}")
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Message {
    Lines { lines: Vec<LogLine> },
    End,
}

/// Called by the build log once `lines` are stored.
pub async fn published(hub: &Hub, release: Uuid, lines: Vec<LogLine>) {
    if let Ok(payload) = serde_json::to_string(&Message::Lines { lines }) {
        hub.publish(&topic(release), payload).await;
    }
}

/// Called once the release left the pipeline (live, failed or interrupted).
pub async fn ended(hub: &Hub, release: Uuid) {
    if let Ok(payload) = serde_json::to_string(&Message::End) {
        hub.publish(&topic(release), payload).await;
    }
}

/// Feeds one viewer from line `after` on until the release is done or the viewer goes.
pub async fn follow(
    state: AppState,
    viewer: Viewer,
    release: Uuid,
    after: i32,
    out: mpsc::Sender<Frame>,
) {
    // Subscribed before reading the database: a line written in between arrives both ways
    // and is sent once.
    let mut subscription = state.live.subscribe(&topic(release));
    let mut last = after;
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut recheck_viewer = tokio::time::interval(super::RECHECK_VIEWER);
    recheck_viewer.tick().await;
    loop {
        let signal = tokio::select! {
            signal = subscription.recv() => signal,
            _ = recheck.tick() => Some(Signal::Resync),
            _ = recheck_viewer.tick() => {
                if !viewer.may_still_see(&state).await {
                    return;
                }
                continue;
            }
            () = out.closed() => return,
            () = state.live.closed() => return,
        };
        let lines = match signal {
            None => return,
            Some(Signal::Resync) => {
                let finished = finished(&state, release).await;
                match catch_up(&state, release, &mut last, &out).await {
                    CatchUp::ViewerGone => return,
                    CatchUp::Done if finished => {
                        let _ = out.send(Frame::event("end", "{}")).await;
                        return;
                    }
                    // Unread lines may remain: `end` waits for a database that answers.
                    CatchUp::Done | CatchUp::DatabaseAway => continue,
                }
            }
            Some(Signal::Message(payload)) => match serde_json::from_str(&payload) {
                Ok(Message::Lines { lines }) => lines,
                Ok(Message::End) => match catch_up(&state, release, &mut last, &out).await {
                    CatchUp::Done => {
                        let _ = out.send(Frame::event("end", "{}")).await;
                        return;
                    }
                    CatchUp::ViewerGone => return,
                    CatchUp::DatabaseAway => continue, // the recheck ends it later
                },
                Err(_) => continue,
            },
        };
        for line in lines {
            if line.seq <= last {
                continue; // already sent from the database
            }
            if line.seq > last + 1
                && catch_up(&state, release, &mut last, &out).await == CatchUp::ViewerGone
            {
                return;
            }
            if line.seq == last + 1 {
                last = line.seq;
                if send(&out, &line).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn finished(state: &AppState, release: Uuid) -> bool {
    db::log_ended(&state.db, release).await.unwrap_or(false)
}

#[derive(PartialEq, Eq)]
enum CatchUp {
    Done,
    DatabaseAway,
    ViewerGone,
}

/// Sends the stored lines after `last`.
async fn catch_up(
    state: &AppState,
    release: Uuid,
    last: &mut i32,
    out: &mpsc::Sender<Frame>,
) -> CatchUp {
    loop {
        let Ok(rows) = db::log(&state.db, release, *last, BATCH).await else {
            return CatchUp::DatabaseAway; // the next recheck tries again
        };
        let count = rows.len();
        for row in rows {
            *last = row.seq;
            let line = LogLine {
                seq: row.seq,
                ts: row.ts.to_rfc3339(),
                stream: row.stream,
                line: row.line,
            };
            if send(out, &line).await.is_err() {
                return CatchUp::ViewerGone;
            }
        }
        if (count as i64) < BATCH {
            return CatchUp::Done;
        }
    }
}

async fn send(out: &mpsc::Sender<Frame>, line: &LogLine) -> Result<(), ()> {
    let data = serde_json::to_string(line).map_err(|_| ())?;
    out.send(Frame::message(line.seq.to_string(), data))
        .await
        .map_err(|_| ())
}
