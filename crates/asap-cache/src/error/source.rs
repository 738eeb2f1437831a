//! [`FetchSource`]: the underlying error of a [`FetchError`](crate::FetchError), shared so
//! that the fetch error stays [`Clone`].

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The underlying error (I/O, HTTP client, JSON, validation…) that caused a
/// [`FetchError`](crate::FetchError).
///
/// [`Error::source`] of the fetch error returns the wrapped error itself, not this wrapper,
/// so a walk down the source chain with `downcast_ref` finds `std::io::Error`,
/// `serde_json::Error` or the fetcher's own error type. The error is shared, not copied:
/// every caller that waited on one failed fetch (single-flight) gets the same source, and
/// two sources are equal only when they are the same shared error.
///
/// ```
/// use std::sync::Arc;
/// use asap_cache::FetchSource;
///
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
/// let source = FetchSource::new(io);
/// assert_eq!(source, source.clone());
/// assert_ne!(source, FetchSource::new("refused"));
/// assert!(source.get().downcast_ref::<std::io::Error>().is_some());
///
/// // An error that is already shared keeps its allocation.
/// let shared: Arc<dyn std::error::Error + Send + Sync> = Arc::new(std::fmt::Error);
/// assert!(Arc::ptr_eq(FetchSource::from(shared.clone()).shared(), &shared));
/// ```
#[derive(Clone)]
pub struct FetchSource(Arc<dyn Error + Send + Sync + 'static>);

impl FetchSource {
    /// Wraps `error` (any error type, or a message as `&str` / `String`).
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        Self(Arc::from(error.into()))
    }

    /// The underlying error.
    pub fn get(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }

    /// The shared error, for callers that keep it in an error type of their own without
    /// copying it.
    pub fn shared(&self) -> &Arc<dyn Error + Send + Sync + 'static> {
        &self.0
    }
}

/// Keeps an error that is already shared as it is (no second allocation, same identity).
impl From<Arc<dyn Error + Send + Sync + 'static>> for FetchSource {
    fn from(error: Arc<dyn Error + Send + Sync + 'static>) -> Self {
        Self(error)
    }
}

impl fmt::Debug for FetchSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for FetchSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

/// The same shared error, not merely equal text.
impl PartialEq for FetchSource {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for FetchSource {}
