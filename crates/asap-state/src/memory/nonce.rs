use std::time::{Duration, Instant};

use super::expiring::{ExpiringMap, Write, expiry};
use super::ready;
use crate::{NonceStore, Ping, StoreFuture};

/// Default [`MemoryNonceStore`] capacity, in nonces.
pub const DEFAULT_NONCE_CAPACITY: usize = 100_000;

/// Default number of shards of the sharded in-memory stores.
pub const DEFAULT_SHARDS: usize = 16;

/// An in-process [`NonceStore`]: sharded, bounded, each nonce remembered for its own TTL.
///
/// - **Atomic**: the check and the mark happen under one shard lock.
/// - **Bounded**: at most `capacity` nonces (default [`DEFAULT_NONCE_CAPACITY`]), split over
///   the shards. Expired nonces are dropped whenever their shard is touched; when a shard is
///   still full, its **oldest** nonce is evicted. An evicted nonce that had not expired could
///   be replayed afterwards, so choose `capacity` above *peak rate × TTL*;
///   [`evicted`](Self::evicted) counts such evictions.
///
/// Per process: replicas behind a load balancer need a shared store (SQLite on a shared
/// volume is not one; PostgreSQL or Redis are).
pub struct MemoryNonceStore {
    seen: ExpiringMap<String, ()>,
}

impl std::fmt::Debug for MemoryNonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNonceStore")
            .field("capacity", &self.capacity())
            .field("evicted", &self.evicted())
            .finish_non_exhaustive()
    }
}

impl MemoryNonceStore {
    /// A store with the default capacity.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_NONCE_CAPACITY)
    }

    /// A store holding at most `capacity` nonces (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            seen: ExpiringMap::new(capacity, DEFAULT_SHARDS),
        }
    }

    /// Most nonces held at once.
    pub fn capacity(&self) -> usize {
        self.seen.capacity()
    }

    /// Nonces held now, expired ones not dropped yet included.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no nonce is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many nonces were evicted before they expired because the store was full.
    pub fn evicted(&self) -> u64 {
        self.seen.evicted_live()
    }

    /// The synchronous form of [`NonceStore::check_and_mark`].
    pub fn try_mark(&self, nonce: &str, ttl: Duration) -> bool {
        let now = Instant::now();
        self.seen.update(nonce, now, |seen| match seen {
            Some(()) => (Write::Keep, false),
            None => (
                Write::Set {
                    value: (),
                    expires: expiry(now, ttl),
                },
                true,
            ),
        })
    }

    /// Removes up to `limit` expired nonces (not needed for correctness: a full shard drops
    /// its expired nonces first); returns how many.
    pub fn purge_expired(&self, limit: usize) -> u64 {
        self.seen.purge_expired(Instant::now(), limit)
    }
}

impl Default for MemoryNonceStore {
    fn default() -> Self {
        Self::new()
    }
}

impl NonceStore for MemoryNonceStore {
    fn check_and_mark<'a>(&'a self, nonce: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        ready(Ok(self.try_mark(nonce, ttl)))
    }
}

impl Ping for MemoryNonceStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        ready(Ok(()))
    }
}
