//! Timestamp window (PROTOCOL §11.2, processing step 15).
//!
//! Always on in the reference. An envelope is refused when it is older than
//! [`MAX_ENVELOPE_AGE_SECONDS`] or more than [`MAX_FUTURE_TOLERANCE_SECONDS`] ahead of the
//! server clock; both comparisons are strict, so exactly 300 s old or exactly 30 s ahead
//! passes. Naive timestamps (no offset) are read as UTC; other offsets are compared as
//! instants. An envelope sent without a timestamp was stamped "now" when it was decoded, so it
//! always passes.
//!
//! The refusal is `-32602` with the ASAP error in `data`, exactly as the reference writes it:
//!
//! ```json
//! {"error": "Invalid envelope timestamp",
//!  "code": "asap:protocol/invalid_timestamp",
//!  "message": "Envelope timestamp is too old: 217643202.1 seconds (max: 300 seconds)",
//!  "details": {"timestamp": "2020-01-01T00:00:00+00:00", "age_seconds": 217643202.12694,
//!              "envelope_id": "01KDWPVNG0DE3B4WZZ6KYE37BB", "max_age_seconds": 300}}
//! ```
//!
//! [`check_timestamp`] is the same rule without tower, for a caller-supplied `now`.

mod layer;

use std::task::{Context, Poll};
use std::time::Duration;

use asap_codec::rpc::RpcError;
use asap_model::{AsapError, Envelope, ErrorCode, Timestamp};
use serde_json::Value;
use tower_service::Service;

pub use layer::TimestampWindowLayer;

use crate::context::AsapRequest;
use crate::layers::future::EnvelopeFuture;
use crate::rejection::Rejection;

/// Oldest accepted envelope age, in seconds (reference constant).
pub const MAX_ENVELOPE_AGE_SECONDS: u64 = 300;

/// Largest accepted clock skew into the future, in seconds (reference constant).
pub const MAX_FUTURE_TOLERANCE_SECONDS: u64 = 30;

/// `data.error` of a timestamp refusal.
pub const INVALID_TIMESTAMP_SUMMARY: &str = "Invalid envelope timestamp";

/// The bounds of the accepted timestamp window.
///
/// ```
/// use std::time::Duration;
/// use asap_transport_server::layers::timestamp::Window;
///
/// let window = Window::default();
/// assert_eq!(window.max_age(), Duration::from_secs(300));
/// assert_eq!(window.max_future(), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    max_age: Duration,
    max_future: Duration,
}

impl Window {
    /// The reference window: 300 s into the past, 30 s into the future.
    pub const DEFAULT: Window = Window {
        max_age: Duration::from_secs(MAX_ENVELOPE_AGE_SECONDS),
        max_future: Duration::from_secs(MAX_FUTURE_TOLERANCE_SECONDS),
    };

    /// A window accepting envelopes at most `max_age` old and `max_future` ahead.
    pub const fn new(max_age: Duration, max_future: Duration) -> Self {
        Self {
            max_age,
            max_future,
        }
    }

    /// Oldest accepted age.
    pub const fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Largest accepted offset into the future.
    pub const fn max_future(&self) -> Duration {
        self.max_future
    }
}

impl Default for Window {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Checks `envelope.timestamp` against `now` (PROTOCOL §11.2).
///
/// Returns the `asap:protocol/invalid_timestamp` error the reference raises, with its exact
/// message and details, when the envelope is older than `window.max_age()` or further ahead
/// than `window.max_future()`. The age is checked first.
///
/// ```
/// use asap_model::{Envelope, ErrorCode, Timestamp};
/// use asap_transport_server::layers::timestamp::{Window, check_timestamp};
///
/// let envelope: Envelope = serde_json::from_value(serde_json::json!({
///     "id": "env-1",
///     "asap_version": "0.1",
///     "sender": "urn:asap:agent:a",
///     "recipient": "urn:asap:agent:b",
///     "payload_type": "task.request",
///     "payload": {},
///     "timestamp": "2026-01-01T12:00:00Z",
/// }))
/// .unwrap();
/// let now: Timestamp = "2026-01-01T12:05:00Z".parse().unwrap();
/// assert!(check_timestamp(&envelope, now, &Window::default()).is_ok());
///
/// let later: Timestamp = "2026-01-01T12:05:00.100Z".parse().unwrap();
/// let error = check_timestamp(&envelope, later, &Window::default()).unwrap_err();
/// assert_eq!(error.code, ErrorCode::InvalidTimestamp);
/// assert_eq!(
///     error.message,
///     "Envelope timestamp is too old: 300.1 seconds (max: 300 seconds)"
/// );
/// ```
pub fn check_timestamp(
    envelope: &Envelope,
    now: Timestamp,
    window: &Window,
) -> Result<(), AsapError> {
    let timestamp = envelope.timestamp;
    // Instants in microseconds; naive timestamps are stored as if UTC.
    let age_micros = i128::from(now.unix_micros()) - i128::from(timestamp.unix_micros());
    if age_micros > i128::try_from(window.max_age.as_micros()).unwrap_or(i128::MAX) {
        let age = timestamp.seconds_until(&now);
        let (max_text, max_value) = seconds_value(window.max_age);
        return Err(AsapError::new(
            ErrorCode::InvalidTimestamp,
            format!("Envelope timestamp is too old: {age:.1} seconds (max: {max_text} seconds)"),
        )
        .with_detail("timestamp", utc_isoformat(timestamp))
        .with_detail("age_seconds", age)
        .with_detail("envelope_id", envelope.id.as_str())
        .with_detail("max_age_seconds", max_value));
    }
    let future_micros = -age_micros;
    if future_micros > i128::try_from(window.max_future.as_micros()).unwrap_or(i128::MAX) {
        let offset = now.seconds_until(&timestamp);
        let (max_text, max_value) = seconds_value(window.max_future);
        return Err(AsapError::new(
            ErrorCode::InvalidTimestamp,
            format!(
                "Envelope timestamp is too far in the future: {offset:.1} seconds \
                 (max tolerance: {max_text} seconds)"
            ),
        )
        .with_detail("timestamp", utc_isoformat(timestamp))
        .with_detail("future_offset_seconds", offset)
        .with_detail("envelope_id", envelope.id.as_str())
        .with_detail("max_future_tolerance_seconds", max_value));
    }
    Ok(())
}

/// The JSON-RPC error of a timestamp refusal (`-32602`, `data.error` =
/// [`INVALID_TIMESTAMP_SUMMARY`]).
pub fn timestamp_rpc_error(error: &AsapError) -> RpcError {
    RpcError::asap(INVALID_TIMESTAMP_SUMMARY, error)
}

/// The instant in UTC as Python's `datetime.isoformat()` writes it: `+00:00`, and a
/// six-digit fraction only when the microseconds are not zero.
fn utc_isoformat(timestamp: Timestamp) -> String {
    let text = timestamp.to_utc().to_string();
    match text.strip_suffix('Z') {
        Some(local) => format!("{local}+00:00"),
        None => text,
    }
}

/// A bound as message text and JSON value: an integer when whole (like the reference's
/// constants), a float otherwise.
fn seconds_value(bound: Duration) -> (String, Value) {
    if bound.subsec_nanos() == 0 {
        (bound.as_secs().to_string(), Value::from(bound.as_secs()))
    } else {
        let seconds = bound.as_secs_f64();
        (seconds.to_string(), Value::from(seconds))
    }
}

/// Refuses envelopes outside the timestamp window; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct TimestampWindow<S> {
    inner: S,
    window: Window,
    clock: fn() -> Timestamp,
}

impl<S> TimestampWindow<S> {
    /// Wraps `inner` with `window`, reading the system clock.
    pub fn new(inner: S, window: Window) -> Self {
        Self {
            inner,
            window,
            clock: Timestamp::now,
        }
    }

    /// Reads "now" from `clock` instead of the system clock (for tests and simulations).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> Timestamp) -> Self {
        self.clock = clock;
        self
    }

    /// The window enforced.
    pub fn window(&self) -> &Window {
        &self.window
    }
}

impl<S> Service<AsapRequest> for TimestampWindow<S>
where
    S: Service<AsapRequest, Error = Rejection>,
{
    type Response = S::Response;
    type Error = Rejection;
    type Future = EnvelopeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: AsapRequest) -> Self::Future {
        if let Err(error) = check_timestamp(&request.envelope, (self.clock)(), &self.window) {
            tracing::warn!(
                target: crate::LOG_TARGET,
                envelope_id = %request.envelope.id.as_str(),
                sender = %request.envelope.sender,
                reason = %error.message,
                "envelope timestamp outside the accepted window"
            );
            return EnvelopeFuture::rejected(Rejection::Rpc(timestamp_rpc_error(&error)));
        }
        EnvelopeFuture::inner(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests;
