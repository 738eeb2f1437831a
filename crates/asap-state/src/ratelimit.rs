use std::num::NonZeroU32;
use std::time::Duration;

use crate::StoreFuture;

/// A request budget: `limit` requests per `period`, with bursts up to `limit`.
///
/// Enforced as a GCRA (generic cell rate algorithm): one request costs an emission interval of
/// `period / limit`; a key is allowed while its theoretical arrival time is at most `period`
/// ahead of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    /// Requests per period (and the largest burst).
    pub limit: NonZeroU32,
    /// The period.
    pub period: Duration,
}

impl RateQuota {
    /// The time one request costs: `period / limit`.
    pub fn emission_interval(&self) -> Duration {
        self.period / self.limit.get()
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Allowed; `remaining` more requests would be allowed right now.
    Allowed {
        /// Requests still allowed at once after this one.
        remaining: u32,
    },
    /// Refused; the next request is allowed after `retry_after`.
    Limited {
        /// How long until one request is allowed again.
        retry_after: Duration,
    },
}

/// Per-key request budgets, possibly shared by several server processes.
///
/// # Contract
///
/// [`check`](RateLimitStore::check) counts one request against `key` under `quota` and says
/// whether it is allowed. Starting from an unused key, exactly `quota.limit` immediate requests
/// are allowed and the next is [`RateDecision::Limited`] with a `retry_after` of at most one
/// emission interval; budget comes back at one request per emission interval. A refused request
/// consumes nothing. Keys not used for `quota.period` may be forgotten.
///
/// # Atomicity
///
/// The read of a key's state, the decision and the write of its new state are **one atomic
/// step** against every other call, other processes included when the store is shared (no
/// read-modify-write race lets more than `limit` requests of a burst through). Redis: one Lua
/// script per call; SQL: one statement or a transaction with a row lock.
pub trait RateLimitStore: Send + Sync {
    /// Counts one request for `key` under `quota`.
    fn check<'a>(&'a self, key: &'a str, quota: RateQuota) -> StoreFuture<'a, RateDecision>;
}
