//! Connections counted as they open and close, for `asap_client_connections_open`.
//!
//! hyper-util's pool says neither how many connections it holds nor which are idle, and the
//! request slots of [`pool`](crate::pool) count requests, not connections. So the connector
//! under the client wraps each connection it makes in [`Counted`], whose guard gives the
//! connection back to the count when hyper drops it (closed by either side, failed, or
//! expired from the idle pool). With HTTP/1.1, idle connections are the open ones less the
//! slots in use. Without an observer nothing is counted: the wrapper is a pass-through.

use std::collections::HashMap;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use tower_service::Service;

use crate::observe::Reporter;
use crate::transport::host_key;

/// Open connections per `host:port`, and where changes are reported.
#[derive(Debug)]
struct Open {
    reporter: Reporter,
    counts: Mutex<HashMap<String, usize>>,
}

impl Open {
    /// Adds `delta` (+1 or −1) to the count of `peer` and reports the new count.
    fn change(&self, peer: &str, opened: bool) {
        let now = {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let count = counts.entry(peer.to_owned()).or_default();
            *count = if opened {
                *count + 1
            } else {
                count.saturating_sub(1)
            };
            let now = *count;
            if now == 0 {
                counts.remove(peer);
            }
            now
        };
        self.reporter.connection(peer, now);
    }
}

/// A connector whose connections are counted (when its reporter is on).
#[derive(Debug, Clone)]
pub(crate) struct Counting<C> {
    inner: C,
    open: Option<Arc<Open>>,
}

impl<C> Counting<C> {
    pub(crate) fn new(inner: C, reporter: &Reporter) -> Self {
        let open = reporter.is_on().then(|| {
            Arc::new(Open {
                reporter: reporter.clone(),
                counts: Mutex::new(HashMap::new()),
            })
        });
        Self { inner, open }
    }
}

impl<C> Service<Uri> for Counting<C>
where
    C: Service<Uri>,
    C::Future: Send + 'static,
{
    type Response = Counted<C::Response>;
    type Error = C::Error;
    // Boxed: a connection is made once per many requests.
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let guard = self.open.clone().map(|open| (open, host_key(&uri)));
        let connecting = self.inner.call(uri);
        Box::pin(async move {
            let io = connecting.await?;
            let guard = guard.map(|(open, peer)| {
                open.change(&peer, true);
                Guard { open, peer }
            });
            Ok(Counted { io, _guard: guard })
        })
    }
}

/// Counts its connection out when dropped.
#[derive(Debug)]
struct Guard {
    open: Arc<Open>,
    peer: String,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.open.change(&self.peer, false);
    }
}

/// A connection, counted while it lives.
#[derive(Debug)]
pub(crate) struct Counted<T> {
    io: T,
    _guard: Option<Guard>,
}

impl<T: Connection> Connection for Counted<T> {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl<T: Read + Unpin> Read for Counted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for Counted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}
