//! The persistent second tier: [`PersistentStore`], [`StoredEntry`], [`FileStore`] and
//! (feature `redis`) `RedisStore`.

mod file;
#[cfg(feature = "redis")]
mod redis;

pub use file::FileStore;
#[cfg(feature = "redis")]
pub use redis::{
    DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisOpenError, RedisStore, RedisStoreOptions,
};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// A manifest as kept by a [`PersistentStore`].
///
/// # Examples
///
/// ```
/// use asap_cache::StoredEntry;
/// use serde_json::json;
///
/// let entry = StoredEntry::new(json!({"name": "X"}), Some("\"v1\"".into()), 1_700_000_000);
/// assert_eq!(entry.fetched_at, 1_700_000_000);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredEntry {
    /// The manifest as JSON (what `serde_json::to_value(&manifest)` produces).
    pub manifest: serde_json::Value,
    /// The ETag the manifest was served with, if any.
    #[serde(default)]
    pub etag: Option<String>,
    /// When it was fetched (or last revalidated), in Unix seconds.
    pub fetched_at: u64,
}

impl StoredEntry {
    /// A stored entry.
    pub fn new(manifest: serde_json::Value, etag: Option<String>, fetched_at: u64) -> Self {
        Self {
            manifest,
            etag,
            fetched_at,
        }
    }

    /// [`fetched_at`](Self::fetched_at) as a [`SystemTime`].
    pub fn fetched_at_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.fetched_at)
    }
}

/// Unix seconds of `time` (0 before the epoch).
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A persistent second tier behind [`ManifestCache`](crate::ManifestCache), so a
/// restarted process starts warm.
///
/// # How the cache uses it
///
/// - **On a miss** (no entry in memory, and no expired entry with an ETag in memory) the
///   cache calls [`load`](Self::load). An entry younger than the TTL is served without
///   fetching (counted in [`CacheStats::warm_hits`](crate::CacheStats::warm_hits)); an older
///   one with an ETag, within the revalidation window, is revalidated with `If-None-Match`;
///   anything else is ignored. An entry whose manifest no longer parses is
///   [`remove`](Self::remove)d.
/// - **After every successful load** from the fetcher (new body or `304`) the entry is
///   written through with [`store`](Self::store).
/// - **On a failed fetch** and on [`ManifestCache::invalidate`](crate::ManifestCache::invalidate)
///   the URL is [`remove`](Self::remove)d.
///
/// # Contract for implementors
///
/// The tier is best effort: operations cannot fail from the cache's point of view.
/// Implementations log their own errors (`tracing`) and answer `None` for anything they
/// cannot read: absent, corrupt, or stored under a different URL. Calls for one URL are not
/// serialised by the cache beyond its single-flight loading, so `store` should be atomic
/// (a reader sees the old or the new entry, never a mix). The trait is object safe and is
/// used as `Arc<dyn PersistentStore>`; Redis or SQLite backends implement it the same way
/// as [`FileStore`].
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use asap_cache::{BoxFuture, PersistentStore, StoredEntry};
///
/// /// A store that lives as long as the process (for tests).
/// #[derive(Default)]
/// struct MemoryStore(Mutex<HashMap<String, StoredEntry>>);
///
/// impl PersistentStore for MemoryStore {
///     fn load<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Option<StoredEntry>> {
///         let found = self.0.lock().unwrap().get(url).cloned();
///         Box::pin(async move { found })
///     }
///     fn store<'a>(&'a self, url: &'a str, entry: &'a StoredEntry) -> BoxFuture<'a, ()> {
///         self.0.lock().unwrap().insert(url.to_owned(), entry.clone());
///         Box::pin(async {})
///     }
///     fn remove<'a>(&'a self, url: &'a str) -> BoxFuture<'a, ()> {
///         self.0.lock().unwrap().remove(url);
///         Box::pin(async {})
///     }
/// }
/// ```
pub trait PersistentStore: Send + Sync {
    /// The entry stored for `url`, or `None` (absent or unreadable).
    fn load<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Option<StoredEntry>>;

    /// Stores `entry` for `url`, replacing any previous one.
    fn store<'a>(&'a self, url: &'a str, entry: &'a StoredEntry) -> BoxFuture<'a, ()>;

    /// Forgets `url`; a no-op when nothing is stored.
    fn remove<'a>(&'a self, url: &'a str) -> BoxFuture<'a, ()>;
}
