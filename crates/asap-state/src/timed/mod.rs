//! Timing every store call: [`Timed`] wraps a store of any backend and reports each call
//! (store, operation, duration, success) to a [`StoreObserver`], such as an agent's metrics.
//!
//! ```
//! use std::sync::Arc;
//! use asap_state::timed::{StoreCall, StoreObserver};
//!
//! struct Print;
//! impl StoreObserver for Print {
//!     fn on_store_call(&self, call: &StoreCall) {
//!         println!("{}.{} took {:?} (ok: {})", call.store, call.operation, call.duration, call.ok);
//!     }
//! }
//! let stores = asap_state::Stores::memory().timed(Arc::new(Print));
//! # let _ = stores;
//! ```
//!
//! Each wrapped call costs one boxed future more than the store's own and two clock reads.
//! Every method is forwarded, the provided ones included, so a backend's own
//! implementations stay in use.

mod other;
mod snapshot;
mod task;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{StoreError, StoreFuture};

/// Receives one report per store call.
pub trait StoreObserver: Send + Sync + 'static {
    /// A call finished. Keep it short: it runs on the caller's task.
    fn on_store_call(&self, call: &StoreCall);
}

/// One finished store call.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct StoreCall {
    /// `tasks`, `snapshots`, `idempotency`, `nonces` or `rate_limits`.
    pub store: &'static str,
    /// The trait method, e.g. `transition` or `begin`.
    pub operation: &'static str,
    /// From the call to its result.
    pub duration: Duration,
    /// Whether it answered `Ok`.
    pub ok: bool,
}

/// A store whose calls are timed; see the [module docs](self).
pub struct Timed<S: ?Sized> {
    inner: Arc<S>,
    store: &'static str,
    observer: Arc<dyn StoreObserver>,
}

impl<S: ?Sized> std::fmt::Debug for Timed<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timed")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl<S: ?Sized> Timed<S> {
    /// `inner`, reporting its calls as `store` to `observer`.
    pub fn new(inner: Arc<S>, store: &'static str, observer: Arc<dyn StoreObserver>) -> Self {
        Self {
            inner,
            store,
            observer,
        }
    }
}

impl<S: ?Sized + Send + Sync> Timed<S> {
    /// `call` of the inner store, timed as `operation`.
    fn time<'a, T: Send + 'a>(
        &'a self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>> + Send + 'a,
    ) -> StoreFuture<'a, T> {
        Box::pin(async move {
            let started = Instant::now();
            let result = call.await;
            self.observer.on_store_call(&StoreCall {
                store: self.store,
                operation,
                duration: started.elapsed(),
                ok: result.is_ok(),
            });
            result
        })
    }
}

impl crate::Stores {
    /// These stores with every call of the task, snapshot, idempotency, nonce and
    /// rate-limit stores reported to `observer` (the ping store is left as it is).
    #[must_use]
    pub fn timed(self, observer: Arc<dyn StoreObserver>) -> Self {
        Self {
            tasks: Arc::new(Timed::new(self.tasks, "tasks", observer.clone())),
            snapshots: Arc::new(Timed::new(self.snapshots, "snapshots", observer.clone())),
            nonces: Arc::new(Timed::new(self.nonces, "nonces", observer.clone())),
            rate_limits: Arc::new(Timed::new(
                self.rate_limits,
                "rate_limits",
                observer.clone(),
            )),
            idempotency: Arc::new(Timed::new(self.idempotency, "idempotency", observer)),
            ping: self.ping,
        }
    }
}
