//! Lingering close: an HTTP/1.1 connection closed while its client may still be sending a
//! request body is drained for a bounded time before the socket is closed.
//!
//! # Why
//!
//! A server may answer before it has read the request body: 413 for a `Content-Length` over
//! the limit (decided from the headers), 413 for a streamed body crossing the limit, 415,
//! 429, 408. hyper then sends the response and, the body being left unread, shuts the
//! connection down. Closing a TCP socket whose receive buffer still holds unread bytes, or
//! that receives bytes after the close, makes the kernel answer with RST; a client that
//! writes its whole body before reading (Python's httpx and h11, many simple clients) is
//! still writing when that RST arrives: its write fails, or the RST discards the response
//! waiting in its receive buffer, and it sees a broken pipe or a reset instead of the 413.
//!
//! # What
//!
//! [`LingeringStream`] wraps the connection's socket. When hyper shuts the connection down,
//! the stream sends FIN at once (the client has the whole response and the end of the
//! stream), then, if the connection is [armed](LingerOnRefusal), reads and discards what the
//! client still sends until the client closes its side, and only then lets hyper drop the
//! socket. Like nginx's `lingering_close`, this is bounded:
//!
//! - [`LingerBounds::timeout`]: the longest wait for more data (nginx `lingering_timeout`);
//! - [`LingerBounds::time`]: the longest the whole drain lasts (nginx `lingering_time`);
//! - [`LingerBounds::max_bytes`]: the most bytes discarded.
//!
//! Whichever is reached first ends the drain and the socket is closed (a client still
//! sending then gets its RST, as before). Draining holds no buffer: each read goes into a
//! fixed [`DISCARD_CHUNK`]-byte array on the stack of the poll that makes it, so a lingering
//! connection costs its socket and one timer, whatever the client sends.
//!
//! # When
//!
//! A connection is armed by [`LingerOnRefusal`] when its latest HTTP/1 request carried a body
//! (`Content-Length` above zero, or chunked) and was answered with a 4xx or 5xx status: the
//! answers that may come before the body was read. Any other HTTP/1 answer disarms it, and
//! there is no lingering once the client has closed its side. hyper does not tell whether
//! the service read the body; the status stands for it, as nginx's default
//! (`lingering_close on`) lingers only when the client may still be sending. A connection on
//! which no request got through never lingers: a slow or silent client cut off by the header
//! read timeout is closed as before. HTTP/2 needs none of this: the early response ends its
//! stream with `RST_STREAM(NO_ERROR)` (RFC 9113 §8.1) and the connection stays open, its flow
//! control discarding the stream's remaining `DATA`.
//!
//! A lingering connection still holds its connection slot (it counts against
//! `max_connections`). It has no request in flight, so it is idle: among the first closed
//! when every slot is taken, closed at shutdown, and cut short by an idle timeout shorter
//! than `lingering_time`.
//!
//! # Alternatives
//!
//! Reading the rest of the body inside the service before answering would hold the 413
//! back while an arbitrary amount is read (and is what a size limit should not do). hyper's
//! `http1::Connection::without_shutdown` returns the socket after the exchange, but the
//! server speaks HTTP/1.1 and h2c on one port through hyper-util's `auto` connection, which
//! does not. Handing the socket back from a `Drop` would move the drain out of the
//! connection's task, where its slot and its close are managed. Draining inside the socket's
//! own shutdown keeps it in that task with a single wrapper. ADR 0002
//! (`docs/adr/0002-lingering-close.md`) records the measurements and the choice.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use http::{Request, Response, Version};
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Duration, Instant, Sleep};

/// Size of the stack array each discarding read fills.
pub(crate) const DISCARD_CHUNK: usize = 8 * 1024;

/// Bounds of a lingering close; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LingerBounds {
    /// Longest a drain lasts; zero turns lingering off.
    pub(crate) time: Duration,
    /// Longest wait for more data while draining.
    pub(crate) timeout: Duration,
    /// Most bytes read and discarded.
    pub(crate) max_bytes: u64,
}

impl From<&super::ConnectionSettings> for LingerBounds {
    fn from(settings: &super::ConnectionSettings) -> Self {
        Self {
            time: settings.lingering_time,
            timeout: settings.lingering_timeout,
            max_bytes: settings.lingering_bytes,
        }
    }
}

impl LingerBounds {
    fn enabled(&self) -> bool {
        !self.time.is_zero() && !self.timeout.is_zero() && self.max_bytes > 0
    }
}

/// Wraps a connection's socket and its service: the service arms the stream, the stream
/// lingers when it is shut down armed.
pub(crate) fn lingering<T, S>(
    io: T,
    service: S,
    bounds: LingerBounds,
) -> (LingeringStream<T>, LingerOnRefusal<S>) {
    let armed = Arc::new(AtomicBool::new(false));
    let stream = LingeringStream {
        inner: io,
        armed: Arc::clone(&armed),
        bounds,
        peer_closed: false,
        discarded: 0,
        state: State::Open,
    };
    (
        stream,
        LingerOnRefusal {
            inner: service,
            armed,
        },
    )
}

/// A socket whose shutdown is a lingering close when armed; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct LingeringStream<T> {
    inner: T,
    armed: Arc<AtomicBool>,
    bounds: LingerBounds,
    /// The client closed its side (a read returned end of stream).
    peer_closed: bool,
    /// Bytes discarded by the lingering close, once it is over.
    discarded: u64,
    state: State,
}

#[derive(Debug)]
enum State {
    Open,
    Draining(Drain),
    Closed,
}

/// Progress of one drain.
#[derive(Debug)]
struct Drain {
    /// Fires at the next moment the drain may have to end.
    timer: Pin<Box<Sleep>>,
    /// End of the whole drain.
    deadline: Instant,
    /// Time of the latest read that returned data.
    last_data: Instant,
    /// Bytes discarded so far.
    discarded: u64,
}

impl Drain {
    fn new(bounds: &LingerBounds) -> Self {
        let now = Instant::now();
        let deadline = now + bounds.time;
        Self {
            timer: Box::pin(tokio::time::sleep_until(
                (now + bounds.timeout).min(deadline),
            )),
            deadline,
            last_data: now,
            discarded: 0,
        }
    }

    /// Reads and discards until the client closes, a bound is reached or nothing is ready.
    fn poll_drain<T>(&mut self, io: &mut T, bounds: &LingerBounds, cx: &mut Context<'_>) -> Poll<()>
    where
        T: AsyncRead + Unpin,
    {
        let mut scratch = [0u8; DISCARD_CHUNK];
        // Each turn discards at least one byte or leaves, so `max_bytes` bounds the loop;
        // tokio's cooperative budget also makes a busy socket yield now and then.
        loop {
            let room = usize::try_from(bounds.max_bytes - self.discarded)
                .map_or(DISCARD_CHUNK, |left| left.min(DISCARD_CHUNK));
            let mut buf = ReadBuf::new(&mut scratch[..room]);
            match Pin::new(&mut *io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {
                    self.discarded += buf.filled().len() as u64;
                    if self.discarded >= bounds.max_bytes {
                        return Poll::Ready(());
                    }
                    self.last_data = Instant::now();
                }
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => break,
            }
        }
        // The timer is re-armed lazily: when it fires, the drain ends unless data came in
        // since, in which case it waits for the rest of the idle timeout. At most two turns.
        loop {
            ready!(self.timer.as_mut().poll(cx));
            let next = (self.last_data + bounds.timeout).min(self.deadline);
            if next <= Instant::now() {
                return Poll::Ready(());
            }
            self.timer.as_mut().reset(next);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for LingeringStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let room = buf.remaining();
        let filled = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if room > 0 && buf.filled().len() == filled {
            self.peer_closed = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for LingeringStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    /// Sends FIN, then drains while armed; see the [module docs](self).
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Open => {
                    ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                    let linger = this.bounds.enabled()
                        && !this.peer_closed
                        && this.armed.load(Ordering::Acquire);
                    if !linger {
                        this.state = State::Closed;
                        return Poll::Ready(Ok(()));
                    }
                    tracing::trace!(target: crate::LOG_TARGET, "lingering close");
                    this.state = State::Draining(Drain::new(&this.bounds));
                }
                State::Draining(drain) => {
                    ready!(drain.poll_drain(&mut this.inner, &this.bounds, cx));
                    this.discarded = drain.discarded;
                    tracing::trace!(
                        target: crate::LOG_TARGET,
                        discarded = this.discarded,
                        "lingering close done"
                    );
                    this.state = State::Closed;
                    return Poll::Ready(Ok(()));
                }
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// Arms its connection's [`LingeringStream`] when an HTTP/1 request with a body is answered
/// with a 4xx or 5xx status, and disarms it on any other HTTP/1 answer.
#[derive(Debug, Clone)]
pub(crate) struct LingerOnRefusal<S> {
    inner: S,
    armed: Arc<AtomicBool>,
}

impl<S, B, R> hyper::service::Service<Request<B>> for LingerOnRefusal<S>
where
    S: hyper::service::Service<Request<B>, Response = Response<R>>,
    B: Body,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Refusal<S::Future>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let http1 = request.version() <= Version::HTTP_11;
        let has_body = !request.body().is_end_stream();
        Refusal {
            inner: self.inner.call(request),
            armed: http1.then(|| Arc::clone(&self.armed)),
            has_body,
        }
    }
}

pin_project! {
    /// The response future of [`LingerOnRefusal`].
    #[derive(Debug)]
    pub(crate) struct Refusal<F> {
        #[pin]
        inner: F,
        // `None` for HTTP/2 requests.
        armed: Option<Arc<AtomicBool>>,
        has_body: bool,
    }
}

impl<F, R, E> Future for Refusal<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let (Some(armed), Ok(response)) = (this.armed.take(), &result) {
            let status = response.status();
            let refused = status.is_client_error() || status.is_server_error();
            armed.store(*this.has_body && refused, Ordering::Release);
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests;
