//! Retry delays (PROTOCOL §12.2): exponential backoff with jitter and `Retry-After`.

use std::time::{Duration, SystemTime};

/// Exponential backoff: `min(base · 2^attempt, max)`, plus `U(0, 0.1 · that)` with jitter.
///
/// Attempt 0 with the defaults (1 s, 60 s) waits 1.0–1.1 s, attempt 1 2.0–2.2 s, …, and
/// from attempt 6 on 60–66 s.
///
/// ```
/// use std::time::Duration;
/// use asap_transport_client::Backoff;
///
/// let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), true);
/// let d = backoff.delay(2);
/// assert!(d >= Duration::from_secs(4) && d <= Duration::from_millis(4400));
/// assert_eq!(Backoff::new(Duration::from_secs(1), Duration::from_secs(60), false).delay(10),
///            Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    jitter: bool,
}

impl Backoff {
    /// A backoff policy.
    pub const fn new(base: Duration, max: Duration, jitter: bool) -> Self {
        Self { base, max, jitter }
    }

    /// The delay without jitter: `min(base · 2^attempt, max)`.
    pub fn capped(&self, attempt: u32) -> Duration {
        let factor = 2f64.powi(attempt.min(1023) as i32);
        let secs = (self.base.as_secs_f64() * factor).min(self.max.as_secs_f64());
        Duration::try_from_secs_f64(secs).unwrap_or(self.max)
    }

    /// The delay before the retry that follows `attempt` (0-based), with a fresh uniform
    /// jitter draw from the thread-local random generator.
    pub fn delay(&self, attempt: u32) -> Duration {
        if !self.jitter {
            return self.capped(attempt);
        }
        self.delay_with(attempt, rand::random_range(0.0..=1.0))
    }

    /// [`delay`](Self::delay) with the jitter draw given: `draw` in `[0, 1]` adds
    /// `0.1 · draw` of the capped delay (values outside are clamped, NaN counts as 0).
    /// Without jitter the draw is ignored.
    ///
    /// ```
    /// use std::time::Duration;
    /// use asap_transport_client::Backoff;
    ///
    /// let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), true);
    /// assert_eq!(backoff.delay_with(1, 0.0), Duration::from_secs(2));
    /// assert_eq!(backoff.delay_with(1, 0.5), Duration::from_millis(2100));
    /// assert_eq!(backoff.delay_with(1, 7.0), Duration::from_millis(2200));
    /// ```
    pub fn delay_with(&self, attempt: u32, draw: f64) -> Duration {
        let capped = self.capped(attempt);
        if !self.jitter || capped.is_zero() {
            return capped;
        }
        let draw = if draw.is_nan() {
            0.0
        } else {
            draw.clamp(0.0, 1.0)
        };
        capped.saturating_add(capped.mul_f64(0.1 * draw))
    }
}

/// Parses a `Retry-After` value: delay seconds (`"3"`, `"1.5"`) or an HTTP-date, converted
/// to a duration from `now`. `None` when missing, unparsable, or not in the future — the
/// caller then falls back to the backoff.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use asap_transport_client::backoff::parse_retry_after;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert_eq!(parse_retry_after("60", now), Some(Duration::from_secs(60)));
/// assert_eq!(parse_retry_after("0", now), None);
/// let date = httpdate::fmt_http_date(now + Duration::from_secs(5));
/// assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(5)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs > 0.0)
            .then(|| Duration::try_from_secs_f64(secs).ok())
            .flatten();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    at.duration_since(now).ok().filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_hold_for_every_attempt() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), true);
        for attempt in 0..40 {
            let capped = b.capped(attempt);
            for _ in 0..50 {
                let d = b.delay(attempt);
                assert!(d >= capped && d <= capped.mul_f64(1.1) + Duration::from_nanos(1));
            }
        }
        assert_eq!(b.capped(0), Duration::from_secs(1));
        assert_eq!(b.capped(5), Duration::from_secs(32));
        assert_eq!(b.capped(6), Duration::from_secs(60));
        assert_eq!(b.capped(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn given_draws_are_exact_and_clamped() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), true);
        assert_eq!(b.delay_with(0, 1.0), Duration::from_millis(1100));
        assert_eq!(b.delay_with(0, -1.0), Duration::from_secs(1));
        assert_eq!(b.delay_with(0, f64::NAN), Duration::from_secs(1));
        let off = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), false);
        assert_eq!(off.delay_with(3, 1.0), Duration::from_secs(8));
        let huge = Backoff::new(Duration::MAX, Duration::MAX, true);
        assert_eq!(huge.delay_with(0, 1.0), Duration::MAX);
    }

    #[test]
    fn retry_after_rejects_past_and_garbage() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(parse_retry_after(&past, now), None);
    }
}
