//! Clients for the connection tests: h2c connections from a chosen loopback address (Linux
//! routes all of 127.0.0.0/8 to `lo`, so each address stands for a host), a stream whose
//! reads can be frozen (a peer that stopped processing), and the descriptor limit.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Generous bound for anything that should take milliseconds, so that a loaded machine does
/// not fail the test; the point is that it is not "never".
pub(crate) const PROMPTLY: Duration = Duration::from_secs(5);

/// 127.0.0.`last`.
pub(crate) fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// A TCP connection to `server` from `from` (port chosen by the kernel).
pub(crate) async fn connect_from(from: IpAddr, server: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(server).await
}

/// A client-side h2c connection: the request handle and the task driving the connection,
/// which finishes when the connection closes.
pub(crate) struct H2 {
    pub(crate) sender: SendRequest<Full<Bytes>>,
    pub(crate) driver: JoinHandle<hyper::Result<()>>,
}

async fn h2_over<T>(io: T) -> Result<H2, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    Ok(H2 {
        sender,
        driver: tokio::spawn(connection),
    })
}

pub(crate) async fn h2_from(from: IpAddr, server: SocketAddr) -> Result<H2, String> {
    let stream = connect_from(from, server)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    h2_over(stream).await
}

impl H2 {
    /// Sends `request` and reads the whole reply, within [`PROMPTLY`] unless `patient`.
    pub(crate) async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
        patient: bool,
    ) -> Result<(StatusCode, Value), String> {
        let exchange = async {
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|e| format!("request: {e}"))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("body: {e}"))?
                .to_bytes();
            Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
        };
        let limit = if patient {
            Duration::from_secs(30)
        } else {
            PROMPTLY
        };
        tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| format!("no reply within {limit:?}"))?
    }

    pub(crate) async fn health(&mut self, server: SocketAddr) -> Result<StatusCode, String> {
        let request = Request::get(format!("http://{server}/health"))
            .body(Full::default())
            .unwrap();
        Ok(self.send(request, false).await?.0)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.driver.is_finished()
    }

    /// Waits until the connection is closed: how long that took and how the client's side
    /// ended, or `None` after `limit`. Call it once.
    pub(crate) async fn closed_within(
        &mut self,
        limit: Duration,
    ) -> Option<(Duration, hyper::Result<()>)> {
        let started = Instant::now();
        let ended = tokio::time::timeout(limit, &mut self.driver).await.ok()?;
        Some((started.elapsed(), ended.expect("the driver does not panic")))
    }

    /// Closes the connection from the client's side.
    pub(crate) fn close(self) {
        self.driver.abort();
    }
}

/// Raises `RLIMIT_NOFILE` to at least `needed` (the soft limit up to the hard one, and the
/// hard one too where the process may, e.g. as root).
pub(crate) fn enough_file_descriptors(needed: u64) -> Result<(), String> {
    let (soft, hard) = rlimit::Resource::NOFILE.get().map_err(|e| e.to_string())?;
    if soft >= needed {
        return Ok(());
    }
    if hard < needed {
        rlimit::Resource::NOFILE
            .set(needed, needed)
            .map_err(|e| format!("soft limit {soft}, hard limit {hard} < {needed}: {e}"))?;
        return Ok(());
    }
    let raised = rlimit::increase_nofile_limit(needed).map_err(|e| e.to_string())?;
    if raised >= needed {
        Ok(())
    } else {
        Err(format!("raised to {raised} < {needed}"))
    }
}

/// A TCP stream whose reads can be frozen: from then on everything received is discarded
/// before hyper sees it (a peer that stopped processing its connection, so it never answers
/// a ping or a GOAWAY), and the end of the stream is reported.
struct Freezable {
    stream: TcpStream,
    frozen: Arc<AtomicBool>,
    closed: Arc<Notify>,
}

impl AsyncRead for Freezable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.frozen.load(Ordering::SeqCst) {
            return Pin::new(&mut self.stream).poll_read(cx, buf);
        }
        let mut scratch = [0u8; 4096];
        loop {
            let mut discard = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.stream).poll_read(cx, &mut discard) {
                Poll::Ready(Ok(())) if !discard.filled().is_empty() => continue,
                Poll::Ready(_) => {
                    self.closed.notify_one();
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for Freezable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// An h2c connection from `from` whose reads can be frozen; the flag, and a notification of
/// the server closing the connection once frozen.
pub(crate) async fn freezable_h2(
    from: IpAddr,
    server: SocketAddr,
) -> (H2, Arc<AtomicBool>, Arc<Notify>) {
    let frozen = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(Notify::new());
    let stream = connect_from(from, server).await.unwrap();
    let io = Freezable {
        stream,
        frozen: Arc::clone(&frozen),
        closed: Arc::clone(&closed),
    };
    (h2_over(io).await.unwrap(), frozen, closed)
}
