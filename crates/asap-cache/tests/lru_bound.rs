//! `max_entries` bounds the cache; size evictions are counted, explicit removals are not.

mod common;

use asap_cache::{CacheConfig, ManifestCache};
use common::{ScriptedFetcher, url};

#[tokio::test]
async fn cache_holds_at_most_max_entries() {
    let cache = ManifestCache::new(CacheConfig::builder().max_entries(10).build());
    let fetcher = ScriptedFetcher::always("X");
    for i in 0..100 {
        cache.get(&url(i), &fetcher).await.unwrap();
    }
    cache.run_pending_tasks().await;

    assert!(
        cache.entry_count() <= 10,
        "entry_count = {}",
        cache.entry_count()
    );
    let evictions = cache.stats().evictions;
    assert!(evictions >= 90, "evictions = {evictions}");
}

#[tokio::test]
async fn zero_means_unlimited() {
    let cache = ManifestCache::new(CacheConfig::builder().max_entries(0).build());
    let fetcher = ScriptedFetcher::always("X");
    for i in 0..100 {
        cache.get(&url(i), &fetcher).await.unwrap();
    }
    cache.run_pending_tasks().await;
    assert_eq!(cache.entry_count(), 100);
    assert_eq!(cache.stats().evictions, 0);
}

#[tokio::test]
async fn explicit_removal_is_not_an_eviction() {
    let cache = ManifestCache::default();
    let fetcher = ScriptedFetcher::always("X");
    for i in 0..5 {
        cache.get(&url(i), &fetcher).await.unwrap();
    }
    cache.invalidate(&url(0)).await;
    cache.clear();
    cache.run_pending_tasks().await;
    assert_eq!(cache.entry_count(), 0);
    assert_eq!(cache.stats().evictions, 0);
}
