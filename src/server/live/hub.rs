//! Fan-out between Slipway processes. Whoever produces something (a build log line, a
//! deployment's new state) publishes it on a Redis channel `<REDIS_KEY_PREFIX>live:<topic>`;
//! every process holds one pattern subscription and relays each message to its own viewers
//! through a bounded in-memory broadcast per topic. Memory never grows with a slow viewer: one
//! that falls [`CAPACITY`] messages behind is told it lagged and catches up from where the
//! topic is resumable (PostgreSQL for build logs, a fresh read for states).

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::{Arc, Mutex, Weak},
};

use fred::{
    clients::{Pool, SubscriberClient},
    interfaces::{ClientLike, EventInterface, PubsubInterface},
};
use tokio::sync::broadcast;

use crate::server::{config::Config, redis};

/// Messages a viewer may fall behind before it is told to catch up.
pub const CAPACITY: usize = 512;

#[derive(Debug, Clone)]
pub enum Signal {
    Message(Arc<str>),
    /// Messages may have been lost (Redis reconnected, or this process fell behind): read
    /// the current state again.
    Resync,
}

/// Messages waiting for Redis; beyond that they are dropped (viewers recover them).
const OUTBOX: usize = 4096;

pub struct Hub {
    /// Becomes true when the process stops: every live stream ends.
    closing: tokio::sync::watch::Sender<bool>,
    /// Publishing never makes a build or a request wait on Redis: messages go through here.
    outbox: tokio::sync::mpsc::Sender<(String, String)>,
    prefix: String,
    topics: Mutex<HashMap<String, broadcast::Sender<Signal>>>,
    subscriber: SubscriberClient,
}

impl Hub {
    pub async fn start(config: &Config, publisher: Pool) -> Result<Arc<Self>, fred::error::Error> {
        let subscriber = redis::subscriber(config)?;
        subscriber.init().await?;
        let prefix = format!("{}live:", config.redis_key_prefix);
        let (outbox, queued) = tokio::sync::mpsc::channel(OUTBOX);
        tokio::spawn(send_out(publisher, queued));
        let hub = Arc::new(Self {
            closing: tokio::sync::watch::Sender::new(false),
            outbox,
            prefix: prefix.clone(),
            topics: Mutex::new(HashMap::new()),
            subscriber: subscriber.clone(),
        });
        let messages = subscriber.message_rx();
        let reconnects = subscriber.reconnect_rx();
        tokio::spawn(relay(Arc::downgrade(&hub), messages, reconnects));
        subscriber.psubscribe(format!("{prefix}*")).await?;
        Ok(hub)
    }

    /// Sends `payload` to every viewer of `topic` in every process, without waiting for
    /// Redis. Best effort: what an outage loses, viewers recover (build logs from the
    /// database, states by a resync).
    pub async fn publish(&self, topic: &str, payload: String) {
        let channel = format!("{}{topic}", self.prefix);
        if self.outbox.try_send((channel, payload)).is_err() {
            tracing::warn!(
                topic,
                "live messages are piling up (Redis slow or away); dropping one"
            );
        }
    }

    pub fn subscribe(self: &Arc<Self>, topic: &str) -> Subscription {
        let mut topics = self.topics.lock().expect("topics lock");
        let sender = topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(CAPACITY).0);
        Subscription {
            rx: Some(sender.subscribe()),
            topic: topic.to_owned(),
            hub: self.clone(),
        }
    }

    /// Viewers connected to this process, all topics together.
    pub fn viewers(&self) -> usize {
        self.topics
            .lock()
            .expect("topics lock")
            .values()
            .map(broadcast::Sender::receiver_count)
            .sum()
    }

    fn deliver(&self, topic: &str, signal: Signal) {
        if let Some(sender) = self.topics.lock().expect("topics lock").get(topic) {
            let _ = sender.send(signal);
        }
    }

    fn resync_all(&self) {
        for sender in self.topics.lock().expect("topics lock").values() {
            let _ = sender.send(Signal::Resync);
        }
    }

    /// Ends every live stream of this process.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Hub::close`] was called.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closing| *closing).await;
    }

    pub async fn stop(&self) {
        let _ = self.subscriber.quit().await;
    }
}

/// Publishes queued messages in order, each topic on one connection (so a topic's messages
/// arrive in the order they were sent).
async fn send_out(publisher: Pool, mut queued: tokio::sync::mpsc::Receiver<(String, String)>) {
    while let Some((channel, payload)) = queued.recv().await {
        let clients = publisher.clients();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        channel.hash(&mut hasher);
        let client = &clients[(hasher.finish() as usize) % clients.len()];
        if let Err(e) = client.publish::<i64, _, _>(channel, payload).await {
            tracing::warn!(error = %e, "publishing a live message");
        }
    }
}

async fn relay(
    hub: Weak<Hub>,
    mut messages: broadcast::Receiver<fred::types::Message>,
    mut reconnects: broadcast::Receiver<fred::types::config::Server>,
) {
    loop {
        tokio::select! {
            message = messages.recv() => {
                let Some(hub) = hub.upgrade() else { return };
                match message {
                    Ok(message) => {
                        let Some(topic) = message.channel.strip_prefix(hub.prefix.as_str()) else {
                            continue;
                        };
                        let Some(payload) = message.value.as_str() else { continue };
                        hub.deliver(topic, Signal::Message(Arc::from(payload.as_ref())));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => hub.resync_all(),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
            reconnected = reconnects.recv() => {
                let Some(hub) = hub.upgrade() else { return };
                match reconnected {
                    // Subscribed again first: a resync before that could miss what follows.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Err(e) = hub.subscriber.resubscribe_all().await {
                            tracing::warn!(error = %e, "subscribing to live messages again");
                        }
                        hub.resync_all();
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}

/// A viewer's place in a topic; the topic's buffer goes with its last viewer.
pub struct Subscription {
    /// Always `Some` until dropped.
    rx: Option<broadcast::Receiver<Signal>>,
    topic: String,
    hub: Arc<Hub>,
}

impl Subscription {
    /// The next signal; a viewer that fell behind gets [`Signal::Resync`].
    pub async fn recv(&mut self) -> Option<Signal> {
        let rx = self.rx.as_mut()?;
        match rx.recv().await {
            Ok(signal) => Some(signal),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Signal::Resync),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut topics = self.hub.topics.lock().expect("topics lock");
        // Dropped under the lock, so the count seen next is exact.
        self.rx = None;
        if topics
            .get(&self.topic)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            topics.remove(&self.topic);
        }
    }
}
