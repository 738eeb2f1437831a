//! The keyed limiter behind both rate limit layers.

use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;

use super::spec::{RateLimitItem, RateLimitSpec};
use crate::rejection::Rejection;

/// How often (in checks) the limiter considers cleaning its key stores.
pub const SWEEP_EVERY: u64 = 1024;

/// A key store is not cleaned while it holds fewer entries than this.
pub const SWEEP_MIN_KEYS: usize = 1024;

type KeyedGcra<K, C> =
    governor::RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// One item of the spec with its own keyed GCRA state.
struct Limit<K, C>
where
    K: Hash + Eq + Clone,
    C: Clock,
{
    /// `data.limit` text, e.g. `10 per 1 second`.
    label: String,
    gcra: KeyedGcra<K, C>,
    /// Clean this store when it holds at least this many keys.
    sweep_at: AtomicUsize,
}

impl<K, C> Limit<K, C>
where
    K: Hash + Eq + Clone,
    C: Clock,
{
    fn sweep(&self) {
        self.gcra.retain_recent();
        self.gcra.shrink_to_fit();
        let kept = self.gcra.len();
        self.sweep_at.store(
            kept.saturating_mul(2).max(SWEEP_MIN_KEYS),
            Ordering::Relaxed,
        );
    }
}

/// The limiter itself, generic over governor's clock so that the tests can use a fake one.
pub(crate) struct KeyedLimiter<K, C = DefaultClock>
where
    K: Hash + Eq + Clone,
    C: Clock,
{
    spec: RateLimitSpec,
    limits: Vec<Limit<K, C>>,
    clock: C,
    checks: AtomicU64,
    sweeping: AtomicBool,
}

impl<K, C> KeyedLimiter<K, C>
where
    K: Hash + Eq + Clone,
    C: Clock + Clone,
{
    /// A limiter enforcing `spec` with the given clock.
    pub(crate) fn with_clock(spec: &RateLimitSpec, clock: C) -> Self {
        let limits = spec
            .items()
            .iter()
            .map(|item| Limit {
                label: item.to_string(),
                gcra: KeyedGcra::dashmap_with_clock(quota(item), clock.clone()),
                sweep_at: AtomicUsize::new(SWEEP_MIN_KEYS),
            })
            .collect();
        Self {
            spec: spec.clone(),
            limits,
            clock,
            checks: AtomicU64::new(0),
            sweeping: AtomicBool::new(false),
        }
    }
}

/// `N per period` → burst of `N`, one cell regained every `period / N`.
fn quota(item: &RateLimitItem) -> Quota {
    Quota::with_period(item.interval())
        .expect("RateLimitItem guarantees a non-zero interval")
        .allow_burst(item.count())
}

/// Whole seconds in `wait`, rounded up, at least 1.
pub(super) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

impl<K, C> KeyedLimiter<K, C>
where
    K: Hash + Eq + Clone,
    C: Clock,
{
    /// Counts one request for `key`; refuses it with [`Rejection::RateLimited`] if any item of
    /// the spec is exhausted for that key. See the [type docs](Self).
    pub(crate) fn check(&self, key: &K) -> Result<(), Rejection> {
        self.maybe_sweep();
        for limit in &self.limits {
            if let Err(not_until) = limit.gcra.check_key(key) {
                let wait = not_until.wait_time_from(self.clock.now());
                return Err(Rejection::RateLimited {
                    retry_after: retry_after_secs(wait),
                    limit: limit.label.clone(),
                });
            }
        }
        Ok(())
    }

    /// The spec being enforced.
    pub(crate) fn spec(&self) -> &RateLimitSpec {
        &self.spec
    }

    /// Removes, from every item's store, the keys whose state is as good as fresh, and shrinks
    /// the stores. Runs by itself as described in the [type docs](Self#memory); call it from
    /// a timer to reclaim memory while no new keys arrive.
    pub(crate) fn retain_recent(&self) {
        for limit in &self.limits {
            limit.sweep();
        }
    }

    /// The number of key states held, summed over all items (each item has its own store).
    pub(crate) fn tracked_keys(&self) -> usize {
        self.limits.iter().map(|limit| limit.gcra.len()).sum()
    }

    fn maybe_sweep(&self) {
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if !n.is_multiple_of(SWEEP_EVERY) {
            return;
        }
        // One sweeper at a time; a check that finds one running does not wait.
        if self
            .sweeping
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        for limit in &self.limits {
            if limit.gcra.len() >= limit.sweep_at.load(Ordering::Relaxed) {
                limit.sweep();
            }
        }
        self.sweeping.store(false, Ordering::Release);
    }
}

impl<K, C> fmt::Debug for KeyedLimiter<K, C>
where
    K: Hash + Eq + Clone,
    C: Clock,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("spec", &self.spec.to_string())
            .field("tracked_keys", &self.tracked_keys())
            .finish_non_exhaustive()
    }
}

/// A per-key rate limiter enforcing every item of a [`RateLimitSpec`].
///
/// # Algorithm: GCRA, not fixed windows
///
/// The reference counts requests in fixed windows (PROTOCOL §11.4): `10/second` admits 10
/// requests, then refuses everything until the window that began at the first hit ends.
/// This limiter uses [`governor`], which implements the generic cell rate algorithm (GCRA,
/// a smooth token bucket): an item `N per period` admits a burst of `N` requests at once, and
/// then one more request every `period / N` as allowance is regained. Consequences:
///
/// - A client that has used its burst gets going again after `period / N` rather than at the
///   end of a window, so `retry_after` is short: for `10/second` and `100/minute` it is 1
///   (0.1 s and 0.6 s rounded up), where a fixed window could make it up to 60.
/// - Within any span of time `d`, at most `N + d × N / period` requests pass: the burst plus
///   the steady rate. A client that keeps trying gets up to `2N − 1` through in its first
///   period (for `10/second`: 10 at once, then one every 100 ms), where the fixed window
///   admits `N` in a window and up to `2N` across a window edge.
/// - Over a long run both admit the same average rate, `N` per period; only the shape of
///   bursts differs.
///
/// # Several items
///
/// All items must pass. They are checked in the order given and the first refusal wins;
/// items checked before it have counted the refused request, as the reference does.
///
/// # Refusal
///
/// [`check`](Self::check) returns [`Rejection::RateLimited`] with `retry_after` = seconds until
/// the refusing item would admit the next request, rounded up and at least 1, and `limit` =
/// that item's text (`10 per 1 second`).
///
/// # Memory
///
/// Each item keeps one small state per key (a [`DashMapStateStore`]: sharded, so checks take no
/// global lock; the only shared write is a relaxed atomic check counter). Keys whose state has
/// become indistinguishable from a fresh one (their allowance fully regained: at most the
/// item's period plus one `period / N` after their last request) are removed by a sweep
/// ([`retain_recent`](Self::retain_recent), then `shrink_to_fit`).
///
/// Every [`SWEEP_EVERY`] checks, the check that reaches the count looks at each store and
/// sweeps it if it has grown to twice the size it had after its last sweep and holds at least
/// [`SWEEP_MIN_KEYS`] keys. A store therefore holds at most about
/// `max(2 × live, SWEEP_MIN_KEYS) + SWEEP_EVERY` keys, where `live` is the number of keys still
/// recent at the last sweep, and sweeping costs amortised O(1) per check. The check that
/// sweeps pays for it (one pass over the store, locking one shard at a time). Stale keys are
/// only reclaimed when new keys arrive; call `retain_recent` from a timer if memory should
/// also shrink while the server is idle.
///
/// # Clock
///
/// The monotonic clock. (The clock is not part of the type: governor's clock types stay out
/// of this crate's API; the unit tests drive the same code with a fake clock.)
pub struct RateLimiter<K>
where
    K: Hash + Eq + Clone,
{
    inner: KeyedLimiter<K>,
}

impl<K> RateLimiter<K>
where
    K: Hash + Eq + Clone,
{
    /// A limiter enforcing `spec`.
    pub fn new(spec: &RateLimitSpec) -> Self {
        Self {
            inner: KeyedLimiter::with_clock(spec, DefaultClock::default()),
        }
    }

    /// Counts one request for `key`; refuses it with [`Rejection::RateLimited`] if any item of
    /// the spec is exhausted for that key. See the [type docs](Self).
    pub fn check(&self, key: &K) -> Result<(), Rejection> {
        self.inner.check(key)
    }

    /// The spec being enforced.
    pub fn spec(&self) -> &RateLimitSpec {
        self.inner.spec()
    }

    /// Removes, from every item's store, the keys whose state is as good as fresh, and shrinks
    /// the stores. Runs by itself as described in the [type docs](Self#memory); call it from
    /// a timer to reclaim memory while no new keys arrive.
    pub fn retain_recent(&self) {
        self.inner.retain_recent();
    }

    /// The number of key states held, summed over all items (each item has its own store).
    pub fn tracked_keys(&self) -> usize {
        self.inner.tracked_keys()
    }
}

impl<K> fmt::Debug for RateLimiter<K>
where
    K: Hash + Eq + Clone,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(
        spec: &str,
    ) -> (
        KeyedLimiter<&'static str, FakeRelativeClock>,
        FakeRelativeClock,
    ) {
        let clock = FakeRelativeClock::default();
        let limiter = KeyedLimiter::with_clock(&spec.parse().unwrap(), clock.clone());
        (limiter, clock)
    }

    fn refused(result: Result<(), Rejection>) -> (u64, String) {
        match result {
            Err(Rejection::RateLimited { retry_after, limit }) => (retry_after, limit),
            other => panic!("expected a rate limit refusal, got {other:?}"),
        }
    }

    #[test]
    fn n_allowed_then_refused() {
        let (limiter, clock) = limiter("10/second");
        for i in 0..10 {
            assert_eq!(limiter.check(&"a"), Ok(()), "request {i}");
        }
        let (retry_after, limit) = refused(limiter.check(&"a"));
        assert_eq!(retry_after, 1);
        assert_eq!(limit, "10 per 1 second");

        // GCRA: one request's allowance comes back after period / N.
        clock.advance(Duration::from_millis(100));
        assert_eq!(limiter.check(&"a"), Ok(()));
        refused(limiter.check(&"a"));

        // After a full period the whole burst is back.
        clock.advance(Duration::from_secs(1));
        for _ in 0..10 {
            assert_eq!(limiter.check(&"a"), Ok(()));
        }
        refused(limiter.check(&"a"));
    }

    #[test]
    fn retry_after_is_rounded_up_and_at_least_one() {
        let (limiter, clock) = limiter("1/hour");
        assert_eq!(limiter.check(&"a"), Ok(()));
        assert_eq!(refused(limiter.check(&"a")), (3600, "1 per 1 hour".into()));
        clock.advance(Duration::from_millis(3_598_500));
        assert_eq!(refused(limiter.check(&"a")).0, 2);
        clock.advance(Duration::from_millis(1_000));
        assert_eq!(refused(limiter.check(&"a")).0, 1);
        clock.advance(Duration::from_millis(499));
        assert_eq!(refused(limiter.check(&"a")).0, 1);
        clock.advance(Duration::from_millis(1));
        assert_eq!(limiter.check(&"a"), Ok(()));

        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_nanos(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
    }

    #[test]
    fn every_item_is_enforced() {
        let (limiter, clock) = limiter("10/second;15/minute");
        for _ in 0..10 {
            assert_eq!(limiter.check(&"a"), Ok(()));
        }
        // The per-second item refuses first.
        let (retry_after, limit) = refused(limiter.check(&"a"));
        assert_eq!((retry_after, limit.as_str()), (1, "10 per 1 second"));

        // A second later the per-second item has room again, the per-minute one has 5 left.
        clock.advance(Duration::from_secs(1));
        for _ in 0..5 {
            assert_eq!(limiter.check(&"a"), Ok(()));
        }
        let (retry_after, limit) = refused(limiter.check(&"a"));
        assert_eq!(limit, "15 per 1 minute");
        // 15 per minute regains one request every 4 s; 1 s has passed.
        assert_eq!(retry_after, 3);

        // The minute item keeps refusing even though the second item would allow.
        clock.advance(Duration::from_secs(2));
        assert_eq!(refused(limiter.check(&"a")).1, "15 per 1 minute");
        clock.advance(Duration::from_secs(1));
        assert_eq!(limiter.check(&"a"), Ok(()));
    }

    #[test]
    fn keys_are_independent() {
        let (limiter, _clock) = limiter("2/second");
        assert_eq!(limiter.check(&"a"), Ok(()));
        assert_eq!(limiter.check(&"a"), Ok(()));
        refused(limiter.check(&"a"));
        assert_eq!(limiter.check(&"b"), Ok(()));
        assert_eq!(limiter.check(&"b"), Ok(()));
        refused(limiter.check(&"b"));
        refused(limiter.check(&"a"));
    }

    #[test]
    fn ip_keys() {
        let limiter: RateLimiter<IpAddr> = RateLimiter::new(&"1/minute".parse().unwrap());
        let one = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let two = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(limiter.check(&one), Ok(()));
        assert_eq!(refused(limiter.check(&one)), (60, "1 per 1 minute".into()));
        assert_eq!(limiter.check(&two), Ok(()));
    }

    #[test]
    fn refills_in_real_time() {
        // The default (monotonic) clock: 2 per second regains one request every 500 ms.
        let limiter: RateLimiter<u32> = RateLimiter::new(&"2/second".parse().unwrap());
        assert_eq!(limiter.check(&1), Ok(()));
        assert_eq!(limiter.check(&1), Ok(()));
        assert_eq!(refused(limiter.check(&1)).0, 1);
        std::thread::sleep(Duration::from_millis(550));
        assert_eq!(limiter.check(&1), Ok(()));
        refused(limiter.check(&1));
    }

    #[test]
    fn stale_keys_are_swept() {
        let clock = FakeRelativeClock::default();
        let limiter: KeyedLimiter<u64, _> =
            KeyedLimiter::with_clock(&"1/second".parse().unwrap(), clock.clone());
        // 3000 distinct keys, all recent: sweeps keep everything.
        for key in 0..3000 {
            assert_eq!(limiter.check(&key), Ok(()));
        }
        assert_eq!(limiter.tracked_keys(), 3000);

        // Those keys become stale; new keys arrive. Once the store has doubled since the last
        // sweep (at check 4096), a sweep drops the 3000 stale keys.
        clock.advance(Duration::from_secs(5));
        for key in 3000..5000 {
            assert_eq!(limiter.check(&key), Ok(()));
        }
        assert_eq!(limiter.tracked_keys(), 2000);

        // An explicit sweep drops whatever is stale.
        clock.advance(Duration::from_secs(5));
        limiter.retain_recent();
        assert_eq!(limiter.tracked_keys(), 0);
        assert_eq!(limiter.check(&1), Ok(()));
        assert_eq!(limiter.tracked_keys(), 1);
    }

    #[test]
    fn debug_shows_spec() {
        let (limiter, _clock) = limiter("10/second");
        limiter.check(&"a").unwrap();
        let debug = format!("{limiter:?}");
        assert!(debug.contains("10/second"), "{debug}");
        assert!(debug.contains("tracked_keys: 1"), "{debug}");
    }
}
