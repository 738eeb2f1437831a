//! [`FetchError`]: why a manifest could not be obtained.
//!
//! Errors caused by an underlying error (I/O, the HTTP client, JSON, validation) keep it as
//! their [`source`](std::error::Error::source), shared in a [`FetchSource`] so that
//! [`FetchError`] stays [`Clone`]: one failed fetch is handed to every waiting caller.

mod source;

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use source::FetchSource;

/// Why a manifest could not be fetched.
///
/// The error is [`Clone`] because one failed fetch is reported to every caller that was
/// waiting on it (single-flight, see [`ManifestCache::get`](crate::ManifestCache::get)).
/// Implementors of [`ManifestFetcher`](crate::ManifestFetcher) map their own failures onto
/// these variants; [`FetchError::new`] covers anything else. The error that caused the
/// failure goes in with [`with_source`](FetchError::with_source) and comes back as the
/// error's [`source`](Error::source), so callers can tell a refused connection from a
/// DNS failure, or find the JSON error's line and column.
///
/// Equality compares every field; two sources are equal when they are the same shared
/// error (see [`FetchSource`]).
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use asap_cache::FetchError;
///
/// let err = FetchError::status(404, "Not Found");
/// assert_eq!(err.to_string(), "manifest request failed with HTTP 404: Not Found");
/// assert_eq!(FetchError::new("boom").to_string(), "boom");
///
/// let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
/// let err = FetchError::connection("tcp connect to 127.0.0.1:1").with_source(refused);
/// let io = err.source().and_then(|e| e.downcast_ref::<std::io::Error>()).unwrap();
/// assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchError {
    /// The connection could not be established or broke before a response arrived.
    #[non_exhaustive]
    Connection {
        /// Human-readable description.
        message: String,
        /// The I/O or HTTP client error, when there is one (also the error's
        /// [`source`](Error::source)).
        source: Option<FetchSource>,
    },
    /// No response arrived in time.
    Timeout {
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The server answered with an HTTP error status (≥ 400).
    Status {
        /// HTTP status code.
        status: u16,
        /// Reason or (truncated) body.
        message: String,
    },
    /// The body was not JSON or not a valid manifest.
    #[non_exhaustive]
    InvalidManifest {
        /// What was wrong with it.
        message: String,
        /// The JSON or validation error, when there is one (also the error's
        /// [`source`](Error::source)).
        source: Option<FetchSource>,
    },
    /// The fetcher answered [`Fetched::NotModified`](crate::Fetched::NotModified) although
    /// no `If-None-Match` was sent, so there is no entry to revalidate.
    UnexpectedNotModified,
    /// Any other failure.
    #[non_exhaustive]
    Other {
        /// Human-readable description.
        message: String,
        /// The underlying error, when there is one (also the error's
        /// [`source`](Error::source)).
        source: Option<FetchSource>,
    },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connection { message, .. } => {
                write!(f, "connection error fetching manifest: {message}")
            }
            Self::Timeout { after } => write!(f, "manifest request timeout after {after:?}"),
            Self::Status { status, message } => {
                write!(f, "manifest request failed with HTTP {status}: {message}")
            }
            Self::InvalidManifest { message, .. } => write!(f, "invalid manifest: {message}"),
            Self::UnexpectedNotModified => {
                f.write_str("manifest server answered 304 Not Modified to an unconditional request")
            }
            Self::Other { message, .. } => f.write_str(message),
        }
    }
}

impl Error for FetchError {
    /// The underlying error itself (not the [`FetchSource`] wrapper).
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.fetch_source().map(|s| {
            let source: &(dyn Error + 'static) = s.get();
            source
        })
    }
}

impl FetchError {
    /// A failure that fits no other variant ([`FetchError::Other`]).
    pub fn new(message: impl Into<String>) -> Self {
        Self::Other {
            message: message.into(),
            source: None,
        }
    }

    /// A [`FetchError::Connection`].
    pub fn connection(message: impl Into<String>) -> Self {
        Self::Connection {
            message: message.into(),
            source: None,
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
            source: None,
        }
    }

    /// The same error caused by `error`, which becomes its [`source`](Error::source).
    ///
    /// Only [`Connection`](Self::Connection), [`InvalidManifest`](Self::InvalidManifest)
    /// and [`Other`](Self::Other) keep a source; the other variants say all there is to
    /// say (a timeout, an HTTP status) and are returned unchanged.
    pub fn with_source(self, error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        self.with_fetch_source(FetchSource::new(error))
    }

    /// Like [`with_source`](Self::with_source), for an error that is already shared
    /// (an `Arc`): it is kept as it is, not wrapped again.
    pub fn with_shared_source(self, error: Arc<dyn Error + Send + Sync + 'static>) -> Self {
        self.with_fetch_source(FetchSource::from(error))
    }

    fn with_fetch_source(mut self, cause: FetchSource) -> Self {
        match &mut self {
            Self::Connection { source, .. }
            | Self::InvalidManifest { source, .. }
            | Self::Other { source, .. } => *source = Some(cause),
            Self::Timeout { .. } | Self::Status { .. } | Self::UnexpectedNotModified => {}
        }
        self
    }

    /// The shared underlying error, for callers that keep it in an error type of their
    /// own ([`source`](Error::source) gives the same error as a reference).
    pub fn fetch_source(&self) -> Option<&FetchSource> {
        match self {
            Self::Connection { source, .. }
            | Self::InvalidManifest { source, .. }
            | Self::Other { source, .. } => source.as_ref(),
            Self::Timeout { .. } | Self::Status { .. } | Self::UnexpectedNotModified => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_without_a_source_ignore_one() {
        let timeout = FetchError::timeout(Duration::from_secs(1)).with_source("unused");
        assert_eq!(timeout, FetchError::timeout(Duration::from_secs(1)));
        assert!(timeout.source().is_none());
        let status = FetchError::status(500, "boom").with_source("unused");
        assert!(status.fetch_source().is_none());
    }

    #[test]
    fn source_is_the_wrapped_error_and_clones_share_it() {
        let err = FetchError::invalid_manifest("bad").with_source(std::fmt::Error);
        let clone = err.clone();
        assert_eq!(err, clone);
        assert_ne!(
            err,
            FetchError::invalid_manifest("bad").with_source(std::fmt::Error)
        );
        assert!(
            err.source()
                .is_some_and(|e| e.downcast_ref::<std::fmt::Error>().is_some())
        );
        assert_eq!(err.to_string(), "invalid manifest: bad");
    }
}
