//! [`CacheConfig`] and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::PersistentStore;

/// Default freshness lifetime of an entry: 300 s (PROTOCOL §12.5).
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// Default bound on the number of cached manifests: 1000 (PROTOCOL §12.5).
pub const DEFAULT_MAX_ENTRIES: u64 = 1000;

/// Default time an expired entry with an ETag is kept for conditional revalidation: 3600 s.
pub const DEFAULT_REVALIDATION_WINDOW: Duration = Duration::from_secs(3600);

/// Configuration of a [`ManifestCache`](crate::ManifestCache).
///
/// | Setting | Default | Meaning |
/// |---|---|---|
/// | [`ttl`](CacheConfigBuilder::ttl) | [`DEFAULT_TTL`] (300 s) | how long a fetched manifest is served without asking the server again, measured from the fetch |
/// | [`max_entries`](CacheConfigBuilder::max_entries) | [`DEFAULT_MAX_ENTRIES`] (1000) | bound on cached manifests; `0` = unlimited |
/// | [`revalidation_window`](CacheConfigBuilder::revalidation_window) | [`DEFAULT_REVALIDATION_WINDOW`] (3600 s) | how long after expiry an entry with an ETag is kept for an `If-None-Match` request |
/// | [`persistent`](CacheConfigBuilder::persistent) | none | second tier consulted on a miss and written through on every load |
///
/// # Bound and eviction policy
///
/// The bound is enforced by moka, whose policy is TinyLFU admission in front of an LRU
/// eviction window: the cache is **bounded, approximately LRU**. When it is full, a new
/// entry either displaces the least recently used one or, if the admission filter judges
/// it rarer than that victim, is itself dropped right away (callers still get the manifest
/// they asked for). Enforcement is asynchronous, so the count may briefly exceed the bound
/// until moka's maintenance runs. Expired entries kept for revalidation live in a second
/// in-memory tier with the same bound and policy (they share the manifests, by `Arc`, with
/// the first tier).
///
/// Expired entries are never served: they are dropped on read (an expired entry with an
/// ETag only lends its ETag and manifest to a conditional request).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use asap_cache::CacheConfig;
///
/// let config = CacheConfig::builder()
///     .ttl(Duration::from_secs(60))
///     .max_entries(100)
///     .build();
/// assert_eq!(config.ttl(), Duration::from_secs(60));
/// assert_eq!(CacheConfig::default().max_entries(), 1000);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct CacheConfig {
    ttl: Duration,
    max_entries: u64,
    revalidation_window: Duration,
    persistent: Option<Arc<dyn PersistentStore>>,
}

impl CacheConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> CacheConfigBuilder {
        CacheConfigBuilder {
            config: Self::default(),
        }
    }

    /// Freshness lifetime of an entry.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Bound on cached manifests (`0` = unlimited).
    pub fn max_entries(&self) -> u64 {
        self.max_entries
    }

    /// How long after expiry an entry with an ETag stays available for revalidation.
    pub fn revalidation_window(&self) -> Duration {
        self.revalidation_window
    }

    /// The persistent second tier, if any.
    pub fn persistent(&self) -> Option<&Arc<dyn PersistentStore>> {
        self.persistent.as_ref()
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            ttl: DEFAULT_TTL,
            max_entries: DEFAULT_MAX_ENTRIES,
            revalidation_window: DEFAULT_REVALIDATION_WINDOW,
            persistent: None,
        }
    }
}

impl fmt::Debug for CacheConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheConfig")
            .field("ttl", &self.ttl)
            .field("max_entries", &self.max_entries)
            .field("revalidation_window", &self.revalidation_window)
            .field("persistent", &self.persistent.is_some())
            .finish()
    }
}

/// Builds a [`CacheConfig`]; every setting not given keeps its documented default.
#[derive(Debug, Clone)]
pub struct CacheConfigBuilder {
    config: CacheConfig,
}

impl CacheConfigBuilder {
    /// Freshness lifetime (default [`DEFAULT_TTL`], 300 s). `Duration::ZERO` disables
    /// caching: every `get` loads.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.config.ttl = ttl;
        self
    }

    /// Bound on cached manifests (default [`DEFAULT_MAX_ENTRIES`], 1000; `0` = unlimited).
    /// See [`CacheConfig`] for the eviction policy.
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.config.max_entries = max_entries;
        self
    }

    /// How long after expiry an entry with an ETag is kept for conditional revalidation
    /// (default [`DEFAULT_REVALIDATION_WINDOW`], 3600 s; `Duration::ZERO` disables
    /// revalidation). The same window applies to entries in the persistent store.
    pub fn revalidation_window(mut self, window: Duration) -> Self {
        self.config.revalidation_window = window;
        self
    }

    /// A persistent second tier (default: none), so a restarted process starts warm.
    pub fn persistent(mut self, store: Arc<dyn PersistentStore>) -> Self {
        self.config.persistent = Some(store);
        self
    }

    /// Finishes the configuration.
    pub fn build(self) -> CacheConfig {
        self.config
    }
}
