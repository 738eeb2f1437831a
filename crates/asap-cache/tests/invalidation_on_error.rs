//! Any failed load invalidates the URL (PROTOCOL §12.5) and reaches every waiter.

mod common;

use std::sync::Arc;
use std::time::Duration;

use asap_cache::{CacheConfig, FetchError, Fetched, FileStore, ManifestCache, PersistentStore};
use common::{ScriptedFetcher, modified, url};

#[tokio::test]
async fn failed_refresh_leaves_no_stale_entry() {
    let cache = ManifestCache::new(
        CacheConfig::builder()
            .ttl(Duration::from_millis(150))
            .build(),
    );
    let fetcher = ScriptedFetcher::new(|_, _, n| match n {
        0 => modified("first", Some("\"v1\"")),
        1 => Err(FetchError::status(500, "Internal Server Error")),
        _ => modified("third", Some("\"v3\"")),
    });
    let url = url(0);

    assert_eq!(cache.get(&url, &fetcher).await.unwrap().name, "first");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let err = cache.get(&url, &fetcher).await.unwrap_err();
    assert_eq!(err, FetchError::status(500, "Internal Server Error"));

    let third = cache.get(&url, &fetcher).await.unwrap();
    assert_eq!(third.name, "third");
    assert_eq!(
        fetcher.if_none_match(),
        [None, Some("\"v1\"".to_owned()), None],
        "after the failure the old ETag is forgotten too"
    );
    let stats = cache.stats();
    assert_eq!((stats.fetches, stats.fetch_errors), (3, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_waiter_gets_the_shared_error() {
    let cache = ManifestCache::default();
    let fetcher = Arc::new(
        ScriptedFetcher::new(|_, _, _| Err(FetchError::timeout(Duration::from_secs(10))))
            .with_delay(Duration::from_millis(50)),
    );
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (cache, fetcher) = (cache.clone(), Arc::clone(&fetcher));
            tokio::spawn(async move { cache.get(&url(0), &*fetcher).await })
        })
        .collect();
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert!(matches!(err, FetchError::Timeout { after } if after == Duration::from_secs(10)));
        assert_eq!(err.to_string(), "manifest request timeout after 10s");
    }
    assert_eq!(fetcher.calls(), 1);
    assert_eq!(cache.stats().fetch_errors, 1);

    // The failure was not cached: the next call fetches again.
    let _ = cache.get(&url(0), &*fetcher).await;
    assert_eq!(fetcher.calls(), 2);
}

#[tokio::test]
async fn unexpected_not_modified_is_an_error() {
    let cache = ManifestCache::default();
    let fetcher = ScriptedFetcher::new(|_, _, _| Ok(Fetched::NotModified));
    let err = cache.get(&url(0), &fetcher).await.unwrap_err();
    assert_eq!(err, FetchError::UnexpectedNotModified);
    assert_eq!(cache.stats().fetch_errors, 1);
}

#[tokio::test]
async fn failure_also_removes_the_persistent_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let cache = ManifestCache::new(
        CacheConfig::builder()
            .ttl(Duration::from_millis(100))
            .persistent(store.clone())
            .build(),
    );
    let fetcher = ScriptedFetcher::new(|_, _, n| match n {
        0 => modified("first", Some("\"v1\"")),
        _ => Err(FetchError::connection("refused")),
    });
    let url = url(0);

    cache.get(&url, &fetcher).await.unwrap();
    assert!(store.load(&url).await.is_some(), "written through");
    tokio::time::sleep(Duration::from_millis(150)).await;
    cache.get(&url, &fetcher).await.unwrap_err();
    assert!(
        store.load(&url).await.is_none(),
        "failure invalidates the store too"
    );
}

#[tokio::test]
async fn explicit_invalidate_forces_an_unconditional_fetch() {
    let cache = ManifestCache::default();
    let fetcher = ScriptedFetcher::new(|_, _, _| modified("X", Some("\"v1\"")));
    let url = url(0);
    cache.get(&url, &fetcher).await.unwrap();
    cache.invalidate(&url).await;
    cache.get(&url, &fetcher).await.unwrap();
    assert_eq!(fetcher.if_none_match(), [None, None]);

    cache.clear();
    cache.get(&url, &fetcher).await.unwrap();
    assert_eq!(fetcher.calls(), 3);
}
