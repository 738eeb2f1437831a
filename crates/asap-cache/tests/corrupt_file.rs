//! Unreadable stored entries are treated as absent.

mod common;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use asap_cache::{CacheConfig, FileStore, ManifestCache, PersistentStore};
use common::{ScriptedFetcher, url};
use serde_json::json;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn garbage_file_is_ignored_and_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let url = url(0);
    std::fs::write(store.path_for(&url), b"{ not json").unwrap();
    assert!(store.load(&url).await.is_none());

    let cache = ManifestCache::new(CacheConfig::builder().persistent(store.clone()).build());
    let fetcher = ScriptedFetcher::always("fetched");
    assert_eq!(cache.get(&url, &fetcher).await.unwrap().name, "fetched");
    assert_eq!(fetcher.calls(), 1);

    let repaired = store.load(&url).await.expect("overwritten by the fetch");
    assert_eq!(repaired.manifest["name"], "fetched");
}

#[tokio::test]
async fn file_of_another_url_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path());
    let record = json!({
        "url": "http://someone-else.test/manifest.json",
        "manifest": {"name": "other"},
        "etag": null,
        "fetched_at": now_secs(),
    });
    std::fs::write(store.path_for(&url(0)), record.to_string()).unwrap();
    assert!(store.load(&url(0)).await.is_none());
}

#[tokio::test]
async fn stored_invalid_manifest_is_ignored_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let url = url(0);
    let record = json!({
        "url": url,
        "manifest": {"name": "missing every other field"},
        "etag": null,
        "fetched_at": now_secs(),
    });
    std::fs::write(store.path_for(&url), record.to_string()).unwrap();
    assert!(store.load(&url).await.is_some(), "well-formed record");

    // A fetcher that fails, so the store is not rewritten afterwards.
    let cache = ManifestCache::new(CacheConfig::builder().persistent(store.clone()).build());
    let fetcher = ScriptedFetcher::new(|_, _, _| Err(asap_cache::FetchError::new("offline")));
    cache.get(&url, &fetcher).await.unwrap_err();
    assert_eq!(fetcher.calls(), 1, "invalid stored manifest is not served");
    assert_eq!(cache.stats().warm_hits, 0);
    assert!(!store.path_for(&url).exists());
}
