use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use super::{MemoryNonceStore, NONCE_TTL_SECONDS, NonceCheck, NonceStore};

/// Applies [`NonceCheck`]: nonces are remembered in `store` for `ttl` (default
/// [`NONCE_TTL_SECONDS`]).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use asap_transport_server::layers::nonce::{MemoryNonceStore, NonceLayer};
///
/// // In-process store with the defaults (100 000 nonces, 600 s).
/// let layer = NonceLayer::default();
/// assert_eq!(layer.ttl(), Duration::from_secs(600));
///
/// // A store shared by several services, shorter TTL.
/// let store = Arc::new(MemoryNonceStore::with_capacity(1_000_000));
/// let layer = NonceLayer::new(store).with_ttl(Duration::from_secs(120));
/// assert_eq!(layer.ttl(), Duration::from_secs(120));
/// ```
#[derive(Clone)]
pub struct NonceLayer {
    store: Arc<dyn NonceStore>,
    ttl: Duration,
}

impl NonceLayer {
    /// Remembers nonces in `store` for [`NONCE_TTL_SECONDS`].
    pub fn new(store: Arc<dyn NonceStore>) -> Self {
        Self {
            store,
            ttl: Duration::from_secs(NONCE_TTL_SECONDS),
        }
    }

    /// Remembers nonces in a new [`MemoryNonceStore`] with its defaults.
    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryNonceStore::new()))
    }

    /// Sets how long a nonce is remembered. Keep it at least the timestamp window's maximum
    /// age, or a replay can arrive after its nonce is forgotten and before its timestamp is
    /// too old.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The store in use.
    pub fn store(&self) -> &Arc<dyn NonceStore> {
        &self.store
    }

    /// How long nonces are remembered.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

impl Default for NonceLayer {
    fn default() -> Self {
        Self::memory()
    }
}

impl std::fmt::Debug for NonceLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceLayer")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for NonceLayer {
    type Service = NonceCheck<S>;

    fn layer(&self, inner: S) -> Self::Service {
        NonceCheck::new(inner, Arc::clone(&self.store), self.ttl)
    }
}
