//! Rate limiting (PROTOCOL §11.4, processing step 2; `ASAP_RATE_LIMIT`, §17).
//!
//! - [`RateLimitSpec`] parses the reference's syntax (`10/second;100/minute`, the
//!   [`DEFAULT_RATE_LIMIT`]).
//! - [`RateLimiter`] enforces every item of a spec per key, with [`governor`]'s GCRA: a burst
//!   of `N`, then `N` per period, smoothly, instead of the reference's fixed windows (see its
//!   docs for the consequences and for how memory stays bounded).
//! - [`RateLimitLayer`] limits HTTP requests per peer IP, as the reference does;
//!   [`SenderRateLimitLayer`] limits envelopes per `sender`, as its documentation describes
//!   (I-04). [`RateLimitKey`] chooses between them in configuration.
//! - [`SharedRateLimitLayer`] counts in an [`asap_state::RateLimitStore`] instead, so that
//!   replicas share one budget (`AsapServerBuilder::rate_limit_store`).
//!
//! A refusal is [`Rejection::RateLimited`](crate::Rejection::RateLimited): HTTP 429 with
//! `Retry-After` and the JSON-RPC shaped body
//! `{"jsonrpc":"2.0","error":{"code":429,"message":"Rate limit exceeded","data":{"retry_after":1,"limit":"10 per 1 second"}},"id":null}`,
//! where `retry_after` is the number of seconds until the refusing limit admits the next
//! request (rounded up, at least 1) rather than the reference's constant 60.

mod layer;
mod limiter;
mod shared;
mod spec;

use std::fmt;
use std::str::FromStr;

pub(crate) use layer::OptionalRateLimit;
pub use layer::{
    RateLimit, RateLimitLayer, SenderRateLimit, SenderRateLimitLayer, UNKNOWN_PEER, peer_ip,
};
pub use limiter::{RateLimiter, SWEEP_EVERY, SWEEP_MIN_KEYS};
pub use shared::{SharedRateLimit, SharedRateLimitLayer};
pub use spec::{DEFAULT_RATE_LIMIT, RateLimitItem, RateLimitSpec, RateLimitSpecError, TimeUnit};

/// What requests are counted by.
///
/// Parses from `ip` or `sender` (ASCII case-insensitive, surrounding whitespace ignored) and
/// displays as the same words.
///
/// ```
/// use asap_transport_server::layers::ratelimit::RateLimitKey;
///
/// assert_eq!("sender".parse::<RateLimitKey>().unwrap(), RateLimitKey::Sender);
/// assert_eq!(RateLimitKey::default().to_string(), "ip");
/// assert!("user".parse::<RateLimitKey>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RateLimitKey {
    /// The peer IP address, before the body is read ([`RateLimitLayer`]); the reference's
    /// behaviour and the default.
    #[default]
    PeerIp,
    /// The envelope's `sender`, after authentication and validation
    /// ([`SenderRateLimitLayer`]).
    Sender,
}

impl RateLimitKey {
    /// The configuration word: `ip` or `sender`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RateLimitKey::PeerIp => "ip",
            RateLimitKey::Sender => "sender",
        }
    }
}

impl fmt::Display for RateLimitKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rate limit key other than `ip` or `sender`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rate limit key {0:?}: expected `ip` or `sender`")]
pub struct UnknownRateLimitKey(pub String);

impl FromStr for RateLimitKey {
    type Err = UnknownRateLimitKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim();
        if word.eq_ignore_ascii_case("ip") {
            Ok(RateLimitKey::PeerIp)
        } else if word.eq_ignore_ascii_case("sender") {
            Ok(RateLimitKey::Sender)
        } else {
            Err(UnknownRateLimitKey(s.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parses_and_displays() {
        for (s, key) in [
            ("ip", RateLimitKey::PeerIp),
            (" IP ", RateLimitKey::PeerIp),
            ("sender", RateLimitKey::Sender),
            ("Sender", RateLimitKey::Sender),
        ] {
            assert_eq!(s.parse::<RateLimitKey>(), Ok(key), "{s:?}");
        }
        for key in [RateLimitKey::PeerIp, RateLimitKey::Sender] {
            assert_eq!(key.to_string().parse::<RateLimitKey>(), Ok(key));
        }
        assert_eq!(
            "peer".parse::<RateLimitKey>(),
            Err(UnknownRateLimitKey("peer".into()))
        );
        assert!("".parse::<RateLimitKey>().is_err());
        assert_eq!(RateLimitKey::default(), RateLimitKey::PeerIp);
    }
}
