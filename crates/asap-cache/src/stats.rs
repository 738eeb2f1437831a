//! Counters and their snapshot, [`CacheStats`].

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters shared by the cache and its eviction listener.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) warm_hits: AtomicU64,
    pub(crate) revalidations: AtomicU64,
    pub(crate) fetches: AtomicU64,
    pub(crate) fetch_errors: AtomicU64,
    pub(crate) evictions: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheStats {
            hits: load(&self.hits),
            misses: load(&self.misses),
            warm_hits: load(&self.warm_hits),
            revalidations: load(&self.revalidations),
            fetches: load(&self.fetches),
            fetch_errors: load(&self.fetch_errors),
            evictions: load(&self.evictions),
        }
    }
}

/// A point-in-time copy of a [`ManifestCache`](crate::ManifestCache)'s counters.
///
/// Counters are monotonic for the life of the cache ([`clear`](crate::ManifestCache::clear)
/// does not reset them) and read with relaxed ordering, so a snapshot taken while other
/// tasks call `get` may be off by the calls in flight.
///
/// | Counter | Incremented when |
/// |---|---|
/// | `hits` | a `get` is answered from memory without loading, including callers that waited on another caller's load (single-flight) and received its result |
/// | `misses` | a `get` had to load: once per load, however many callers waited on it |
/// | `warm_hits` | a load was answered by the [persistent store](crate::PersistentStore) without fetching (a subset of `misses`) |
/// | `revalidations` | a conditional fetch answered [`NotModified`](crate::Fetched::NotModified) (a subset of `misses`) |
/// | `fetches` | the [`ManifestFetcher`](crate::ManifestFetcher) was called |
/// | `fetch_errors` | a load failed (the fetcher's error, or an unexpected `NotModified`) |
/// | `evictions` | moka removed an entry because of the size bound or because it expired; explicit removals ([`invalidate`](crate::ManifestCache::invalidate), [`clear`](crate::ManifestCache::clear)) and replacements are not counted |
///
/// Evictions are reported by moka's maintenance, which runs lazily: the counter catches up
/// after later cache activity or [`run_pending_tasks`](crate::ManifestCache::run_pending_tasks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Calls answered from memory.
    pub hits: u64,
    /// Loads (from the persistent store or the fetcher).
    pub misses: u64,
    /// Loads answered by the persistent store without fetching.
    pub warm_hits: u64,
    /// Conditional fetches answered `304 Not Modified`.
    pub revalidations: u64,
    /// Calls to the fetcher.
    pub fetches: u64,
    /// Failed loads.
    pub fetch_errors: u64,
    /// Entries evicted by the size bound or expiry.
    pub evictions: u64,
}

impl CacheStats {
    /// `hits / (hits + misses)`, or `0.0` before any request.
    ///
    /// ```
    /// let stats = asap_cache::CacheStats::default();
    /// assert_eq!(stats.hit_rate(), 0.0);
    /// ```
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}
