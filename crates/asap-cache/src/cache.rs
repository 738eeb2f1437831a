//! [`ManifestCache`]: the two in-memory tiers, single-flight loading and revalidation.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use asap_model::Manifest;
use moka::future::Cache;

use crate::entry::{Entry, ExpireAfterFetch};
use crate::stats::Counters;
use crate::store::unix_seconds;
use crate::{
    CacheConfig, CacheStats, FetchError, Fetched, LOG_TARGET, ManifestFetcher, PersistentStore,
    StoredEntry,
};

/// A TTL-bounded, size-bounded cache of agent manifests keyed by full manifest URL
/// (PROTOCOL §12.5).
///
/// Cloning is cheap (one `Arc`); clones share entries and counters.
///
/// # Behaviour of [`get`](Self::get)
///
/// 1. **Hit:** an entry fetched less than [`ttl`](CacheConfig::ttl) ago is returned.
/// 2. **Miss or expired** (expired entries are never served): the URL is *loaded*, once,
///    however many callers ask concurrently (single-flight through moka's coalescing
///    `or_try_insert_with`); the others wait and share the result, success or error.
///    Loading tries, in order:
///    - an expired in-memory entry with an ETag (kept for
///      [`revalidation_window`](CacheConfig::revalidation_window) after expiry): fetch with
///      `If-None-Match`; `NotModified` refreshes that entry's fetch time;
///    - the [persistent store](crate::PersistentStore), if configured: an entry younger
///      than the TTL is used without fetching; an older one with an ETag is revalidated;
///    - an unconditional fetch.
///
///    A successful load is written through to the persistent store. (An entry the
///    revalidation tier still holds within its TTL, after the servable tier dropped it for
///    space, is reused without fetching.)
/// 3. **Failure:** every error (including a `NotModified` answer to an unconditional
///    request) invalidates the URL in every tier, memory and persistent, so the next `get`
///    starts from scratch, and is returned to every waiting caller.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use asap_cache::{BoxFuture, CacheConfig, FetchError, Fetched, ManifestCache, ManifestFetcher};
/// use asap_model::Manifest;
///
/// struct Fixed(Manifest);
///
/// impl ManifestFetcher for Fixed {
///     fn fetch<'a>(&'a self, _url: &'a str, _inm: Option<&'a str>)
///         -> BoxFuture<'a, Result<Fetched, FetchError>>
///     {
///         let manifest = self.0.clone();
///         Box::pin(async move { Ok(Fetched::Modified { manifest, etag: None }) })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), FetchError> {
/// let manifest: Manifest = serde_json::from_value(serde_json::json!({
///     "id": "urn:asap:agent:x", "name": "X", "version": "1.0.0", "description": "d",
///     "capabilities": {}, "endpoints": {"asap": "http://127.0.0.1:1/asap"}
/// })).unwrap();
/// let cache = ManifestCache::new(CacheConfig::default());
/// let fetcher = Fixed(manifest);
/// let url = "http://127.0.0.1:1/.well-known/asap/manifest.json";
///
/// let first = cache.get(url, &fetcher).await?; // miss: fetched
/// let second = cache.get(url, &fetcher).await?; // hit
/// assert!(Arc::ptr_eq(&first, &second));
/// assert_eq!(cache.stats().misses, 1);
/// assert_eq!(cache.hit_rate(), 0.5);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ManifestCache {
    inner: Arc<Inner>,
}

struct Inner {
    /// Entries within their TTL; the only tier that is ever served.
    fresh: Cache<String, Entry>,
    /// Entries with an ETag, kept until TTL + revalidation window for `If-None-Match`;
    /// bounded by `max_entries` like `fresh`.
    stale: Cache<String, Entry>,
    config: CacheConfig,
    counters: Arc<Counters>,
}

/// What the persistent store offers for a URL.
enum Stored {
    Fresh(Entry),
    Revalidate(Entry),
    Nothing,
}

impl ManifestCache {
    /// A cache configured by `config`.
    pub fn new(config: CacheConfig) -> Self {
        let counters = Arc::new(Counters::default());
        let listener_counters = Arc::clone(&counters);
        let mut fresh = Cache::builder()
            .name("asap-manifest-cache")
            .expire_after(ExpireAfterFetch(config.ttl()))
            .eviction_listener(move |_url, _entry, cause| {
                if cause.was_evicted() {
                    Counters::bump(&listener_counters.evictions);
                }
            });
        let mut stale = Cache::builder()
            .name("asap-manifest-cache-stale")
            .expire_after(ExpireAfterFetch(
                config.ttl().saturating_add(config.revalidation_window()),
            ));
        if config.max_entries() > 0 {
            fresh = fresh.max_capacity(config.max_entries());
            stale = stale.max_capacity(config.max_entries());
        }
        Self {
            inner: Arc::new(Inner {
                fresh: fresh.build(),
                stale: stale.build(),
                config,
                counters,
            }),
        }
    }

    /// The manifest at `url`: from memory when fresh, otherwise loaded through the
    /// persistent store and/or `fetcher` (see the [type docs](Self) for the algorithm).
    ///
    /// Concurrent calls for one URL cause at most one load; if the caller running it is
    /// cancelled, a waiting caller takes over.
    pub async fn get(
        &self,
        url: &str,
        fetcher: &dyn ManifestFetcher,
    ) -> Result<Arc<Manifest>, FetchError> {
        let inner = &*self.inner;
        match inner
            .fresh
            .entry_by_ref(url)
            .or_try_insert_with(inner.load(url, fetcher))
            .await
        {
            Ok(entry) => {
                if !entry.is_fresh() {
                    Counters::bump(&inner.counters.hits);
                }
                Ok(entry.into_value().manifest)
            }
            Err(shared) => Err(Arc::unwrap_or_clone(shared)),
        }
    }

    /// Forgets `url` in every tier, persistent store included: the next
    /// [`get`](Self::get) fetches unconditionally. Not counted as an eviction.
    pub async fn invalidate(&self, url: &str) {
        self.inner.forget(url).await;
    }

    /// Forgets every in-memory entry (not counted as evictions). The persistent store is
    /// left alone: its entries will warm the cache again.
    pub fn clear(&self) {
        self.inner.fresh.invalidate_all();
        self.inner.stale.invalidate_all();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CacheStats {
        self.inner.counters.snapshot()
    }

    /// `hits / (hits + misses)`, `0.0` before any request; see [`CacheStats::hit_rate`].
    pub fn hit_rate(&self) -> f64 {
        self.stats().hit_rate()
    }

    /// Approximate number of servable entries. moka updates it during maintenance; call
    /// [`run_pending_tasks`](Self::run_pending_tasks) first for an exact figure.
    pub fn entry_count(&self) -> u64 {
        self.inner.fresh.entry_count()
    }

    /// Runs moka's pending maintenance now: applies the size bound, removes expired
    /// entries and reports evictions to the counters. Normally this happens by itself.
    pub async fn run_pending_tasks(&self) {
        self.inner.fresh.run_pending_tasks().await;
        self.inner.stale.run_pending_tasks().await;
    }

    /// The configuration this cache was built with.
    pub fn config(&self) -> &CacheConfig {
        &self.inner.config
    }
}

impl Default for ManifestCache {
    /// `ManifestCache::new(CacheConfig::default())`.
    fn default() -> Self {
        Self::new(CacheConfig::default())
    }
}

impl fmt::Debug for ManifestCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestCache")
            .field("config", &self.inner.config)
            .field("entry_count", &self.inner.fresh.entry_count())
            .field("stats", &self.stats())
            .finish()
    }
}

impl Inner {
    /// One load (run by a single caller per URL at a time).
    async fn load(&self, url: &str, fetcher: &dyn ManifestFetcher) -> Result<Entry, FetchError> {
        Counters::bump(&self.counters.misses);
        let mut candidate = self.stale.get(url).await;
        if let Some(entry) = candidate.take_if(|c| c.age() < self.config.ttl()) {
            // Still fresh: the servable tier dropped it for space, the ETag tier kept it.
            return Ok(entry);
        }
        if candidate.is_none()
            && let Some(store) = self.config.persistent()
        {
            match self.load_stored(store.as_ref(), url).await {
                Stored::Fresh(entry) => {
                    Counters::bump(&self.counters.warm_hits);
                    if entry.etag.is_some() {
                        self.stale.insert(url.to_owned(), entry.clone()).await;
                    }
                    return Ok(entry);
                }
                Stored::Revalidate(entry) => candidate = Some(entry),
                Stored::Nothing => {}
            }
        }
        let if_none_match = candidate.as_ref().and_then(|c| c.etag.as_deref());
        Counters::bump(&self.counters.fetches);
        let entry = match fetcher.fetch(url, if_none_match).await {
            Ok(Fetched::Modified { manifest, etag }) => {
                Entry::new(Arc::new(manifest), etag.map(Arc::from), SystemTime::now())
            }
            Ok(Fetched::NotModified) => match candidate {
                Some(stale) if stale.etag.is_some() => {
                    Counters::bump(&self.counters.revalidations);
                    Entry::new(stale.manifest, stale.etag, SystemTime::now())
                }
                _ => return Err(self.fail(url, FetchError::UnexpectedNotModified).await),
            },
            Err(err) => return Err(self.fail(url, err).await),
        };
        self.remember(url, &entry).await;
        Ok(entry)
    }

    /// Records a freshly loaded entry in the stale tier and the persistent store.
    async fn remember(&self, url: &str, entry: &Entry) {
        if entry.etag.is_some() {
            self.stale.insert(url.to_owned(), entry.clone()).await;
        } else {
            self.stale.invalidate(url).await;
        }
        let Some(store) = self.config.persistent() else {
            return;
        };
        match serde_json::to_value(&*entry.manifest) {
            Ok(json) => {
                let stored = StoredEntry::new(
                    json,
                    entry.etag.as_deref().map(str::to_owned),
                    unix_seconds(entry.fetched_at),
                );
                store.store(url, &stored).await;
            }
            Err(err) => {
                tracing::warn!(target: LOG_TARGET, url, error = %err, "cannot serialize manifest for the persistent store");
            }
        }
    }

    /// Counts a failed load and invalidates `url` everywhere (§12.5).
    async fn fail(&self, url: &str, err: FetchError) -> FetchError {
        Counters::bump(&self.counters.fetch_errors);
        tracing::debug!(target: LOG_TARGET, url, error = %err, "manifest load failed; entry invalidated");
        self.forget(url).await;
        err
    }

    async fn forget(&self, url: &str) {
        self.fresh.invalidate(url).await;
        self.stale.invalidate(url).await;
        if let Some(store) = self.config.persistent() {
            store.remove(url).await;
        }
    }

    async fn load_stored(&self, store: &dyn PersistentStore, url: &str) -> Stored {
        let Some(stored) = store.load(url).await else {
            return Stored::Nothing;
        };
        let fetched_at = stored.fetched_at_time();
        let manifest = match serde_json::from_value::<Manifest>(stored.manifest) {
            Ok(manifest) => manifest,
            Err(err) => {
                tracing::warn!(target: LOG_TARGET, url, error = %err, "stored manifest is invalid; removing it");
                store.remove(url).await;
                return Stored::Nothing;
            }
        };
        let entry = Entry::new(Arc::new(manifest), stored.etag.map(Arc::from), fetched_at);
        let age = entry.age();
        let ttl = self.config.ttl();
        if age < ttl {
            Stored::Fresh(entry)
        } else if entry.etag.is_some()
            && age < ttl.saturating_add(self.config.revalidation_window())
        {
            Stored::Revalidate(entry)
        } else {
            Stored::Nothing
        }
    }
}
