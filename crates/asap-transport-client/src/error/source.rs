//! [`ErrorSource`]: the underlying error of a [`ClientError`](crate::ClientError), shared so
//! that the client error stays [`Clone`].

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The underlying error (hyper, hyper-util, I/O, TLS, JSON…) that caused a
/// [`ClientError`](crate::ClientError).
///
/// It is what [`Error::source`] of the client error returns — the wrapped error itself, not
/// this wrapper — so the usual source-chain walk with `downcast_ref` finds
/// `hyper_util::client::legacy::Error`, `std::io::Error`, `rustls::Error` and the rest. The
/// error is shared, not copied: clones of a client error hold the same source, and two
/// sources are equal only when they are the same shared error.
///
/// ```
/// use asap_transport_client::ClientError;
///
/// fn io_kind(error: &ClientError) -> Option<std::io::ErrorKind> {
///     let mut next = std::error::Error::source(error);
///     while let Some(cause) = next {
///         if let Some(io) = cause.downcast_ref::<std::io::Error>() {
///             return Some(io.kind());
///         }
///         next = cause.source();
///     }
///     None
/// }
/// # let _ = io_kind;
/// ```
#[derive(Clone)]
pub struct ErrorSource(Arc<dyn Error + Send + Sync + 'static>);

impl ErrorSource {
    /// Wraps `error`.
    pub(crate) fn new(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        Self(Arc::from(error.into()))
    }

    /// Keeps an error that is already shared (the cache's
    /// [`FetchSource`](asap_cache::FetchSource)) without wrapping it again.
    pub(crate) fn from_shared(error: Arc<dyn Error + Send + Sync + 'static>) -> Self {
        Self(error)
    }

    /// The shared error, to hand on without copying (to the cache's
    /// [`FetchError`](asap_cache::FetchError)).
    pub(crate) fn shared(&self) -> Arc<dyn Error + Send + Sync + 'static> {
        Arc::clone(&self.0)
    }

    /// The underlying error.
    pub fn get(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }

    /// The underlying error and its own sources, in order.
    pub(crate) fn chain(&self) -> impl Iterator<Item = &(dyn Error + 'static)> {
        let first: &(dyn Error + 'static) = self.get();
        std::iter::successors(Some(first), |&e| e.source())
    }
}

impl fmt::Debug for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

/// The same shared error (clones of one client error), not merely equal text.
impl PartialEq for ErrorSource {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// An error and its sources as one line, `: `-separated, without repeating a cause whose text
/// the line already holds.
pub(crate) fn chain_text(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_the_error_and_walks_its_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let source = ErrorSource::new(io);
        let clone = source.clone();
        assert_eq!(source, clone);
        assert_ne!(source, ErrorSource::new("refused"));
        assert_eq!(source.to_string(), "refused");
        let kinds: Vec<_> = source
            .chain()
            .filter_map(|e| e.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind)
            .collect();
        assert_eq!(kinds, [std::io::ErrorKind::ConnectionRefused]);
    }
}
