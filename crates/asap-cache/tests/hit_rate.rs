//! Hit rate on a steady workload.

mod common;

use asap_cache::ManifestCache;
use common::{ScriptedFetcher, url};

#[tokio::test]
async fn steady_workload_hits_almost_always() {
    let cache = ManifestCache::default();
    let fetcher = ScriptedFetcher::always("X");
    for i in 0..1000 {
        cache.get(&url(i % 5), &fetcher).await.unwrap();
    }
    assert_eq!(fetcher.calls(), 5);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (995, 5));
    assert!(cache.hit_rate() >= 0.99, "hit rate {}", cache.hit_rate());
}

#[test]
fn hit_rate_is_zero_without_requests() {
    assert_eq!(ManifestCache::default().hit_rate(), 0.0);
}
