//! Manifest cache for ASAP clients (PROTOCOL §12.5).
//!
//! [`ManifestCache`] keeps agent manifests keyed by their full URL, with a TTL (default
//! 300 s) and a size bound (default 1000 entries, "bounded, approximately LRU" through
//! moka's TinyLFU policy). On top of what the protocol requires it adds:
//!
//! - **single-flight loading:** N concurrent misses for one URL cause one fetch;
//! - **ETag revalidation:** an expired entry with an ETag is refreshed by a conditional
//!   request, and a `304 Not Modified` reuses the cached manifest;
//! - **a persistent second tier** ([`PersistentStore`], with [`FileStore`] and, behind the
//!   `redis` feature, `RedisStore`) so a restarted process starts warm and replicas share
//!   what they fetched;
//! - **counters** ([`CacheStats`]) and [`hit_rate`](ManifestCache::hit_rate).
//!
//! Any failed load invalidates the URL's entry, as §12.5 requires.
//!
//! The cache does not speak HTTP: the client implements [`ManifestFetcher`] and passes it
//! to [`ManifestCache::get`].
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use asap_cache::{
//!     BoxFuture, CacheConfig, FetchError, Fetched, FileStore, ManifestCache, ManifestFetcher,
//! };
//!
//! /// Serves one manifest with an ETag, and `304` to conditional requests.
//! struct Static(asap_model::Manifest);
//!
//! impl ManifestFetcher for Static {
//!     fn fetch<'a>(&'a self, _url: &'a str, if_none_match: Option<&'a str>)
//!         -> BoxFuture<'a, Result<Fetched, FetchError>>
//!     {
//!         Box::pin(async move {
//!             Ok(match if_none_match {
//!                 Some("\"v1\"") => Fetched::NotModified,
//!                 _ => Fetched::Modified { manifest: self.0.clone(), etag: Some("\"v1\"".into()) },
//!             })
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), FetchError> {
//! let dir = tempfile::tempdir().unwrap();
//! let config = CacheConfig::builder()
//!     .ttl(Duration::from_secs(60))
//!     .max_entries(500)
//!     .persistent(Arc::new(FileStore::new(dir.path())))
//!     .build();
//! let cache = ManifestCache::new(config);
//!
//! let fetcher = Static(serde_json::from_value(serde_json::json!({
//!     "id": "urn:asap:agent:x", "name": "X", "version": "1.0.0", "description": "d",
//!     "capabilities": {}, "endpoints": {"asap": "http://127.0.0.1:1/asap"}
//! })).unwrap());
//! let url = "http://127.0.0.1:1/.well-known/asap/manifest.json";
//!
//! let manifest = cache.get(url, &fetcher).await?;
//! assert_eq!(manifest.name, "X");
//! cache.get(url, &fetcher).await?; // served from memory
//! assert_eq!(cache.stats().fetches, 1);
//! assert_eq!(cache.hit_rate(), 0.5);
//!
//! // A new process (here: a new cache) on the same directory starts warm.
//! let restarted = ManifestCache::new(
//!     CacheConfig::builder().persistent(Arc::new(FileStore::new(dir.path()))).build(),
//! );
//! restarted.get(url, &fetcher).await?;
//! assert_eq!(restarted.stats().warm_hits, 1);
//! assert_eq!(restarted.stats().fetches, 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - **`redis`:** `RedisStore` (with `RedisStoreOptions`), the persistent tier in a Redis
//!   server. Every replica on the same server and key prefix shares its entries: a manifest
//!   fetched by one replica is served to the others' cold caches without fetching, and an
//!   invalidation by one removes it for all. Off by default.
//!
//! # Logging
//!
//! Events are emitted through `tracing` with target [`LOG_TARGET`]: `warn` for persistent
//! store problems (corrupt or unwritable files), `debug` for failed loads (the error itself
//! is returned to the caller).
#![deny(missing_docs)]

mod cache;
mod config;
mod entry;
mod error;
mod fetch;
mod stats;
mod store;

pub use cache::ManifestCache;
pub use config::{
    CacheConfig, CacheConfigBuilder, DEFAULT_MAX_ENTRIES, DEFAULT_REVALIDATION_WINDOW, DEFAULT_TTL,
};
pub use error::{FetchError, FetchSource};
pub use fetch::{Fetched, ManifestFetcher};
pub use stats::CacheStats;
#[cfg(feature = "redis")]
pub use store::{
    DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisOpenError, RedisStore, RedisStoreOptions,
};
pub use store::{FileStore, PersistentStore, StoredEntry};

/// Boxed, `Send` future returned by [`ManifestFetcher`] and [`PersistentStore`] methods
/// (re-exported from `futures-util` so implementors need no extra dependency).
pub use futures_util::future::BoxFuture;

/// `tracing` target of every event this crate emits.
pub const LOG_TARGET: &str = "asap_cache";
