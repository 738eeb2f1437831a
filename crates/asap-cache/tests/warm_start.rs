//! A new cache on the same `FileStore` directory starts warm.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use asap_cache::{CacheConfig, Fetched, FileStore, ManifestCache, PersistentStore, StoredEntry};
use common::{ScriptedFetcher, manifest, modified, url};

fn cache_on(dir: &std::path::Path, ttl: Duration) -> ManifestCache {
    ManifestCache::new(
        CacheConfig::builder()
            .ttl(ttl)
            .persistent(Arc::new(FileStore::new(dir)))
            .build(),
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn restarted_cache_serves_stored_manifest_without_fetching() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(0);

    let a = cache_on(dir.path(), Duration::from_secs(60));
    let fetcher_a = ScriptedFetcher::new(|_, _, _| modified("stored", Some("\"v1\"")));
    a.get(&url, &fetcher_a).await.unwrap();
    assert_eq!(fetcher_a.calls(), 1);

    let b = cache_on(dir.path(), Duration::from_secs(60));
    let fetcher_b = ScriptedFetcher::always("never");
    let warm = b.get(&url, &fetcher_b).await.unwrap();
    assert_eq!(*warm, manifest("stored"));
    assert_eq!(fetcher_b.calls(), 0);
    let stats = b.stats();
    assert_eq!((stats.misses, stats.warm_hits, stats.fetches), (1, 1, 0));

    // Now in memory: a plain hit.
    b.get(&url, &fetcher_b).await.unwrap();
    assert_eq!(b.stats().hits, 1);

    // Only the final file remains: temporary files were renamed away.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files, [FileStore::new(dir.path()).path_for(&url)]);
}

#[tokio::test]
async fn old_stored_entry_with_etag_is_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path());
    let url = url(0);
    let old = StoredEntry::new(
        serde_json::to_value(manifest("stored")).unwrap(),
        Some("\"v1\"".into()),
        now_secs() - 120,
    );
    store.store(&url, &old).await;

    let cache = cache_on(dir.path(), Duration::from_secs(60));
    let fetcher = ScriptedFetcher::new(|_, inm, _| match inm {
        Some("\"v1\"") => Ok(Fetched::NotModified),
        _ => modified("fresh", None),
    });
    let got = cache.get(&url, &fetcher).await.unwrap();

    assert_eq!(got.name, "stored");
    assert_eq!(fetcher.if_none_match(), [Some("\"v1\"".to_owned())]);
    assert_eq!(cache.stats().revalidations, 1);
    let rewritten = store.load(&url).await.unwrap();
    assert!(
        rewritten.fetched_at >= now_secs() - 1,
        "fetch time written through"
    );
}

#[tokio::test]
async fn old_stored_entry_without_etag_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path());
    let url = url(0);
    let old = StoredEntry::new(
        serde_json::to_value(manifest("stored")).unwrap(),
        None,
        now_secs() - 120,
    );
    store.store(&url, &old).await;

    let cache = cache_on(dir.path(), Duration::from_secs(60));
    let fetcher = ScriptedFetcher::always("fresh");
    assert_eq!(cache.get(&url, &fetcher).await.unwrap().name, "fresh");
    assert_eq!(fetcher.if_none_match(), [None]);
}

#[tokio::test]
async fn invalidate_removes_the_stored_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(0);
    let cache = cache_on(dir.path(), Duration::from_secs(60));
    let fetcher = ScriptedFetcher::always("X");
    cache.get(&url, &fetcher).await.unwrap();
    assert!(FileStore::new(dir.path()).path_for(&url).exists());

    cache.invalidate(&url).await;
    assert!(!FileStore::new(dir.path()).path_for(&url).exists());
}
