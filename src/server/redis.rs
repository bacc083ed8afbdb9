//! Redis through fred: one pool shared by sessions, rate limits and log fan-out.

use std::time::Duration;

use fred::{
    clients::{Pool, SubscriberClient},
    interfaces::ClientLike,
    types::config::{Config as RedisConfig, ReconnectPolicy},
};

use super::config::Config;

pub async fn connect(config: &Config) -> Result<Pool, fred::error::Error> {
    let pool = builder(config)?.build_pool(4)?;
    pool.init().await?;
    Ok(pool)
}

/// The connection live updates arrive on (see `live::hub`); `init` it before use.
pub fn subscriber(config: &Config) -> Result<SubscriberClient, fred::error::Error> {
    builder(config)?.build_subscriber_client()
}

fn builder(config: &Config) -> Result<fred::types::Builder, fred::error::Error> {
    let mut redis_config = RedisConfig::from_url(config.redis_url.expose())?;
    // Refuse to start when Redis is unreachable instead of queueing forever; once running,
    // the reconnect policy below brings the pool back after an outage.
    redis_config.fail_fast = true;
    let mut builder = fred::types::Builder::from_config(redis_config);
    builder
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(2);
            c.internal_command_timeout = Duration::from_secs(2);
        })
        .with_performance_config(|p| {
            // A command waiting on a lost connection fails instead of hanging a request.
            p.default_command_timeout = Duration::from_secs(3);
            // Live messages arrive in bursts (a build's output): room before anyone lags.
            p.broadcast_channel_capacity = 4096;
        })
        // Retry for ever, every 250 ms up to a second apart, so recovery needs no restart.
        .set_policy(ReconnectPolicy::new_linear(0, 1_000, 250));
    Ok(builder)
}
