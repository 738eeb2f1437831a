//! The overall deadline of one send ([`ClientConfig::deadline`](crate::ClientConfig)):
//! every attempt and every wait between attempts happen before it.

use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::Either;
use tokio::time::Instant;

use crate::error::ClientError;

/// The clock of one send, started with the send.
///
/// Uses `tokio::time`, so paused-time tests see it like every other wait.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SendDeadline {
    started: Instant,
    /// The configured deadline and the instant it ends; `None`: unbounded.
    limit: Option<(Duration, Instant)>,
}

impl SendDeadline {
    /// Starts the clock now. A deadline too far away to represent is no deadline.
    pub(crate) fn start(deadline: Option<Duration>) -> Self {
        let started = Instant::now();
        Self {
            started,
            limit: deadline.and_then(|d| Some((d, started.checked_add(d)?))),
        }
    }

    /// Runs `future` to completion, or drops it and returns `None` once the deadline has
    /// passed.
    ///
    /// A plain function, not an `async fn`: an `async fn` would keep `future` (its argument)
    /// and the timer wrapping it side by side in its own future, doubling the size of what the
    /// send moves around; this returns just the timer around `future`.
    pub(crate) fn run<F: Future>(&self, future: F) -> impl Future<Output = Option<F::Output>> {
        match self.limit {
            Some((_, at)) => Either::Left(tokio::time::timeout_at(at, future).map(Result::ok)),
            None => Either::Right(future.map(Some)),
        }
    }

    /// Whether a wait of `delay` starting now ends before the deadline, leaving time for
    /// the attempt that follows it.
    pub(crate) fn allows_wait(&self, delay: Duration) -> bool {
        match self.limit {
            Some((_, at)) => Instant::now()
                .checked_add(delay)
                .is_some_and(|end| end < at),
            None => true,
        }
    }

    /// [`ClientError::DeadlineExceeded`] after `attempts` attempts.
    pub(crate) fn exceeded(
        &self,
        attempts: u32,
        retry_after: Option<Duration>,
        last_error: Option<ClientError>,
    ) -> ClientError {
        ClientError::DeadlineExceeded {
            deadline: self.limit.map(|(d, _)| d).unwrap_or(Duration::MAX),
            elapsed: self.started.elapsed(),
            attempts,
            retry_after,
            last_error: last_error.map(Box::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn cuts_futures_and_refuses_waits_past_the_deadline() {
        let deadline = SendDeadline::start(Some(Duration::from_secs(10)));
        assert!(deadline.allows_wait(Duration::from_secs(9)));
        assert!(!deadline.allows_wait(Duration::from_secs(10)));
        assert!(!deadline.allows_wait(Duration::MAX));
        assert_eq!(deadline.run(async { 7 }).await, Some(7));

        let cut = deadline
            .run(tokio::time::sleep(Duration::from_secs(60)))
            .await;
        assert_eq!(cut, None);
        let error = deadline.exceeded(2, Some(Duration::from_secs(30)), None);
        assert_eq!(
            error,
            ClientError::DeadlineExceeded {
                deadline: Duration::from_secs(10),
                elapsed: Duration::from_secs(10),
                attempts: 2,
                retry_after: Some(Duration::from_secs(30)),
                last_error: None,
            }
        );
        assert!(!deadline.allows_wait(Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn no_deadline_never_cuts() {
        for unbounded in [None, Some(Duration::MAX)] {
            let deadline = SendDeadline::start(unbounded);
            assert!(deadline.allows_wait(Duration::from_secs(86_400)));
            let slept = deadline.run(tokio::time::sleep(Duration::from_secs(3600)));
            assert_eq!(slept.await, Some(()));
        }
    }
}
