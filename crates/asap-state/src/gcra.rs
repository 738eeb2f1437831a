//! The GCRA decision shared by every rate-limit backend, on nanosecond clocks.
//!
//! A key's state is its theoretical arrival time (TAT). With emission interval `T` and limit
//! `L`, a request at `now` is allowed when `max(TAT, now) - now <= (L - 1) × T`; it then moves
//! the TAT to `max(TAT, now) + T`. From an unused key exactly `L` requests at one instant are
//! allowed, and the next waits `T` at most.

use crate::{RateDecision, RateQuota};

/// The decision for one request, and the new TAT when it is allowed (a refused request
/// consumes nothing, so the state is unchanged).
pub(crate) fn decide(
    tat: Option<i128>,
    now: i128,
    quota: RateQuota,
) -> (RateDecision, Option<i128>) {
    let interval = quota.emission_interval().as_nanos() as i128;
    let limit = i128::from(quota.limit.get());
    let base = tat.map_or(now, |tat| tat.max(now));
    let ahead = base - now;
    let tolerance = interval * (limit - 1);
    if ahead > tolerance {
        let wait = (ahead - tolerance).clamp(0, i128::from(u64::MAX));
        let retry_after = std::time::Duration::from_nanos(wait as u64);
        return (RateDecision::Limited { retry_after }, None);
    }
    // Requests still allowed at `now` after this one: (L - 1) - ceil(ahead / T).
    let used = if interval == 0 {
        0
    } else {
        (ahead + interval - 1) / interval
    };
    let remaining = (limit - 1 - used).clamp(0, i128::from(u32::MAX)) as u32;
    (RateDecision::Allowed { remaining }, Some(base + interval))
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;

    fn quota(limit: u32, period_ms: u64) -> RateQuota {
        RateQuota {
            limit: NonZeroU32::new(limit).expect("non-zero"),
            period: Duration::from_millis(period_ms),
        }
    }

    #[test]
    fn a_burst_of_exactly_limit_then_one_interval() {
        let q = quota(5, 1_000);
        let mut tat = None;
        for expected in (0..5).rev() {
            let (decision, next) = decide(tat, 0, q);
            assert_eq!(
                decision,
                RateDecision::Allowed {
                    remaining: expected
                }
            );
            tat = next;
        }
        let (decision, next) = decide(tat, 0, q);
        assert_eq!(
            decision,
            RateDecision::Limited {
                retry_after: Duration::from_millis(200)
            }
        );
        assert_eq!(next, None);
        // One interval later, one request is allowed again and none more.
        let (decision, next) = decide(tat, 200_000_000, q);
        assert_eq!(decision, RateDecision::Allowed { remaining: 0 });
        assert!(matches!(
            decide(next, 200_000_000, q).0,
            RateDecision::Limited { .. }
        ));
    }

    #[test]
    fn an_idle_key_is_full_again_after_a_period() {
        let q = quota(3, 300);
        let (_, tat) = decide(None, 0, q);
        let (decision, _) = decide(tat, 300_000_000, q);
        assert_eq!(decision, RateDecision::Allowed { remaining: 2 });
    }
}
