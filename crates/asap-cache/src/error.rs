//! [`FetchError`]: why a manifest could not be obtained.

use std::time::Duration;

/// Why a manifest could not be fetched.
///
/// The error is [`Clone`] because one failed fetch is reported to every caller that was
/// waiting on it (single-flight, see [`ManifestCache::get`](crate::ManifestCache::get)).
/// Implementors of [`ManifestFetcher`](crate::ManifestFetcher) map their own failures onto
/// these variants; [`FetchError::new`] covers anything else.
///
/// # Examples
///
/// ```
/// use asap_cache::FetchError;
///
/// let err = FetchError::status(404, "Not Found");
/// assert_eq!(err.to_string(), "manifest request failed with HTTP 404: Not Found");
/// assert_eq!(FetchError::new("boom").to_string(), "boom");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The connection could not be established or broke before a response arrived.
    #[error("connection error fetching manifest: {message}")]
    Connection {
        /// Human-readable description.
        message: String,
    },
    /// No response arrived in time.
    #[error("manifest request timeout after {after:?}")]
    Timeout {
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The server answered with an HTTP error status (≥ 400).
    #[error("manifest request failed with HTTP {status}: {message}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// Reason or (truncated) body.
        message: String,
    },
    /// The body was not JSON or not a valid manifest.
    #[error("invalid manifest: {message}")]
    InvalidManifest {
        /// What was wrong with it.
        message: String,
    },
    /// The fetcher answered [`Fetched::NotModified`](crate::Fetched::NotModified) although
    /// no `If-None-Match` was sent, so there is no entry to revalidate.
    #[error("manifest server answered 304 Not Modified to an unconditional request")]
    UnexpectedNotModified,
    /// Any other failure.
    #[error("{message}")]
    Other {
        /// Human-readable description.
        message: String,
    },
}

impl FetchError {
    /// A failure that fits no other variant ([`FetchError::Other`]).
    pub fn new(message: impl Into<String>) -> Self {
        Self::Other {
            message: message.into(),
        }
    }

    /// A [`FetchError::Connection`].
    pub fn connection(message: impl Into<String>) -> Self {
        Self::Connection {
            message: message.into(),
        }
    }

    /// A [`FetchError::Timeout`].
    pub fn timeout(after: Duration) -> Self {
        Self::Timeout { after }
    }

    /// A [`FetchError::Status`].
    pub fn status(status: u16, message: impl Into<String>) -> Self {
        Self::Status {
            status,
            message: message.into(),
        }
    }

    /// A [`FetchError::InvalidManifest`].
    pub fn invalid_manifest(message: impl Into<String>) -> Self {
        Self::InvalidManifest {
            message: message.into(),
        }
    }
}
