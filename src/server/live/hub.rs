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

pub struct Hub {
    /// Becomes true when the process stops: every live stream ends.
    closing: tokio::sync::watch::Sender<bool>,
    publisher: Pool,
    prefix: String,
    topics: Mutex<HashMap<String, broadcast::Sender<Signal>>>,
    subscriber: SubscriberClient,
}

impl Hub {
    pub async fn start(config: &Config, publisher: Pool) -> Result<Arc<Self>, fred::error::Error> {
        let subscriber = redis::subscriber(config)?;
        subscriber.init().await?;
        // Detached: re-subscribes after every reconnect for as long as the client lives.
        drop(subscriber.manage_subscriptions());
        let prefix = format!("{}live:", config.redis_key_prefix);
        let hub = Arc::new(Self {
            closing: tokio::sync::watch::Sender::new(false),
            publisher,
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

    /// Sends `payload` to every viewer of `topic` in every process. Best effort: a message
    /// lost to a Redis outage is recovered by the viewers' resync.
    pub async fn publish(&self, topic: &str, payload: String) {
        let channel = format!("{}{topic}", self.prefix);
        // One connection per topic keeps a topic's messages in the order they were sent.
        let clients = self.publisher.clients();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        topic.hash(&mut hasher);
        let client = &clients[(hasher.finish() as usize) % clients.len()];
        if let Err(e) = client.publish::<i64, _, _>(channel, payload).await {
            tracing::warn!(error = %e, topic, "publishing a live message");
        }
    }

    pub fn subscribe(self: &Arc<Self>, topic: &str) -> Subscription {
        let mut topics = self.topics.lock().expect("topics lock");
        let sender = topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(CAPACITY).0);
        Subscription {
            rx: sender.subscribe(),
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
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => hub.resync_all(),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}

/// A viewer's place in a topic; the topic's buffer goes with its last viewer.
pub struct Subscription {
    rx: broadcast::Receiver<Signal>,
    topic: String,
    hub: Arc<Hub>,
}

impl Subscription {
    /// The next signal; a viewer that fell behind gets [`Signal::Resync`].
    pub async fn recv(&mut self) -> Option<Signal> {
        match self.rx.recv().await {
            Ok(signal) => Some(signal),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Signal::Resync),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut topics = self.hub.topics.lock().expect("topics lock");
        if topics
            .get(&self.topic)
            .is_some_and(|s| s.receiver_count() <= 1)
        {
            topics.remove(&self.topic);
        }
    }
}
