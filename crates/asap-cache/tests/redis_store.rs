//! `RedisStore` against a real Redis server (`ASAP_TEST_REDIS_URL`; skipped locally without
//! it, required under `CI=true`), plus a Redis that is down.
#![cfg(feature = "redis")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use asap_cache::{
    CacheConfig, DEFAULT_REDIS_PREFIX, ManifestCache, PersistentStore, RedisStore,
    RedisStoreOptions, StoredEntry,
};
use asap_testing::services::require_redis;
use common::{ScriptedFetcher, manifest, modified, url};

/// A key prefix no other test (or earlier run) uses, so tests sharing one server are
/// independent.
fn unique_prefix(test: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "asap-cache-test:{test}:{}:{nanos}:{}:",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn store(redis_url: &str, test: &str) -> RedisStore {
    RedisStoreOptions::new(redis_url)
        .prefix(unique_prefix(test))
        .open()
        .expect("valid Redis URL")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn entry(name: &str, etag: Option<&str>, fetched_at: u64) -> StoredEntry {
    StoredEntry::new(
        serde_json::to_value(manifest(name)).unwrap(),
        etag.map(str::to_owned),
        fetched_at,
    )
}

/// A plain connection for looking at (and spoiling) what the store wrote.
async fn raw(redis_url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers")
}

#[tokio::test]
async fn round_trip_keeps_manifest_etag_and_fetch_time() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let store = store(&redis_url, "round-trip");
    let with_etag = entry("A", Some("\"v1\""), 1_700_000_123);
    store.store(&url(0), &with_etag).await;
    assert_eq!(store.load(&url(0)).await, Some(with_etag));

    let without_etag = entry("B", None, 42);
    store.store(&url(1), &without_etag).await;
    assert_eq!(store.load(&url(1)).await, Some(without_etag));
}

#[tokio::test]
async fn missing_entry_is_none_and_remove_is_a_no_op() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let store = store(&redis_url, "missing");
    assert_eq!(store.load(&url(0)).await, None);
    store.remove(&url(0)).await;
    assert_eq!(store.load(&url(0)).await, None);
}

#[tokio::test]
async fn store_overwrites_and_remove_forgets() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let store = store(&redis_url, "overwrite");
    store.store(&url(0), &entry("old", Some("\"v1\""), 1)).await;
    let new = entry("new", None, 2);
    store.store(&url(0), &new).await;
    assert_eq!(store.load(&url(0)).await, Some(new));

    store.remove(&url(0)).await;
    assert_eq!(store.load(&url(0)).await, None);
}

#[tokio::test]
async fn stores_under_different_prefixes_do_not_see_each_other() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let a = store(&redis_url, "prefix-a");
    let b = store(&redis_url, "prefix-b");
    a.store(&url(0), &entry("A", None, 1)).await;
    assert_eq!(b.load(&url(0)).await, None);
    assert!(a.key_for(&url(0)).ends_with(&url(0)));
    assert!(
        RedisStore::open(&redis_url)
            .unwrap()
            .key_for("u")
            .starts_with(DEFAULT_REDIS_PREFIX)
    );
}

#[tokio::test]
async fn corrupt_value_is_ignored_and_overwritten_by_the_next_fetch() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let store = Arc::new(store(&redis_url, "corrupt"));
    let url = url(0);
    let mut conn = raw(&redis_url).await;
    let _: () = redis::cmd("SET")
        .arg(store.key_for(&url))
        .arg("{ not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(store.load(&url).await, None);

    let cache = ManifestCache::new(CacheConfig::builder().persistent(store.clone()).build());
    let fetcher = ScriptedFetcher::always("fetched");
    assert_eq!(cache.get(&url, &fetcher).await.unwrap().name, "fetched");
    assert_eq!(fetcher.calls(), 1);
    let repaired = store.load(&url).await.expect("overwritten by the fetch");
    assert_eq!(repaired.manifest["name"], "fetched");
}

#[tokio::test]
async fn key_of_another_type_is_ignored_not_an_error() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let store = store(&redis_url, "wrong-type");
    let mut conn = raw(&redis_url).await;
    let _: () = redis::cmd("RPUSH")
        .arg(store.key_for(&url(0)))
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(store.load(&url(0)).await, None);
    // SET replaces a key of any type.
    let fresh = entry("A", None, 1);
    store.store(&url(0), &fresh).await;
    assert_eq!(store.load(&url(0)).await, Some(fresh));
}

#[tokio::test]
async fn stored_invalid_manifest_is_ignored_and_removed() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let store = Arc::new(store(&redis_url, "invalid-manifest"));
    let url = url(0);
    let bad = StoredEntry::new(
        serde_json::json!({"name": "missing every other field"}),
        None,
        now_secs(),
    );
    store.store(&url, &bad).await;
    assert!(store.load(&url).await.is_some(), "well-formed entry");

    let cache = ManifestCache::new(CacheConfig::builder().persistent(store.clone()).build());
    let fetcher = ScriptedFetcher::new(|_, _, _| Err(asap_cache::FetchError::new("offline")));
    cache.get(&url, &fetcher).await.unwrap_err();
    assert_eq!(fetcher.calls(), 1, "invalid stored manifest is not served");
    assert_eq!(cache.stats().warm_hits, 0);
    assert_eq!(store.load(&url).await, None, "removed");
}

#[tokio::test]
async fn expire_after_sets_a_redis_ttl_and_default_sets_none() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let mut conn = raw(&redis_url).await;
    let expiring = RedisStoreOptions::new(&redis_url)
        .prefix(unique_prefix("expire"))
        .expire_after(Duration::from_secs(600))
        .open()
        .unwrap();
    expiring.store(&url(0), &entry("A", None, 1)).await;
    let pttl: i64 = redis::cmd("PTTL")
        .arg(expiring.key_for(&url(0)))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl > 0 && pttl <= 600_000, "PTTL {pttl}");

    let lasting = store(&redis_url, "no-expire");
    lasting.store(&url(0), &entry("A", None, 1)).await;
    let pttl: i64 = redis::cmd("PTTL")
        .arg(lasting.key_for(&url(0)))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(pttl, -1, "no expiry by default");
}

#[tokio::test]
async fn second_cache_is_answered_from_redis_without_fetching() {
    let Some(redis_url) = require_redis() else {
        return;
    };
    let prefix = unique_prefix("two-caches");
    let cache_on = || {
        let store = RedisStoreOptions::new(&redis_url)
            .prefix(&prefix)
            .open()
            .unwrap();
        ManifestCache::new(
            CacheConfig::builder()
                .ttl(Duration::from_secs(60))
                .persistent(Arc::new(store))
                .build(),
        )
    };
    let url = url(0);

    let first = cache_on();
    let fetcher_a = ScriptedFetcher::new(|_, _, _| modified("shared", Some("\"v1\"")));
    first.get(&url, &fetcher_a).await.unwrap();
    assert_eq!(fetcher_a.calls(), 1);

    let second = cache_on();
    let fetcher_b = ScriptedFetcher::always("never");
    let got = second.get(&url, &fetcher_b).await.unwrap();
    assert_eq!(*got, manifest("shared"));
    assert_eq!(fetcher_b.calls(), 0);
    let stats = second.stats();
    assert_eq!((stats.misses, stats.warm_hits, stats.fetches), (1, 1, 0));

    // An invalidation by one replica removes the shared entry for every replica.
    first.invalidate(&url).await;
    let third = cache_on();
    assert_eq!(third.get(&url, &fetcher_b).await.unwrap().name, "never");
    assert_eq!(fetcher_b.calls(), 1);
}

#[tokio::test]
async fn redis_down_falls_back_to_fetching() {
    // Nothing listens on port 9 (discard): every command fails to connect.
    let store = RedisStoreOptions::new("redis://127.0.0.1:9/")
        .timeout(Duration::from_millis(500))
        .open()
        .expect("opening does not connect");
    assert_eq!(store.load(&url(0)).await, None);
    store.store(&url(0), &entry("A", None, 1)).await;
    store.remove(&url(0)).await;

    let cache = ManifestCache::new(CacheConfig::builder().persistent(Arc::new(store)).build());
    let fetcher = ScriptedFetcher::always("fetched");
    assert_eq!(cache.get(&url(0), &fetcher).await.unwrap().name, "fetched");
    assert_eq!(cache.get(&url(0), &fetcher).await.unwrap().name, "fetched");
    assert_eq!(fetcher.calls(), 1, "the memory tier still works");
    let stats = cache.stats();
    assert_eq!((stats.warm_hits, stats.fetches, stats.hits), (0, 1, 1));
}
