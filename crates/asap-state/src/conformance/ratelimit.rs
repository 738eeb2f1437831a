use std::num::NonZeroU32;
use std::time::Duration;

use super::{RACERS, concurrently, sleep_ms, unique};
use crate::{RateDecision, RateLimitStore, RateQuota};

fn quota(limit: u32, period: Duration) -> RateQuota {
    RateQuota {
        limit: NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN),
        period,
    }
}

/// Long enough that no budget comes back while a check runs.
const HOUR: Duration = Duration::from_secs(3600);

async fn check<S: RateLimitStore + ?Sized>(store: &S, key: &str, quota: RateQuota) -> RateDecision {
    store
        .check(key, quota)
        .await
        .unwrap_or_else(|e| panic!("RateLimitStore: check: {e} ({:?})", e.kind()))
}

/// Checks a [`RateLimitStore`] against every clause of its contract.
pub async fn rate_limit_store<S: RateLimitStore + ?Sized>(store: &S) {
    burst(store).await;
    refill(store).await;
    racing_burst(store).await;
}

async fn burst<S: RateLimitStore + ?Sized>(store: &S) {
    let q = quota(5, HOUR);
    let key = unique("rl");
    for remaining in (0..5).rev() {
        assert_eq!(
            check(store, &key, q).await,
            RateDecision::Allowed { remaining },
            "RateLimitStore: an unused key allows exactly `limit` at once, counting down"
        );
    }
    for _ in 0..3 {
        match check(store, &key, q).await {
            RateDecision::Limited { retry_after } => {
                assert!(
                    retry_after <= q.emission_interval(),
                    "RateLimitStore: retry_after is at most one emission interval"
                );
                assert!(
                    retry_after > q.emission_interval() / 2,
                    "RateLimitStore: retry_after is the wait for the next request"
                );
            }
            other => panic!("RateLimitStore: request limit + 1 is Limited, got {other:?}"),
        }
    }
    // Keys are independent.
    assert_eq!(
        check(store, &unique("rl"), q).await,
        RateDecision::Allowed { remaining: 4 },
        "RateLimitStore: another key has its own budget"
    );
    // A limit of one.
    let one = quota(1, HOUR);
    let key = unique("rl");
    assert_eq!(
        check(store, &key, one).await,
        RateDecision::Allowed { remaining: 0 },
        "RateLimitStore: limit 1 allows one"
    );
    assert!(
        matches!(check(store, &key, one).await, RateDecision::Limited { .. }),
        "RateLimitStore: limit 1 refuses the second"
    );
}

/// Refused requests consume nothing: after a burst and many refusals, waiting longer than
/// the period gives the budget back. (If refusals consumed budget, the key would still be
/// limited many intervals later.)
async fn refill<S: RateLimitStore + ?Sized>(store: &S) {
    let q = quota(2, Duration::from_millis(200));
    let key = unique("rl");
    for _ in 0..30 {
        check(store, &key, q).await;
    }
    sleep_ms(300).await;
    assert!(
        matches!(check(store, &key, q).await, RateDecision::Allowed { .. }),
        "RateLimitStore: refused requests consume nothing; budget comes back over time"
    );
}

async fn racing_burst<S: RateLimitStore + ?Sized>(store: &S) {
    let limit = 10u32;
    let q = quota(limit, HOUR);
    let key = unique("rl");
    let decisions = concurrently(RACERS, |_| check(store, &key, q)).await;
    let mut remaining: Vec<u32> = decisions
        .iter()
        .filter_map(|d| match d {
            RateDecision::Allowed { remaining } => Some(*remaining),
            RateDecision::Limited { .. } => None,
        })
        .collect();
    assert_eq!(
        remaining.len(),
        limit as usize,
        "RateLimitStore: of {RACERS} racing requests exactly `limit` are allowed"
    );
    remaining.sort_unstable();
    // The first sees a full budget and the last an empty one (calls taken in another order
    // than their clocks may see the same count in between).
    assert_eq!(
        remaining.first(),
        Some(&0),
        "RateLimitStore: the last allowed racer sees no budget left"
    );
    assert_eq!(
        remaining.last(),
        Some(&(limit - 1)),
        "RateLimitStore: the first racer sees limit - 1 left"
    );
}
