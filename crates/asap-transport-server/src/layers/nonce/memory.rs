use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use super::store::{NonceStore, NonceStoreError};

/// Default [`MemoryNonceStore`] capacity, in nonces.
pub const DEFAULT_NONCE_CAPACITY: usize = 100_000;

/// Default number of [`MemoryNonceStore`] shards.
pub const DEFAULT_NONCE_SHARDS: usize = 16;

/// Expiry used when `now + ttl` does not fit an [`Instant`] (about 100 years).
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// An in-process [`NonceStore`]: bounded, with per-nonce TTL, sharded.
///
/// - **Atomic**: the check and the mark happen under one shard lock.
/// - **Sharded**: nonces are spread by a keyed hash over N shards (default
///   [`DEFAULT_NONCE_SHARDS`]), each a `Mutex<HashMap + VecDeque>`, so concurrent requests
///   rarely wait on the same lock. The lock is held only for the map update.
/// - **TTL**: a nonce is remembered for the `ttl` given when it was marked; after that it is
///   fresh again. Expired entries are purged lazily, oldest first, whenever their shard is
///   touched (no background task).
/// - **Bounded**: at most `capacity` nonces (default [`DEFAULT_NONCE_CAPACITY`]), divided
///   evenly between the shards. When a shard is full, its **oldest** entries are evicted
///   first. Evicting a nonce that has not expired yet means that nonce could be replayed
///   afterwards, so choose `capacity` above *peak rate × TTL* (100 000 covers a sustained
///   166 nonces/s with the default 600 s TTL). The first such eviction logs a warning, and
///   [`evicted`](Self::evicted) counts them.
///
/// Memory is about `capacity × (nonce length + 100 bytes)`; the request body limit bounds the
/// nonce length. The store is per process: replicas behind a load balancer need a shared
/// store instead (see [`NonceStore`]).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use asap_transport_server::layers::nonce::{MemoryNonceStore, NonceLayer, NonceStore};
///
/// let store = Arc::new(MemoryNonceStore::with_capacity(10_000));
/// let ttl = Duration::from_secs(600);
///
/// // Synchronous use.
/// assert!(store.try_mark("n-7f3a9c1d2e", ttl));
/// assert!(!store.try_mark("n-7f3a9c1d2e", ttl));
///
/// // Through the trait, as the layer uses it.
/// # futures_util::FutureExt::now_or_never(async {
/// assert!(store.check_and_mark("n-other", ttl).await.unwrap());
/// # }).unwrap();
///
/// // Shared with the layer.
/// let layer = NonceLayer::new(store.clone());
/// assert_eq!(store.len(), 2);
/// # let _ = layer;
/// ```
pub struct MemoryNonceStore {
    shards: Box<[Mutex<Shard>]>,
    /// Selects the shard; independent of the maps' own hashers so that the keys of one shard
    /// do not share hash bits inside its map.
    selector: RandomState,
    capacity: usize,
    evicted: AtomicU64,
    warned: AtomicBool,
}

struct Shard {
    seen: HashMap<Arc<str>, Entry>,
    /// Keys in marking order, with the mark's sequence number; an item whose sequence is not
    /// the map's (the nonce was marked again after expiring) is stale and skipped.
    order: VecDeque<(Arc<str>, u64)>,
    capacity: usize,
    next_seq: u64,
}

#[derive(Clone, Copy)]
struct Entry {
    expires: Instant,
    seq: u64,
}

impl MemoryNonceStore {
    /// A store with the default capacity ([`DEFAULT_NONCE_CAPACITY`]) and shards.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_NONCE_CAPACITY)
    }

    /// A store holding at most `capacity` nonces (at least 1), default shard count.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_shards(capacity, DEFAULT_NONCE_SHARDS)
    }

    /// A store holding at most `capacity` nonces (at least 1) in `shards` shards (at least 1,
    /// at most `capacity`).
    pub fn with_capacity_and_shards(capacity: usize, shards: usize) -> Self {
        let capacity = capacity.max(1);
        let count = shards.clamp(1, capacity);
        let shards = (0..count)
            .map(|i| {
                let share = capacity / count + usize::from(i < capacity % count);
                Mutex::new(Shard {
                    seen: HashMap::new(),
                    order: VecDeque::new(),
                    capacity: share,
                    next_seq: 0,
                })
            })
            .collect();
        Self {
            shards,
            selector: RandomState::new(),
            capacity,
            evicted: AtomicU64::new(0),
            warned: AtomicBool::new(false),
        }
    }

    /// Most nonces held at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Nonces held now, including expired ones not purged yet.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).seen.len()).sum()
    }

    /// Whether no nonce is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many nonces were evicted before they expired because the store was full.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Atomically checks and marks `nonce` for `ttl`: `true` when it was fresh, `false` when
    /// it was already remembered. The synchronous form of
    /// [`NonceStore::check_and_mark`].
    pub fn try_mark(&self, nonce: &str, ttl: Duration) -> bool {
        self.try_mark_at(nonce, ttl, Instant::now())
    }

    /// Removes every expired nonce from every shard (not needed for correctness: expired
    /// entries are also purged lazily).
    pub fn purge_expired(&self) {
        let now = Instant::now();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.seen.retain(|_, entry| entry.expires > now);
            shard.compact();
        }
    }

    pub(crate) fn try_mark_at(&self, nonce: &str, ttl: Duration, now: Instant) -> bool {
        let index = (self.selector.hash_one(nonce) % self.shards.len() as u64) as usize;
        let (fresh, evicted_live) = lock(&self.shards[index]).mark(nonce, ttl, now);
        if evicted_live > 0 {
            self.evicted.fetch_add(evicted_live, Ordering::Relaxed);
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    target: crate::LOG_TARGET,
                    capacity = self.capacity,
                    "nonce store full: evicting unexpired nonces, which could then be replayed; \
                     raise the capacity above peak rate x TTL (logged once)"
                );
            }
        }
        fresh
    }
}

impl Default for MemoryNonceStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryNonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNonceStore")
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .field("evicted", &self.evicted())
            .finish_non_exhaustive()
    }
}

impl NonceStore for MemoryNonceStore {
    fn check_and_mark<'a>(
        &'a self,
        nonce: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, NonceStoreError>> {
        Box::pin(std::future::ready(Ok(self.try_mark(nonce, ttl))))
    }
}

/// Locks a shard; a panic while holding the lock cannot leave a shard inconsistent in a way
/// that matters (at worst one nonce is or is not marked), so poisoning is ignored.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shard {
    /// Returns whether `nonce` was fresh, and how many unexpired nonces were evicted.
    fn mark(&mut self, nonce: &str, ttl: Duration, now: Instant) -> (bool, u64) {
        self.purge_front(now);
        let expires = now.checked_add(ttl).unwrap_or(now + FAR_FUTURE);
        let seq = self.next_seq;
        if let Some((key, entry)) = self.seen.get_key_value(nonce) {
            if entry.expires > now {
                return (false, 0);
            }
            // Expired but not purged yet (it is not at the front): mark it again. Its old
            // queue item becomes stale.
            let key = Arc::clone(key);
            self.seen.insert(Arc::clone(&key), Entry { expires, seq });
            self.next_seq += 1;
            self.order.push_back((key, seq));
            self.compact_if_bloated();
            return (true, 0);
        }
        let mut evicted_live = 0;
        while self.seen.len() >= self.capacity {
            match self.pop_front() {
                Some(entry) if entry.expires > now => evicted_live += 1,
                Some(_) => {}
                None => break,
            }
        }
        let key: Arc<str> = Arc::from(nonce);
        self.seen.insert(Arc::clone(&key), Entry { expires, seq });
        self.next_seq += 1;
        self.order.push_back((key, seq));
        (true, evicted_live)
    }

    /// Drops stale items and expired entries from the front of the order queue.
    fn purge_front(&mut self, now: Instant) {
        while let Some((key, seq)) = self.order.front() {
            match self.seen.get(key) {
                Some(entry) if entry.seq == *seq => {
                    if entry.expires > now {
                        return;
                    }
                    self.seen.remove(key);
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Removes the oldest live entry (skipping stale items) and returns it.
    fn pop_front(&mut self) -> Option<Entry> {
        while let Some((key, seq)) = self.order.pop_front() {
            if let Some(entry) = self.seen.get(&key).copied()
                && entry.seq == seq
            {
                self.seen.remove(&key);
                return Some(entry);
            }
        }
        None
    }

    /// Keeps the queue within twice the capacity when nonces are re-marked after expiring.
    fn compact_if_bloated(&mut self) {
        if self.order.len() > self.capacity.saturating_mul(2) {
            self.compact();
        }
    }

    /// Drops every stale item from the order queue.
    fn compact(&mut self) {
        let seen = &self.seen;
        self.order
            .retain(|(key, seq)| seen.get(key).is_some_and(|entry| entry.seq == *seq));
    }
}

#[cfg(test)]
mod tests;
