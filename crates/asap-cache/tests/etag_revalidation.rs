//! Expired entries with an ETag are revalidated with `If-None-Match`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use asap_cache::{CacheConfig, Fetched, ManifestCache};
use common::{ScriptedFetcher, modified, url};

fn revalidating_fetcher() -> ScriptedFetcher {
    ScriptedFetcher::new(|_, inm, _| match inm {
        Some("\"v1\"") => Ok(Fetched::NotModified),
        _ => modified("X", Some("\"v1\"")),
    })
}

#[tokio::test]
async fn not_modified_reuses_the_cached_manifest() {
    let cache = ManifestCache::new(
        CacheConfig::builder()
            .ttl(Duration::from_millis(150))
            .build(),
    );
    let fetcher = revalidating_fetcher();
    let url = url(0);

    let first = cache.get(&url, &fetcher).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let revalidated = cache.get(&url, &fetcher).await.unwrap();

    assert!(Arc::ptr_eq(&first, &revalidated), "same manifest after 304");
    assert_eq!(fetcher.if_none_match(), [None, Some("\"v1\"".to_owned())]);
    assert_eq!(cache.stats().revalidations, 1);

    // The revalidation restarted the TTL: the next call is a hit.
    cache.get(&url, &fetcher).await.unwrap();
    assert_eq!(fetcher.calls(), 2);
    assert_eq!(cache.stats().hits, 1);
}

#[tokio::test]
async fn modified_response_replaces_the_entry() {
    let cache = ManifestCache::new(
        CacheConfig::builder()
            .ttl(Duration::from_millis(150))
            .build(),
    );
    let fetcher = ScriptedFetcher::new(|_, _, n| match n {
        0 => modified("old", Some("\"v1\"")),
        _ => modified("new", Some("\"v2\"")),
    });
    let url = url(0);
    cache.get(&url, &fetcher).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cache.get(&url, &fetcher).await.unwrap().name, "new");
    assert_eq!(cache.stats().revalidations, 0);
}

#[tokio::test]
async fn zero_window_disables_revalidation() {
    let cache = ManifestCache::new(
        CacheConfig::builder()
            .ttl(Duration::from_millis(100))
            .revalidation_window(Duration::ZERO)
            .build(),
    );
    let fetcher = revalidating_fetcher();
    let url = url(0);
    cache.get(&url, &fetcher).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    cache.get(&url, &fetcher).await.unwrap();
    assert_eq!(fetcher.if_none_match(), [None, None]);
}
