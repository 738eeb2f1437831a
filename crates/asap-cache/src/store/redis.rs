//! [`RedisStore`] (feature `redis`): one Redis string per URL, shared by every process that
//! uses the same server and key prefix.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{PersistentStore, StoredEntry};
use crate::LOG_TARGET;

/// Default prefix of every key a [`RedisStore`] writes.
pub const DEFAULT_REDIS_PREFIX: &str = "asap:manifest:";

/// Default time allowed for connecting to Redis and for each command's answer: 2 s.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// How to open a [`RedisStore`]; every setting not given keeps its documented default.
///
/// ```
/// use std::time::Duration;
/// use asap_cache::RedisStoreOptions;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = RedisStoreOptions::new("redis://127.0.0.1:6379/")
///     .prefix("prod:manifest:")
///     .timeout(Duration::from_millis(500))
///     .expire_after(Duration::from_secs(2 * 3600))
///     .open()
///     .expect("valid URL, inside a Tokio runtime");
/// assert_eq!(store.key_for("https://a.example/m.json"), "prod:manifest:https://a.example/m.json");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisStoreOptions {
    url: String,
    prefix: String,
    timeout: Duration,
    expire_after: Option<Duration>,
}

impl RedisStoreOptions {
    /// The server at `url` (`redis://HOST:PORT/DB`, `rediss://…`, `redis+unix://…`), prefix
    /// [`DEFAULT_REDIS_PREFIX`], timeout [`DEFAULT_REDIS_TIMEOUT`], no Redis expiry.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            expire_after: None,
        }
    }

    /// Prefix of every key (default [`DEFAULT_REDIS_PREFIX`]); isolates deployments sharing
    /// one server. Caches see each other's entries only under the same prefix.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Time allowed for connecting and for each command's answer (default
    /// [`DEFAULT_REDIS_TIMEOUT`]); past it the call is given up and treated as a miss.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Lets Redis drop each entry this long after it was written (default: never; entries
    /// stay until replaced or removed, as with [`FileStore`](crate::FileStore)).
    ///
    /// The cache judges an entry's age from its fetch time, whatever the store keeps: it
    /// serves entries younger than its TTL and revalidates those with an ETag within the
    /// revalidation window after that. Set this to at least `ttl + revalidation_window` of
    /// every cache using the store, or entries vanish while still useful. Rounded up to
    /// whole milliseconds.
    #[must_use]
    pub fn expire_after(mut self, expire_after: Duration) -> Self {
        self.expire_after = Some(expire_after);
        self
    }

    /// Opens the store (see [`RedisStore::open_with`]).
    pub fn open(self) -> Result<RedisStore, RedisOpenError> {
        RedisStore::open_with(self)
    }
}

/// A [`PersistentStore`] keeping one Redis string per URL.
///
/// - **Key:** the prefix followed by the URL itself (Redis keys are binary safe, so there
///   are no collisions to guard against).
/// - **Value:** the [`StoredEntry`] as JSON, `{"manifest": …, "etag": …, "fetched_at": …}`,
///   written with one `SET`, so a reader sees the old or the new entry, never a mix.
/// - **Shared between replicas:** every process on the same server and prefix reads what
///   the others wrote, so a manifest fetched by one replica warms every other one (a cold
///   cache is answered from Redis, counted in
///   [`warm_hits`](crate::CacheStats::warm_hits)); an invalidation or failed fetch by one
///   replica removes the entry for all of them (their in-memory tiers keep their copies
///   until those expire).
/// - **Failures** (server down, timeout, a value that is not an entry, a key of another
///   type) are logged at `warn` level with target [`LOG_TARGET`] and treated as absent, or
///   as a skipped write; nothing panics and the cache falls back to fetching. The next
///   successful fetch overwrites a corrupt value.
///
/// The connection is a redis-rs `ConnectionManager`: made on the first command, remade in
/// the background after a failure, so the store opens while Redis is down. Cheap to clone
/// (clones share the connection).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use asap_cache::{CacheConfig, ManifestCache, RedisStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Opening does not connect: this works even with no server listening.
/// let store = RedisStore::open("redis://127.0.0.1:6379/").expect("valid URL");
/// let cache = ManifestCache::new(CacheConfig::builder().persistent(Arc::new(store)).build());
/// # drop(cache);
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    /// Redis expiry in milliseconds, if any.
    expire_ms: Option<u64>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("expire_ms", &self.expire_ms)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// The server at `url` with the default options.
    pub fn open(url: &str) -> Result<Self, RedisOpenError> {
        Self::open_with(RedisStoreOptions::new(url))
    }

    /// Checks the URL and sets up the connection, without connecting (see the
    /// [type docs](Self)). Fails on a malformed URL, or when called outside a Tokio runtime
    /// (the connection manager runs a background task).
    pub fn open_with(options: RedisStoreOptions) -> Result<Self, RedisOpenError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RedisOpenError::new(
                "a RedisStore must be opened inside a Tokio runtime",
                None,
            ));
        }
        let client = redis::Client::open(options.url.as_str())
            .map_err(|e| RedisOpenError::new("invalid Redis URL", Some(e)))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| RedisOpenError::new("cannot set up the Redis connection", Some(e)))?;
        Ok(Self {
            conn,
            prefix: options.prefix,
            expire_ms: options.expire_after.map(millis),
        })
    }

    /// The Redis key that holds (or would hold) `url`'s entry.
    pub fn key_for(&self, url: &str) -> String {
        format!("{}{url}", self.prefix)
    }

    /// A connection handle for one command (a clone of the shared manager).
    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    async fn read(&self, url: &str) -> Option<StoredEntry> {
        let key = self.key_for(url);
        let value: Option<Vec<u8>> = match redis::cmd("GET")
            .arg(&key)
            .query_async(&mut self.conn())
            .await
        {
            Ok(value) => value,
            Err(err) => {
                tracing::warn!(target: LOG_TARGET, key, error = %err, "cannot read stored manifest from Redis; ignoring it");
                return None;
            }
        };
        match serde_json::from_slice::<StoredEntry>(&value?) {
            Ok(entry) => Some(entry),
            Err(err) => {
                tracing::warn!(target: LOG_TARGET, key, error = %err, "corrupt stored manifest in Redis; ignoring it");
                None
            }
        }
    }

    async fn write(&self, url: &str, entry: &StoredEntry) -> Result<(), String> {
        let value = serde_json::to_vec(entry).map_err(|e| e.to_string())?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key_for(url)).arg(value);
        if let Some(ms) = self.expire_ms {
            cmd.arg("PX").arg(ms);
        }
        cmd.query_async::<()>(&mut self.conn())
            .await
            .map_err(|e| e.to_string())
    }
}

impl PersistentStore for RedisStore {
    fn load<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Option<StoredEntry>> {
        Box::pin(self.read(url))
    }

    fn store<'a>(&'a self, url: &'a str, entry: &'a StoredEntry) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(err) = self.write(url, entry).await {
                tracing::warn!(target: LOG_TARGET, url, prefix = %self.prefix, error = %err, "cannot store manifest in Redis");
            }
        })
    }

    fn remove<'a>(&'a self, url: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let key = self.key_for(url);
            let outcome = redis::cmd("DEL")
                .arg(&key)
                .query_async::<()>(&mut self.conn())
                .await;
            if let Err(err) = outcome {
                tracing::warn!(target: LOG_TARGET, key, error = %err, "cannot remove stored manifest from Redis");
            }
        })
    }
}

/// Why a [`RedisStore`] could not be opened: a malformed URL, or no Tokio runtime.
#[derive(Debug)]
pub struct RedisOpenError {
    message: &'static str,
    source: Option<redis::RedisError>,
}

impl RedisOpenError {
    fn new(message: &'static str, source: Option<redis::RedisError>) -> Self {
        Self { message, source }
    }
}

impl fmt::Display for RedisOpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(self.message),
        }
    }
}

impl Error for RedisOpenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn Error + 'static))
    }
}

/// A duration in whole milliseconds, rounded up and at least 1 (`PX 0` is an error).
fn millis(d: Duration) -> u64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::{RedisStore, millis};
    use std::time::Duration;

    #[test]
    fn millis_rounds_up_and_is_never_zero() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 2);
        assert_eq!(millis(Duration::from_secs(2)), 2000);
    }

    #[test]
    fn open_outside_a_runtime_is_an_error_not_a_panic() {
        let err = RedisStore::open("redis://127.0.0.1:6379/").unwrap_err();
        assert!(err.to_string().contains("Tokio runtime"), "{err}");
    }

    #[tokio::test]
    async fn malformed_url_is_an_error_with_its_source() {
        let err = RedisStore::open("not a url").unwrap_err();
        assert!(err.to_string().starts_with("invalid Redis URL"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
