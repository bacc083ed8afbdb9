//! Deployment state changes, for `GET /api/v1/events`: whoever changes a deployment calls
//! [`changed`] (or [`deleted`]) and every process's viewers who may see it are told.

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{hub::Signal, sse::Frame};
use crate::{
    features::deployments::types::{Deployment, DeploymentDeleted, DeploymentEvent},
    server::{
        db::users::UserRow,
        deploy::service::{is_admin, view},
        AppState,
    },
};

const TOPIC: &str = "deployments";

/// What travels between processes: the event and whose deployment it is.
#[derive(Serialize, Deserialize)]
struct Envelope {
    owner: Uuid,
    #[serde(flatten)]
    change: Change,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Change {
    Updated(Box<DeploymentEvent>),
    Deleted(DeploymentDeleted),
}

/// Tells viewers the deployment's current state, read now (so a late or repeated call still
/// sends the truth).
pub async fn changed(state: &AppState, id: Uuid) {
    if let Ok(deployment) = view(state, id).await {
        announce(state, &deployment).await;
    } // gone: `deleted` tells that
}

/// Tells viewers about a deployment the caller has just read.
pub async fn announce(state: &AppState, deployment: &Deployment) {
    let Ok(owner) = Uuid::parse_str(&deployment.owner.id) else {
        return;
    };
    let deployment = deployment.clone();
    let event = DeploymentEvent {
        deployment_id: deployment.id.clone(),
        state: deployment.state,
        release_id: deployment.latest_release.as_ref().map(|r| r.id.clone()),
        port: deployment.port,
        error: deployment.error.clone(),
        deployment,
    };
    publish(state, owner, Change::Updated(Box::new(event))).await;
}

pub async fn deleted(state: &AppState, id: Uuid, owner: Uuid) {
    let change = Change::Deleted(DeploymentDeleted {
        deployment_id: id.to_string(),
    });
    publish(state, owner, change).await;
}

async fn publish(state: &AppState, owner: Uuid, change: Change) {
    // What Discord shows of the owner (running deployments) may have changed with it.
    crate::server::discord::roles::touch(state, owner);
    match serde_json::to_string(&Envelope { owner, change }) {
        Ok(payload) => state.live.publish(TOPIC, payload).await,
        Err(e) => tracing::warn!(error = %e, "encoding a deployment event"),
    }
}

/// Feeds one viewer until it goes away: `deployment` and `deleted` events for what it may
/// see, `resync` when events may have been missed (read the list again).
pub async fn follow(state: AppState, user: UserRow, out: mpsc::Sender<Frame>) {
    let mut subscription = state.live.subscribe(TOPIC);
    if out.send(Frame::event("ready", "{}")).await.is_err() {
        return;
    }
    let mut user = user;
    let mut admin = is_admin(&user);
    let mut recheck = tokio::time::interval(super::RECHECK_VIEWER);
    recheck.tick().await;
    loop {
        let signal = tokio::select! {
            signal = subscription.recv() => signal,
            _ = recheck.tick() => {
                match super::viewer_now(&state, &user).await {
                    Some(now) => {
                        admin = is_admin(&now);
                        user = now;
                        continue;
                    }
                    None => return, // disabled or deleted: the stream ends
                }
            }
            () = out.closed() => return,
            () = state.live.closed() => return,
        };
        let frame = match signal {
            None => return,
            Some(Signal::Resync) => Frame::event("resync", "{}"),
            Some(Signal::Message(payload)) => {
                let Ok(envelope) = serde_json::from_str::<Envelope>(&payload) else {
                    continue;
                };
                if !admin && envelope.owner != user.id {
                    continue;
                }
                match envelope.change {
                    Change::Updated(event) => Frame::event(
                        "deployment",
                        &serde_json::to_string(&event).unwrap_or_default(),
                    ),
                    Change::Deleted(gone) => {
                        Frame::event("deleted", &serde_json::to_string(&gone).unwrap_or_default())
                    }
                }
            }
        };
        if out.send(frame).await.is_err() {
            return;
        }
    }
}
