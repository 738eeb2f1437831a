use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::*;

const TTL: Duration = Duration::from_secs(600);

#[test]
fn fresh_then_duplicate() {
    let store = MemoryNonceStore::new();
    assert!(store.is_empty());
    assert!(store.try_mark("n-1", TTL));
    assert!(!store.try_mark("n-1", TTL));
    assert!(!store.try_mark("n-1", TTL));
    assert!(store.try_mark("n-2", TTL));
    assert_eq!(store.len(), 2);
    assert_eq!(store.evicted(), 0);
}

#[test]
fn defaults() {
    let store = MemoryNonceStore::default();
    assert_eq!(store.capacity(), DEFAULT_NONCE_CAPACITY);
    assert_eq!(store.capacity(), 100_000);
    assert_eq!(store.shard_count(), DEFAULT_NONCE_SHARDS);
}

#[test]
fn capacity_is_split_between_shards() {
    let store = MemoryNonceStore::with_capacity_and_shards(10, 4);
    assert_eq!(store.capacity(), 10);
    assert_eq!(store.shard_count(), 4);
    let shares: Vec<usize> = store.shards.iter().map(|s| lock(s).capacity).collect();
    assert_eq!(shares, [3, 3, 2, 2]);
    // Fewer slots than shards: one slot per shard.
    let store = MemoryNonceStore::with_capacity_and_shards(2, 16);
    assert_eq!(store.shard_count(), 2);
    // Degenerate values are clamped.
    let store = MemoryNonceStore::with_capacity_and_shards(0, 0);
    assert_eq!((store.capacity(), store.shard_count()), (1, 1));
}

#[test]
fn expires_after_ttl() {
    let store = MemoryNonceStore::new();
    let start = Instant::now();
    let ttl = Duration::from_secs(10);
    assert!(store.try_mark_at("n-1", ttl, start));
    assert!(!store.try_mark_at("n-1", ttl, start + Duration::from_millis(9_999)));
    // Remembered for exactly `ttl`: fresh again at `start + ttl`.
    assert!(store.try_mark_at("n-1", ttl, start + ttl));
    assert!(!store.try_mark_at("n-1", ttl, start + ttl + Duration::from_secs(1)));
}

#[test]
fn expires_after_short_ttl_in_real_time() {
    let store = MemoryNonceStore::new();
    let ttl = Duration::from_millis(30);
    assert!(store.try_mark("short", ttl));
    assert!(!store.try_mark("short", ttl));
    thread::sleep(Duration::from_millis(60));
    assert!(store.try_mark("short", ttl));
}

#[test]
fn zero_ttl_remembers_nothing() {
    let store = MemoryNonceStore::new();
    let now = Instant::now();
    assert!(store.try_mark_at("n", Duration::ZERO, now));
    assert!(store.try_mark_at("n", Duration::ZERO, now));
}

#[test]
fn expired_entries_are_purged_lazily() {
    let store = MemoryNonceStore::with_capacity_and_shards(100, 1);
    let start = Instant::now();
    let ttl = Duration::from_secs(1);
    for i in 0..50 {
        assert!(store.try_mark_at(&format!("old-{i}"), ttl, start));
    }
    assert_eq!(store.len(), 50);
    // Any later call on the shard drops the expired front.
    assert!(store.try_mark_at("new", ttl, start + Duration::from_secs(2)));
    assert_eq!(store.len(), 1);
    assert_eq!(store.evicted(), 0);
}

#[test]
fn purge_expired_sweeps_everything() {
    let store = MemoryNonceStore::with_capacity_and_shards(100, 4);
    for i in 0..20 {
        assert!(store.try_mark(&format!("n-{i}"), Duration::ZERO));
    }
    store.purge_expired();
    assert!(store.is_empty());
}

#[test]
fn full_store_evicts_oldest_first() {
    let store = MemoryNonceStore::with_capacity_and_shards(3, 1);
    let now = Instant::now();
    for nonce in ["a", "b", "c"] {
        assert!(store.try_mark_at(nonce, TTL, now));
    }
    assert!(store.try_mark_at("d", TTL, now));
    assert_eq!(store.len(), 3);
    assert_eq!(store.evicted(), 1);
    // "a" was the oldest: forgotten, so accepted again (the documented weakness)…
    assert!(store.try_mark_at("a", TTL, now));
    assert_eq!(store.evicted(), 2); // …which evicted "b".
    // …while the newer ones are still remembered.
    assert!(!store.try_mark_at("c", TTL, now));
    assert!(!store.try_mark_at("d", TTL, now));
    assert!(!store.try_mark_at("a", TTL, now));
}

#[test]
fn expired_entries_make_room_without_counting_as_evictions() {
    let store = MemoryNonceStore::with_capacity_and_shards(2, 1);
    let start = Instant::now();
    assert!(store.try_mark_at("a", Duration::from_secs(1), start));
    assert!(store.try_mark_at("b", TTL, start));
    // "a" has expired: it goes first, and it is not an eviction of a live nonce.
    assert!(store.try_mark_at("c", TTL, start + Duration::from_secs(2)));
    assert_eq!(store.evicted(), 0);
    assert!(!store.try_mark_at("b", TTL, start + Duration::from_secs(2)));
    // Now "b" (live, oldest) must go.
    assert!(store.try_mark_at("d", TTL, start + Duration::from_secs(2)));
    assert_eq!(store.evicted(), 1);
    assert!(!store.try_mark_at("c", TTL, start + Duration::from_secs(2)));
}

#[test]
fn len_never_exceeds_capacity() {
    let store = MemoryNonceStore::with_capacity_and_shards(64, 8);
    for i in 0..10_000 {
        assert!(store.try_mark(&format!("n-{i}"), TTL));
        assert!(store.len() <= 64);
    }
    assert_eq!(store.len(), 64);
    assert_eq!(store.evicted(), 10_000 - 64);
}

#[test]
fn re_marking_after_expiry_keeps_the_queue_bounded() {
    // Varying TTLs leave expired entries behind a live front; re-marking them leaves stale
    // queue items, which compaction removes.
    let store = MemoryNonceStore::with_capacity_and_shards(4, 1);
    let start = Instant::now();
    assert!(store.try_mark_at("long", Duration::from_secs(10_000), start));
    let short = Duration::from_millis(1);
    for round in 0..1_000u64 {
        let now = start + Duration::from_millis(2 * round);
        assert!(store.try_mark_at("s", short, now), "round {round}");
        assert!(!store.try_mark_at("s", short, now));
    }
    let shard = lock(&store.shards[0]);
    assert!(
        shard.order.len() <= 2 * shard.capacity + 1,
        "{}",
        shard.order.len()
    );
    assert_eq!(shard.seen.len(), 2);
    drop(shard);
    assert!(!store.try_mark_at("long", TTL, start + Duration::from_secs(1)));
}

#[test]
fn concurrent_marks_accept_each_nonce_exactly_once() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 1_000;
    const STRIDE: usize = 500; // neighbouring threads share half their nonces
    let store = Arc::new(MemoryNonceStore::new());
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                let mut accepted = Vec::new();
                for i in 0..PER_THREAD {
                    let nonce = format!("n-{}", t * STRIDE + i);
                    if store.try_mark(&nonce, TTL) {
                        accepted.push(nonce);
                    }
                }
                accepted
            })
        })
        .collect();
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.join().expect("thread"));
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "a nonce was accepted twice");
    assert_eq!(all.len(), (THREADS - 1) * STRIDE + PER_THREAD);
    assert_eq!(store.len(), all.len());
}

#[test]
fn concurrent_identical_nonces_race_to_one_winner() {
    const THREADS: usize = 8;
    let store = Arc::new(MemoryNonceStore::with_capacity_and_shards(10_000, 4));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                (0..1_000)
                    .filter(|i| store.try_mark(&format!("same-{i}"), TTL))
                    .count()
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    assert_eq!(total, 1_000);
}

#[test]
fn trait_object_answers_like_try_mark() {
    let store: Arc<dyn NonceStore> = Arc::new(MemoryNonceStore::new());
    let first = futures_util::FutureExt::now_or_never(store.check_and_mark("n", TTL));
    let second = futures_util::FutureExt::now_or_never(store.check_and_mark("n", TTL));
    assert!(matches!(first, Some(Ok(true))));
    assert!(matches!(second, Some(Ok(false))));
}
