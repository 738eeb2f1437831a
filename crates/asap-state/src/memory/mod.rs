//! In-process stores: every trait, bounded, for a single process and for tests.
//!
//! Each store keeps its memory flat under load: a capacity bound, with expired records
//! dropped first and the oldest records evicted after them (each type documents what it
//! evicts and what that costs). All operations are atomic (one lock per call, sharded for
//! the nonce, rate-limit and idempotency stores) and never wait on I/O: the returned futures
//! are ready at once. [`Ping`](crate::Ping) always answers `Ok`.
//!
//! Nothing survives the process: use SQLite (or a shared database) where state must outlive
//! a restart or be shared by several processes.

mod expiring;
mod idempotency;
mod nonce;
mod ratelimit;
mod snapshot;
mod task;

pub use idempotency::{DEFAULT_IDEMPOTENCY_CAPACITY, MemoryIdempotencyStore};
pub use nonce::{DEFAULT_NONCE_CAPACITY, DEFAULT_SHARDS, MemoryNonceStore};
pub use ratelimit::{DEFAULT_RATE_LIMIT_CAPACITY, MemoryRateLimitStore};
pub use snapshot::{DEFAULT_SNAPSHOT_CAPACITY, MemorySnapshotStore};
pub use task::{DEFAULT_TASK_CAPACITY, MemoryTaskStore};

use crate::{StoreError, StoreFuture};

fn ready<'a, T: Send + 'a>(result: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(result))
}
