//! Timed [`IdempotencyStore`], [`NonceStore`] and [`RateLimitStore`] calls.

use std::time::Duration;

use super::Timed;
use crate::{
    Begin, IdempotencyKey, IdempotencyStore, NonceStore, RateDecision, RateLimitStore, RateQuota,
    StoreFuture, StoredResponse,
};

impl<S: IdempotencyStore + ?Sized> IdempotencyStore for Timed<S> {
    fn begin<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        fingerprint: &'a str,
        lease: Duration,
        ttl: Duration,
    ) -> StoreFuture<'a, Begin> {
        self.time("begin", self.inner.begin(key, fingerprint, lease, ttl))
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        response: &'a StoredResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        self.time("complete", self.inner.complete(key, response, ttl))
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey) -> StoreFuture<'a, ()> {
        self.time("release", self.inner.release(key))
    }

    fn purge_expired(&self, limit: usize) -> StoreFuture<'_, u64> {
        self.time("purge_expired", self.inner.purge_expired(limit))
    }
}

impl<S: NonceStore + ?Sized> NonceStore for Timed<S> {
    fn check_and_mark<'a>(&'a self, nonce: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        self.time("check_and_mark", self.inner.check_and_mark(nonce, ttl))
    }
}

impl<S: RateLimitStore + ?Sized> RateLimitStore for Timed<S> {
    fn check<'a>(&'a self, key: &'a str, quota: RateQuota) -> StoreFuture<'a, RateDecision> {
        self.time("check", self.inner.check(key, quota))
    }
}
