use std::time::Instant;

use super::expiring::{ExpiringMap, Write};
use super::nonce::DEFAULT_SHARDS;
use super::ready;
use crate::{Ping, RateDecision, RateLimitStore, RateQuota, StoreFuture, gcra};

/// Default [`MemoryRateLimitStore`] capacity, in keys.
pub const DEFAULT_RATE_LIMIT_CAPACITY: usize = 100_000;

/// An in-process [`RateLimitStore`] (GCRA): sharded and bounded.
///
/// A key's state is one timestamp, kept until the key's budget is full again (at most one
/// period), then dropped. When a shard is full its least recently counted key is evicted,
/// which gives that key a fresh budget: choose `capacity` above the number of keys active
/// within one period.
pub struct MemoryRateLimitStore {
    /// Theoretical arrival times, in nanoseconds since `epoch`.
    keys: ExpiringMap<String, i128>,
    epoch: Instant,
}

impl std::fmt::Debug for MemoryRateLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRateLimitStore")
            .field("capacity", &self.keys.capacity())
            .finish_non_exhaustive()
    }
}

impl MemoryRateLimitStore {
    /// A store with the default capacity.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_RATE_LIMIT_CAPACITY)
    }

    /// A store holding at most `capacity` keys (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            keys: ExpiringMap::new(capacity, DEFAULT_SHARDS),
            epoch: Instant::now(),
        }
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The synchronous form of [`RateLimitStore::check`].
    pub fn check_now(&self, key: &str, quota: RateQuota) -> RateDecision {
        let now = Instant::now();
        let now_ns = now.duration_since(self.epoch).as_nanos() as i128;
        self.keys.update(key, now, |tat| {
            let (decision, next) = gcra::decide(tat.copied(), now_ns, quota);
            let write = match next {
                Some(tat) => Write::Set {
                    value: tat,
                    // The state matters until the TAT: after it the key is as good as new.
                    expires: now + std::time::Duration::from_nanos((tat - now_ns).max(0) as u64),
                },
                None => Write::Keep,
            };
            (write, decision)
        })
    }
}

impl Default for MemoryRateLimitStore {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimitStore for MemoryRateLimitStore {
    fn check<'a>(&'a self, key: &'a str, quota: RateQuota) -> StoreFuture<'a, RateDecision> {
        ready(Ok(self.check_now(key, quota)))
    }
}

impl Ping for MemoryRateLimitStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        ready(Ok(()))
    }
}
