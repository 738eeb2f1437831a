//! Cooperative yielding for CPU-bound (de)compression loops.
//!
//! Decoding from an in-memory buffer never returns `Pending`, so a 10 MiB body would otherwise
//! be processed in a single poll and hold an executor thread for that long. Yielding once per
//! [`YIELD_INTERVAL`] bytes of output lets other tasks run in between. The yield works on any
//! executor: it wakes its own task and returns `Pending` once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How many output bytes (or equivalent work) are produced between two yields.
pub(crate) const YIELD_INTERVAL: usize = 1024 * 1024;

/// Counts produced bytes and yields to the executor every [`YIELD_INTERVAL`] bytes.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    since_yield: usize,
}

impl Budget {
    /// Records `produced` bytes of output (or equivalent work), yielding if the interval is
    /// used up.
    pub(crate) async fn spend(&mut self, produced: usize) {
        self.since_yield = self.since_yield.saturating_add(produced);
        if self.since_yield >= YIELD_INTERVAL {
            self.since_yield = 0;
            YieldNow { yielded: false }.await;
        }
    }
}

/// Returns `Pending` exactly once, after waking its task.
#[derive(Debug)]
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
