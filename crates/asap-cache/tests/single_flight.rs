//! Concurrent misses for one URL cause exactly one fetch.

mod common;

use std::sync::Arc;
use std::time::Duration;

use asap_cache::ManifestCache;
use common::{ScriptedFetcher, url};

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn hundred_concurrent_gets_fetch_once() {
    let cache = ManifestCache::default();
    let fetcher = Arc::new(ScriptedFetcher::always("X").with_delay(Duration::from_millis(50)));

    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (cache, fetcher) = (cache.clone(), Arc::clone(&fetcher));
            tokio::spawn(async move { cache.get(&url(0), &*fetcher).await })
        })
        .collect();
    let manifests: Vec<_> = futures_join(tasks).await;

    assert_eq!(fetcher.calls(), 1);
    assert!(manifests.iter().all(|m| Arc::ptr_eq(m, &manifests[0])));
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits, stats.fetches), (1, 99, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn different_urls_are_fetched_independently() {
    let cache = ManifestCache::default();
    let fetcher = Arc::new(ScriptedFetcher::always("X").with_delay(Duration::from_millis(50)));

    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (cache, fetcher) = (cache.clone(), Arc::clone(&fetcher));
            tokio::spawn(async move { cache.get(&url(i % 4), &*fetcher).await })
        })
        .collect();
    futures_join(tasks).await;
    assert_eq!(fetcher.calls(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelled_loader_is_taken_over_by_a_waiter() {
    let cache = ManifestCache::default();
    let fetcher = Arc::new(ScriptedFetcher::always("X").with_delay(Duration::from_millis(100)));

    let leader = {
        let (cache, fetcher) = (cache.clone(), Arc::clone(&fetcher));
        tokio::spawn(async move { cache.get(&url(0), &*fetcher).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let follower = {
        let (cache, fetcher) = (cache.clone(), Arc::clone(&fetcher));
        tokio::spawn(async move { cache.get(&url(0), &*fetcher).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    leader.abort();

    let manifest = follower.await.unwrap().unwrap();
    assert_eq!(manifest.name, "X");
    assert_eq!(
        fetcher.calls(),
        2,
        "the follower retried after the leader vanished"
    );
}

async fn futures_join<T: std::fmt::Debug>(
    tasks: Vec<tokio::task::JoinHandle<Result<T, asap_cache::FetchError>>>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.unwrap().unwrap());
    }
    out
}
