//! The tower-sessions store: sessions in Redis under Slipway's key prefix, plus a set of
//! session ids per user, so a person can see and revoke their sessions and disabling an
//! account ends all of them at once.

use async_trait::async_trait;
use fred::{
    clients::Pool,
    interfaces::{KeysInterface, SetsInterface},
    types::{Expiration, ExpireOptions, SetOptions},
};
use tower_sessions::{
    session::{Id, Record},
    session_store::{Error, Result},
    SessionStore,
};
use uuid::Uuid;

/// Session data key holding the signed-in user's id (see `session.rs`).
pub const USER_ID: &str = "uid";

#[derive(Clone)]
pub struct RedisSessionStore {
    redis: Pool,
    prefix: String,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisSessionStore {
    pub fn new(redis: Pool, prefix: impl Into<String>) -> Self {
        Self {
            redis,
            prefix: prefix.into(),
        }
    }

    fn key(&self, id: &str) -> String {
        format!("{}session:{id}", self.prefix)
    }

    fn index(&self, user_id: &str) -> String {
        format!("{}user-sessions:{user_id}", self.prefix)
    }

    /// Writes the record; `false` when the NX/XX condition was not met.
    async fn write(&self, record: &Record, condition: SetOptions) -> Result<bool> {
        let body = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
        let expires = record.expiry_date.unix_timestamp();
        let id = record.id.to_string();
        let written: Option<String> = self
            .redis
            .set(
                self.key(&id),
                body,
                Some(Expiration::EXAT(expires)),
                Some(condition),
                false,
            )
            .await
            .map_err(backend)?;
        if written.is_none() {
            return Ok(false);
        }
        if let Some(user_id) = record.data.get(USER_ID).and_then(|v| v.as_str()) {
            let index = self.index(user_id);
            let _: i64 = self.redis.sadd(&index, id).await.map_err(backend)?;
            // The index lives as long as its longest-lived session: NX gives a new set an
            // expiry, GT only ever extends it.
            for option in [ExpireOptions::NX, ExpireOptions::GT] {
                let _: i64 = self
                    .redis
                    .expire_at(&index, expires, Some(option))
                    .await
                    .map_err(backend)?;
            }
        }
        Ok(true)
    }

    /// Sessions in the store now (for the `active_sessions` gauge): one SCAN over this
    /// installation's session keys, never a KEYS.
    pub async fn count(&self) -> Result<u64> {
        use futures_util::TryStreamExt;
        let prefix: String = self
            .prefix
            .chars()
            .flat_map(|c| {
                let escape = matches!(c, '*' | '?' | '[' | ']' | '\\');
                escape.then_some('\\').into_iter().chain(std::iter::once(c))
            })
            .collect();
        self.redis
            .next()
            .scan_buffered(format!("{prefix}session:*"), Some(1000), None)
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await
            .map_err(backend)
    }

    /// The live sessions of `user_id`; ids whose session has expired are dropped from the index.
    pub async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<Record>> {
        let user = user_id.to_string();
        let index = self.index(&user);
        let ids: Vec<String> = self.redis.smembers(&index).await.map_err(backend)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.key(id)).collect();
        let bodies: Vec<Option<String>> = self.redis.mget(keys).await.map_err(backend)?;
        let mut records = Vec::with_capacity(ids.len());
        let mut stale = Vec::new();
        for (id, body) in ids.into_iter().zip(bodies) {
            match body.and_then(|b| serde_json::from_str::<Record>(&b).ok()) {
                Some(record)
                    if record.data.get(USER_ID).and_then(|v| v.as_str()) == Some(user.as_str()) =>
                {
                    records.push(record)
                }
                _ => stale.push(id),
            }
        }
        if !stale.is_empty() {
            let _: i64 = self.redis.srem(&index, stale).await.map_err(backend)?;
        }
        Ok(records)
    }

    /// Deletes one session of `user_id`; `false` if it was not theirs or no longer exists.
    pub async fn revoke(&self, user_id: Uuid, id: &str) -> Result<bool> {
        let index = self.index(&user_id.to_string());
        let removed: i64 = self.redis.srem(&index, id).await.map_err(backend)?;
        let deleted: i64 = self.redis.del(self.key(id)).await.map_err(backend)?;
        Ok(removed > 0 && deleted > 0)
    }

    /// Deletes every session of `user_id` except `keep`; returns how many went.
    pub async fn revoke_all(&self, user_id: Uuid, keep: Option<&str>) -> Result<usize> {
        let index = self.index(&user_id.to_string());
        let ids: Vec<String> = self.redis.smembers(&index).await.map_err(backend)?;
        let doomed: Vec<String> = ids
            .into_iter()
            .filter(|id| Some(id.as_str()) != keep)
            .collect();
        if doomed.is_empty() {
            return Ok(0);
        }
        let keys: Vec<String> = doomed.iter().map(|id| self.key(id)).collect();
        let deleted: i64 = self.redis.del(keys).await.map_err(backend)?;
        let _: i64 = self.redis.srem(&index, doomed).await.map_err(backend)?;
        Ok(usize::try_from(deleted).unwrap_or(0))
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A fresh random id colliding is astronomically unlikely, but never overwrite one.
        while !self.write(record, SetOptions::NX).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        // XX: a session revoked while a request was in flight must stay revoked.
        self.write(record, SetOptions::XX).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let body: Option<String> = self
            .redis
            .get(self.key(&id.to_string()))
            .await
            .map_err(backend)?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        let key = self.key(&id.to_string());
        let body: Option<String> = self.redis.get(&key).await.map_err(backend)?;
        let _: i64 = self.redis.del(&key).await.map_err(backend)?;
        if let Some(user_id) = body
            .and_then(|b| serde_json::from_str::<Record>(&b).ok())
            .and_then(|r| {
                r.data
                    .get(USER_ID)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
        {
            let _: i64 = self
                .redis
                .srem(self.index(&user_id), id.to_string())
                .await
                .map_err(backend)?;
        }
        Ok(())
    }
}

fn backend(e: fred::error::Error) -> Error {
    Error::Backend(e.to_string())
}
