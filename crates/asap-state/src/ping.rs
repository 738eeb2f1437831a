use crate::StoreFuture;

/// A store that can say whether it is reachable (for the server's `/ready`).
pub trait Ping: Send + Sync {
    /// `Ok(())` when the store answers now; an [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable)
    /// error otherwise. Cheap: called on every readiness probe.
    fn ping(&self) -> StoreFuture<'_, ()>;
}
