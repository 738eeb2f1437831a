//! Entries are served for `ttl`, then dropped on read and fetched again.

mod common;

use std::sync::Arc;
use std::time::Duration;

use asap_cache::{CacheConfig, ManifestCache};
use common::{ScriptedFetcher, modified, url};

#[tokio::test]
async fn entry_is_served_until_ttl_then_fetched_again() {
    let cache = ManifestCache::new(
        CacheConfig::builder()
            .ttl(Duration::from_millis(200))
            .build(),
    );
    let fetcher = ScriptedFetcher::new(|_, _, n| modified(&format!("v{n}"), None));
    let url = url(0);

    let first = cache.get(&url, &fetcher).await.unwrap();
    let again = cache.get(&url, &fetcher).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again), "served from memory");
    assert_eq!(fetcher.calls(), 1);

    tokio::time::sleep(Duration::from_millis(300)).await;

    let refreshed = cache.get(&url, &fetcher).await.unwrap();
    assert_eq!(fetcher.calls(), 2, "expired entry is fetched again");
    assert_eq!(refreshed.name, "v1");
    assert_eq!(
        fetcher.if_none_match(),
        [None, None],
        "no ETag, no condition"
    );

    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.fetches), (1, 2, 2));
}

#[tokio::test]
async fn zero_ttl_disables_caching() {
    let cache = ManifestCache::new(CacheConfig::builder().ttl(Duration::ZERO).build());
    let fetcher = ScriptedFetcher::always("X");
    for _ in 0..3 {
        cache.get(&url(0), &fetcher).await.unwrap();
    }
    assert_eq!(fetcher.calls(), 3);
}

#[test]
fn defaults_match_the_protocol() {
    let config = CacheConfig::default();
    assert_eq!(config.ttl(), Duration::from_secs(300));
    assert_eq!(config.max_entries(), 1000);
    assert_eq!(config.revalidation_window(), Duration::from_secs(3600));
    assert!(config.persistent().is_none());
}
