//! The handler registry and the dispatching service.
//!
//! Handlers are registered per exact `payload_type` string before the server starts; the
//! registry is then shared read-only between all connections (no lock on the hot path).

mod blocking;
mod dispatch;
mod handler;

use std::collections::HashMap;
use std::sync::Arc;

pub use blocking::{BlockingPool, default_max_threads};
pub use dispatch::Dispatch;
pub use handler::{
    BlockingHandler, BoxError, Handler, HandlerError, HandlerFn, HandlerFuture, handler_fn,
};

#[derive(Clone)]
pub(crate) enum Entry {
    Async(Arc<dyn Handler>),
    Blocking(Arc<dyn BlockingHandler>),
}

/// Handlers by payload type.
///
/// ```
/// use asap_transport_server::registry::{HandlerRegistry, handler_fn};
///
/// let mut registry = HandlerRegistry::new();
/// registry.register("task.request", handler_fn(|req| async move {
///     Ok(req.envelope) // a real handler builds a response envelope
/// }));
/// assert!(registry.contains("task.request"));
/// assert!(!registry.contains("TaskRequest")); // exact, case-sensitive
/// ```
#[derive(Clone, Default)]
pub struct HandlerRegistry {
    /// Keyed by `Arc<str>`: a request's future holds its payload type (for its log and
    /// metrics) as a reference count, not a copy.
    handlers: HashMap<Arc<str>, Entry>,
}

impl std::fmt::Debug for HandlerRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut types: Vec<_> = self.handlers.keys().collect();
        types.sort();
        f.debug_struct("HandlerRegistry")
            .field("payload_types", &types)
            .finish()
    }
}

impl HandlerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers an async handler for `payload_type`, replacing any previous one.
    pub fn register(
        &mut self,
        payload_type: impl Into<String>,
        handler: impl Handler,
    ) -> &mut Self {
        self.handlers.insert(
            Arc::from(payload_type.into()),
            Entry::Async(Arc::new(handler)),
        );
        self
    }

    /// Registers a synchronous handler, run on the bounded blocking pool.
    pub fn register_blocking(
        &mut self,
        payload_type: impl Into<String>,
        handler: impl BlockingHandler,
    ) -> &mut Self {
        self.handlers.insert(
            Arc::from(payload_type.into()),
            Entry::Blocking(Arc::new(handler)),
        );
        self
    }

    /// Removes the handler of `payload_type`; returns whether there was one.
    pub fn unregister(&mut self, payload_type: &str) -> bool {
        self.handlers.remove(payload_type).is_some()
    }

    /// Whether a handler is registered for `payload_type` (exact match).
    pub fn contains(&self, payload_type: &str) -> bool {
        self.handlers.contains_key(payload_type)
    }

    /// Registered payload types, sorted.
    pub fn payload_types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = self.handlers.keys().map(|k| &**k).collect();
        types.sort_unstable();
        types
    }

    /// The handler of `payload_type`, with the registered name.
    pub(crate) fn get(&self, payload_type: &str) -> Option<(&Arc<str>, &Entry)> {
        self.handlers.get_key_value(payload_type)
    }
}
