//! What a live stream sends, independent of the HTTP layer that frames it as Server-Sent
//! Events. Producers write into a small bounded channel: a viewer that reads slowly makes its
//! producer wait (and then lag and catch up), never buffer without bound.

use tokio::sync::mpsc;

/// Frames a viewer may have in flight.
const IN_FLIGHT: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The SSE `id:`, which a reconnecting client sends back as `Last-Event-ID`.
    pub id: Option<String>,
    /// The SSE `event:`; `None` is the default `message`.
    pub event: Option<&'static str>,
    pub data: String,
}

impl Frame {
    pub fn event(name: &'static str, data: &str) -> Self {
        Self {
            id: None,
            event: Some(name),
            data: data.to_owned(),
        }
    }

    pub fn message(id: String, data: String) -> Self {
        Self {
            id: Some(id),
            event: None,
            data,
        }
    }
}

pub fn channel() -> (mpsc::Sender<Frame>, mpsc::Receiver<Frame>) {
    mpsc::channel(IN_FLIGHT)
}
