//! The bounded pool that runs synchronous handlers.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Default bound of concurrently running blocking handlers: `min(32, cpus + 4)`.
pub fn default_max_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    (cpus + 4).min(32)
}

/// Bounds concurrent blocking handlers; a request that finds every slot busy is refused
/// immediately (no queueing), as the protocol specifies (HTTP 503).
#[derive(Debug, Clone)]
pub struct BlockingPool {
    slots: Arc<Semaphore>,
    max: usize,
}

impl BlockingPool {
    /// A pool of `max` slots.
    pub fn new(max: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// The configured bound.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Slots in use right now.
    pub fn active(&self) -> usize {
        self.max - self.slots.available_permits()
    }

    /// Takes a slot, or returns `None` when all are busy.
    pub fn try_acquire(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.slots).try_acquire_owned().ok()
    }
}

impl Default for BlockingPool {
    fn default() -> Self {
        Self::new(default_max_threads())
    }
}
