//! What one connection is doing: requests in flight, since when it has been idle, and
//! whether it has been asked to close.
//!
//! The request path touches only this connection's atomics (one increment when a request
//! starts, one decrement when its response body is done or dropped); the connection's own
//! task reads them for the idle timeout, and the [registry](super::registry) reads them when
//! it looks for idle connections to close. No lock is shared between connections.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::sync::Notify;
use tokio::time::{Duration, Instant};

/// Activity of one connection.
#[derive(Debug)]
pub(crate) struct Activity {
    /// Time origin of `idle_since` (the registry's creation), shared by all connections so
    /// that their idle times compare.
    epoch: Instant,
    /// Requests whose response has not been fully handed to the connection yet.
    in_flight: AtomicUsize,
    /// Milliseconds after `epoch` when `in_flight` last dropped to zero (or the connection
    /// was accepted); meaningful only while `in_flight` is zero.
    idle_since: AtomicU64,
    /// Whether any request has started on this connection.
    served: AtomicBool,
    /// Whether the connection has been asked to close (idle timeout, reclaim, shutdown).
    closing: AtomicBool,
    /// Wakes the connection's task when another task asks it to close.
    close: Notify,
}

impl Activity {
    /// A connection accepted now: idle, no request yet.
    pub(crate) fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(millis(epoch, Instant::now())),
            served: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        }
    }

    /// Counts a request as in flight until the returned guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if !self.served.load(Ordering::Relaxed) {
            self.served.store(true, Ordering::Relaxed);
        }
        InFlight(Arc::clone(self))
    }

    /// Requests in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Whether any request has started on this connection.
    pub(crate) fn has_served(&self) -> bool {
        self.served.load(Ordering::Relaxed)
    }

    /// Since when the connection has had no request in flight, or `None` while it has one.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        if self.in_flight() > 0 {
            return None;
        }
        let since = self.idle_since.load(Ordering::Acquire);
        Some(self.epoch + Duration::from_millis(since))
    }

    /// Marks the connection as closing and wakes its task; `false` if it already was.
    pub(crate) fn request_close(&self) -> bool {
        let first = self.mark_closing();
        if first {
            self.close.notify_one();
        }
        first
    }

    /// Marks the connection as closing without waking its task (the task itself decided to
    /// close); `false` if it already was.
    pub(crate) fn mark_closing(&self) -> bool {
        !self.closing.swap(true, Ordering::AcqRel)
    }

    /// Whether the connection has been asked to close.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Resolves once [`Activity::request_close`] has been called (also when it was called
    /// before this future was created).
    pub(crate) async fn close_requested(&self) {
        self.close.notified().await;
    }
}

/// A request in flight; dropping it (response body done, or the request abandoned) ends it.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A request starting right now may run before this store; the stale value is
            // harmless because an idle time is only read while nothing is in flight.
            let now = millis(activity.epoch, Instant::now());
            activity.idle_since.store(now, Ordering::Release);
        }
    }
}

pin_project! {
    /// A response body that keeps its request [in flight](InFlight) until hyper has taken
    /// the whole body and dropped it (or dropped it unfinished, on a reset stream or a
    /// closed connection). No body adapter of `http-body-util` carries a value to drop, so
    /// this one forwards every call unchanged.
    #[derive(Debug)]
    pub(crate) struct InFlightBody<B> {
        #[pin]
        body: B,
        in_flight: InFlight,
    }
}

impl<B> InFlightBody<B> {
    /// `body`, with `in_flight` ending when it is dropped.
    pub(crate) fn new(body: B, in_flight: InFlight) -> Self {
        Self { body, in_flight }
    }
}

impl<B: Body> Body for InFlightBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

fn millis(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_requests_make_a_connection_busy_until_their_guards_drop() {
        let activity = Arc::new(Activity::new(Instant::now()));
        assert!(!activity.has_served());
        assert!(activity.idle_since().is_some(), "idle from the start");
        let first = activity.begin();
        let second = activity.begin();
        assert!(activity.has_served());
        assert_eq!(activity.in_flight(), 2);
        assert_eq!(activity.idle_since(), None);
        drop(first);
        assert_eq!(
            activity.idle_since(),
            None,
            "one request is still in flight"
        );
        let before = Instant::now();
        drop(second);
        let since = activity.idle_since().expect("idle again");
        // Millisecond resolution: the recorded time is at most 1 ms before the drop.
        assert!(since + Duration::from_millis(1) >= before);
        assert_eq!(activity.in_flight(), 0);
    }

    #[test]
    fn a_close_is_requested_once() {
        let activity = Activity::new(Instant::now());
        assert!(!activity.is_closing());
        assert!(activity.request_close());
        assert!(!activity.request_close());
        assert!(!activity.mark_closing());
        assert!(activity.is_closing());
    }

    #[tokio::test]
    async fn a_response_body_keeps_its_request_in_flight_until_dropped() {
        use http_body_util::{BodyExt, Full};

        let activity = Arc::new(Activity::new(Instant::now()));
        let body = InFlightBody::new(
            Full::new(bytes::Bytes::from_static(b"{}")),
            activity.begin(),
        );
        assert_eq!(body.size_hint().exact(), Some(2));
        assert!(!body.is_end_stream());
        let mut body = Box::pin(body);
        let frame = body.frame().await.expect("a frame").expect("infallible");
        assert_eq!(frame.into_data().ok().as_deref(), Some(&b"{}"[..]));
        assert!(body.is_end_stream());
        assert_eq!(
            activity.in_flight(),
            1,
            "in flight until the body is dropped"
        );
        drop(body);
        assert_eq!(activity.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_close_requested_before_waiting_is_not_lost() {
        let activity = Activity::new(Instant::now());
        activity.request_close();
        tokio::time::timeout(Duration::from_secs(5), activity.close_requested())
            .await
            .expect("the stored notification is seen");
    }
}
