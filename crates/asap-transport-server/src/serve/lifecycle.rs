//! The life of one connection after accept: the first request must arrive in time, an idle
//! connection is closed after the idle timeout, and a connection asked to close is closed
//! gracefully, then dropped if it stays open without a request in flight.
//!
//! hyper closes neither an idle HTTP/2 connection (it has no server-side idle timeout) nor
//! a connection before its protocol is known, so this task keeps the timers itself, from the
//! connection's [`Activity`].

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::rt::{Read, Write};
use hyper::service::Service;
use hyper_util::server::conn::auto::{self, HttpServerConnExec};
use tokio::time::{Duration, Instant};

use super::activity::Activity;

/// How long a connection asked to close may stay open once nothing is in flight: enough for
/// an HTTP/2 peer to answer the GOAWAY's ping and for buffered responses to be written.
/// Then it is dropped, so a peer that never answers cannot keep its slot.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// A connection that can be asked to finish gracefully (GOAWAY for HTTP/2, no keep-alive for
/// HTTP/1.1); hyper-util's own trait for this is sealed.
pub(crate) trait GracefulConnection: Future {
    /// Starts the graceful shutdown; the connection must still be polled to finish.
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, E, B> GracefulConnection for auto::Connection<'_, I, S, E>
where
    S: Service<Request<Incoming>, Response = Response<B>>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    S::Future: 'static,
    I: Read + Write + Unpin + 'static,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    E: HttpServerConnExec<S::Future, B>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        auto::Connection::graceful_shutdown(self);
    }
}

/// The timers of a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// Time from accept to the first request (the header read timeout).
    pub(crate) first_request: Duration,
    /// Time without a request in flight before the connection is closed.
    pub(crate) idle: Duration,
    /// See [`CLOSE_GRACE`].
    pub(crate) close_grace: Duration,
}

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum Ended<T> {
    /// The connection finished (the client closed it, or it closed after a graceful
    /// shutdown, or with an error).
    Finished(T),
    /// No request arrived within the first-request timeout; dropped.
    NoRequest,
    /// Asked to close, it stayed open with nothing in flight past the close grace; dropped.
    Dropped,
}

/// Drives `connection` until it ends, applying `timeouts` and close requests.
pub(crate) async fn drive<C>(
    connection: C,
    activity: &Activity,
    timeouts: Timeouts,
) -> Ended<C::Output>
where
    C: GracefulConnection,
{
    tokio::pin!(connection);
    let mut closing = false;
    let first_request_by = Instant::now() + timeouts.first_request;
    // The earlier of the two checks; each check schedules the next.
    let mut deadline = first_request_by.min(Instant::now() + timeouts.idle);
    loop {
        tokio::select! {
            result = connection.as_mut() => return Ended::Finished(result),
            () = activity.close_requested(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
                deadline = Instant::now() + timeouts.close_grace;
            }
            () = tokio::time::sleep_until(deadline) => {
                let now = Instant::now();
                if closing {
                    // A request that arrived before the GOAWAY took effect runs to its end
                    // (the request timeout bounds it).
                    if activity.in_flight() == 0 {
                        return Ended::Dropped;
                    }
                    deadline = now + timeouts.close_grace;
                } else if !activity.has_served() {
                    if now >= first_request_by {
                        return Ended::NoRequest;
                    }
                    deadline = first_request_by;
                } else {
                    match activity.idle_since() {
                        Some(since) if now >= since + timeouts.idle => {
                            activity.mark_closing();
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                            deadline = now + timeouts.close_grace;
                        }
                        Some(since) => deadline = since + timeouts.idle,
                        None => deadline = now + timeouts.idle,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};

    use super::*;

    /// A connection that never finishes by itself, or finishes once shut down.
    struct Fake {
        shutdowns: Arc<AtomicUsize>,
        finishes_on_shutdown: bool,
    }

    impl Future for Fake {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.finishes_on_shutdown && self.shutdowns.load(Ordering::SeqCst) > 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    impl GracefulConnection for Fake {
        fn graceful_shutdown(self: Pin<&mut Self>) {
            self.shutdowns.fetch_add(1, Ordering::SeqCst);
        }
    }

    const TIMEOUTS: Timeouts = Timeouts {
        first_request: Duration::from_secs(10),
        idle: Duration::from_secs(60),
        close_grace: Duration::from_secs(1),
    };

    fn fake(finishes_on_shutdown: bool) -> (Fake, Arc<AtomicUsize>) {
        let shutdowns = Arc::new(AtomicUsize::new(0));
        let fake = Fake {
            shutdowns: Arc::clone(&shutdowns),
            finishes_on_shutdown,
        };
        (fake, shutdowns)
    }

    #[tokio::test(start_paused = true)]
    async fn no_request_within_the_first_request_timeout_drops_the_connection() {
        let activity = Activity::new(Instant::now());
        let (connection, shutdowns) = fake(false);
        let started = Instant::now();
        let ended = drive(connection, &activity, TIMEOUTS).await;
        assert!(matches!(ended, Ended::NoRequest), "{ended:?}");
        assert_eq!(started.elapsed(), TIMEOUTS.first_request);
        assert_eq!(shutdowns.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_idle_timeout_counts_from_the_end_of_the_last_request() {
        let activity = Arc::new(Activity::new(Instant::now()));
        let (connection, shutdowns) = fake(true);
        let started = Instant::now();
        let request = activity.begin();
        let driver = {
            let activity = Arc::clone(&activity);
            tokio::spawn(async move { drive(connection, &activity, TIMEOUTS).await })
        };
        // Busy for 90 s: longer than the idle timeout, and not closed meanwhile.
        tokio::time::sleep(Duration::from_secs(90)).await;
        assert!(!driver.is_finished());
        assert_eq!(shutdowns.load(Ordering::SeqCst), 0);
        drop(request);
        let ended = driver.await.unwrap();
        assert!(matches!(ended, Ended::Finished(())), "{ended:?}");
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_secs(150) && elapsed <= Duration::from_millis(150_001),
            "{elapsed:?}"
        );
        assert_eq!(shutdowns.load(Ordering::SeqCst), 1);
        assert!(activity.is_closing());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_timeout_shorter_than_the_first_request_timeout_applies_after_a_request() {
        let timeouts = Timeouts {
            idle: Duration::from_secs(2),
            ..TIMEOUTS
        };
        let activity = Arc::new(Activity::new(Instant::now()));
        let (connection, shutdowns) = fake(true);
        let started = Instant::now();
        drop(activity.begin());
        let ended = drive(connection, &activity, timeouts).await;
        assert!(matches!(ended, Ended::Finished(())), "{ended:?}");
        assert_eq!(started.elapsed(), timeouts.idle);
        assert_eq!(shutdowns.load(Ordering::SeqCst), 1);

        // Without a request, the first-request timeout still decides.
        let activity = Activity::new(Instant::now());
        let (connection, _) = fake(true);
        let started = Instant::now();
        let ended = drive(connection, &activity, timeouts).await;
        assert!(matches!(ended, Ended::NoRequest), "{ended:?}");
        assert_eq!(started.elapsed(), timeouts.first_request);
    }

    #[tokio::test(start_paused = true)]
    async fn a_close_request_shuts_down_then_drops_a_connection_that_stays_open() {
        let activity = Arc::new(Activity::new(Instant::now()));
        let (connection, shutdowns) = fake(false);
        drop(activity.begin()); // served one request, now idle
        activity.request_close();
        let started = Instant::now();
        let ended = drive(connection, &activity, TIMEOUTS).await;
        assert!(matches!(ended, Ended::Dropped), "{ended:?}");
        assert_eq!(started.elapsed(), TIMEOUTS.close_grace);
        assert_eq!(shutdowns.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_asked_to_close_keeps_its_request_in_flight() {
        let activity = Arc::new(Activity::new(Instant::now()));
        let (connection, shutdowns) = fake(false);
        let request = activity.begin();
        activity.request_close();
        let started = Instant::now();
        let driver = {
            let activity = Arc::clone(&activity);
            tokio::spawn(async move { drive(connection, &activity, TIMEOUTS).await })
        };
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!driver.is_finished(), "dropped with a request in flight");
        drop(request);
        let ended = driver.await.unwrap();
        assert!(matches!(ended, Ended::Dropped), "{ended:?}");
        assert!(started.elapsed() <= Duration::from_secs(31));
        assert_eq!(shutdowns.load(Ordering::SeqCst), 1);
    }
}
