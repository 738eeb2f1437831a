//! The conformance suite: one async function per trait that checks a backend against every
//! clause of the trait's contract, atomicity included (feature `conformance`).
//!
//! Every check uses fresh ids and keys (ULIDs), leaves nothing live behind that a later run
//! could trip over (tasks end in a terminal status) and does not assume an empty store, so
//! the suite can run again and again against one persistent database. A failed check panics
//! with the contract clause it broke, like `assert!` in a test.
//!
//! Atomicity is checked under real concurrency: on a multi-threaded Tokio runtime the
//! concurrent calls run on 32 OS threads released together (the calling worker is handed
//! over with [`tokio::task::block_in_place`]); on a current-thread runtime they are only
//! interleaved as futures, which still races calls that await I/O but not in-process locks.
//! Waiting for TTLs and leases needs the runtime's timer.
//!
//! ```no_run
//! # async fn demo() {
//! let stores = asap_state::Stores::memory();
//! asap_state::conformance::all(&stores).await;
//! # }
//! ```

mod idempotency;
mod nonce;
mod ratelimit;
mod snapshot;
mod task;
mod task_counts;
mod task_walk;

use std::future::Future;

pub use idempotency::idempotency_store;
pub use nonce::nonce_store;
pub use ratelimit::rate_limit_store;
pub use snapshot::snapshot_store;
pub use task::task_store;
pub use task_counts::task_counts;

use crate::{Ping, Stores};

/// How many calls race in each atomicity check.
pub const RACERS: usize = 32;

/// Checks [`Ping`]: a reachable store answers `Ok`.
pub async fn ping<P: Ping + ?Sized>(store: &P) {
    if let Err(e) = store.ping().await {
        panic!("Ping: a reachable store answers Ok, got {e}");
    }
}

/// Runs every check against the stores of `stores`.
pub async fn all(stores: &Stores) {
    ping(&*stores.ping).await;
    task_store(&*stores.tasks).await;
    snapshot_store(&*stores.snapshots).await;
    nonce_store(&*stores.nonces).await;
    rate_limit_store(&*stores.rate_limits).await;
    idempotency_store(&*stores.idempotency).await;
}

/// Runs `f(0) … f(n - 1)` at the same time and returns their outputs in index order.
pub(crate) async fn concurrently<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> Fut + Sync,
    Fut: Future<Output = T>,
    T: Send,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| on_threads(&handle, n, &f))
        }
        _ => futures_util::future::join_all((0..n).map(&f)).await,
    }
}

fn on_threads<T, F, Fut>(handle: &tokio::runtime::Handle, n: usize, f: &F) -> Vec<T>
where
    F: Fn(usize) -> Fut + Sync,
    Fut: Future<Output = T>,
    T: Send,
{
    let start = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    handle.block_on(f(i))
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Sleeps on the runtime's timer (waiting for TTLs and leases to run out).
pub(crate) async fn sleep_ms(ms: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// A fresh unique text with `prefix`.
pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", asap_model::ids::new_ulid())
}
