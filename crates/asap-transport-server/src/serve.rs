//! Accept loop: HTTP/1.1 and h2c on one port, connection limits, timeouts, graceful shutdown.
//!
//! Every connection is registered with its activity (requests in flight, idle since when):
//! an idle connection is closed after the idle timeout, and when all `max_connections` slots
//! are taken the longest-idle connections are closed to make room for new clients (ADR 0001,
//! `docs/adr/0001-idle-connection-reclaim.md`).

mod activity;
mod lifecycle;
mod linger;
mod registry;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_service::Service;

use crate::config::ServerConfig;
use crate::context::PeerAddr;
use crate::layers::response_body::ResponseBody;
use crate::rejection::Rejection;
use crate::routes::Readiness;

use self::activity::InFlightBody;
use self::lifecycle::{CLOSE_GRACE, Ended, Timeouts};
use self::linger::LingerBounds;
use self::registry::Registry;

/// Connection-level settings, taken from [`ServerConfig`].
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Time allowed to receive request headers (slowloris protection, HTTP/1.1).
    pub header_read_timeout: Duration,
    /// Time allowed for a whole request; then 408 `{"detail": "Request timed out"}`.
    pub request_timeout: Duration,
    /// Concurrent connections. When all are taken, the longest-idle connections (no request
    /// in flight) are closed to make room; accepting waits only while none is idle.
    pub max_connections: usize,
    /// Connections from one IP address (`None`: no bound); further ones are closed at once.
    pub max_connections_per_ip: Option<usize>,
    /// Time a connection may stay open without a request in flight (HTTP/2 without open
    /// streams, HTTP/1.1 between requests); then it is closed gracefully (GOAWAY for HTTP/2).
    pub idle_timeout: Duration,
    /// Interval of HTTP/2 keep-alive pings (`None`: no pings).
    pub http2_keep_alive_interval: Option<Duration>,
    /// Time to wait for a ping's acknowledgement before closing the HTTP/2 connection.
    pub http2_keep_alive_timeout: Duration,
    /// Concurrent streams (requests) per HTTP/2 connection.
    pub http2_max_concurrent_streams: u32,
    /// Time allowed to drain in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Longest lingering close: after answering an HTTP/1.1 request with an error before
    /// reading its whole body, the connection reads and discards what the client still sends
    /// (so that the answer is not lost to a TCP reset) for at most this long. Zero turns
    /// lingering off.
    pub lingering_time: Duration,
    /// Longest wait for more data during a lingering close.
    pub lingering_timeout: Duration,
    /// Most bytes read and discarded by one lingering close.
    pub lingering_bytes: u64,
    /// Accept h2c besides HTTP/1.1.
    pub http2: bool,
}

impl From<&ServerConfig> for ConnectionSettings {
    fn from(c: &ServerConfig) -> Self {
        Self {
            header_read_timeout: c.header_read_timeout,
            request_timeout: c.request_timeout,
            max_connections: c.max_connections.max(1),
            max_connections_per_ip: c.max_connections_per_ip,
            idle_timeout: c.idle_timeout,
            http2_keep_alive_interval: c.http2_keep_alive_interval,
            http2_keep_alive_timeout: c.http2_keep_alive_timeout,
            http2_max_concurrent_streams: c.http2_max_concurrent_streams,
            shutdown_timeout: c.shutdown_timeout,
            lingering_time: c.lingering_time,
            lingering_timeout: c.lingering_timeout,
            lingering_bytes: c.lingering_bytes,
            http2: c.http2,
        }
    }
}

/// Listen backlog of [`bind`] (the kernel caps it at `net.core.somaxconn`).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds a listener with a backlog of [`LISTEN_BACKLOG`]. `TcpListener::bind` uses 1024: a
/// burst of more connection attempts than that overflows into SYN cookies, some of which
/// end in a reset connection.
pub fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Serves `service` on `listener` until `shutdown` resolves, then stops accepting, marks the
/// server not ready and drains in-flight requests for up to `shutdown_timeout`.
pub async fn serve<S, B, F>(
    listener: TcpListener,
    service: S,
    settings: ConnectionSettings,
    readiness: Readiness,
    shutdown: F,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<crate::registry::BoxError>,
    F: Future<Output = ()>,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(settings.http2_keep_alive_interval)
        .keep_alive_timeout(settings.http2_keep_alive_timeout)
        .max_concurrent_streams(settings.http2_max_concurrent_streams);
    let builder = if settings.http2 {
        builder
    } else {
        builder.http1_only()
    };
    let registry = Registry::new(settings.max_connections, settings.max_connections_per_ip);
    let timeouts = Timeouts {
        first_request: settings.header_read_timeout,
        idle: settings.idle_timeout,
        close_grace: CLOSE_GRACE,
    };
    readiness.set_ready(true);
    tokio::pin!(shutdown);
    loop {
        // Accept first, then find a slot: reclaiming idle connections only makes sense
        // when a new client is actually there.
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE, ECONNABORTED…: keep serving, back off briefly.
                    tracing::warn!(target: crate::LOG_TARGET, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(admission) = registry.admit(peer.ip()) else {
            tracing::debug!(target: crate::LOG_TARGET, %peer, "too many connections from this address");
            continue;
        };
        let slot = tokio::select! {
            slot = registry.free_slot() => match slot {
                Some(slot) => slot,
                None => break,
            },
            () = &mut shutdown => break,
        };
        let registration = admission.register(slot);
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let timeout = settings.request_timeout;
        let activity = Arc::clone(registration.activity());
        let hyper_service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let in_flight = activity.begin();
            request.extensions_mut().insert(PeerAddr(peer));
            let call = service.clone().oneshot(request);
            async move {
                let result = match tokio::time::timeout(timeout, call).await {
                    Ok(result) => result.map(|r| r.map(ResponseBody::inner)),
                    Err(_) => Ok(
                        Rejection::http(StatusCode::REQUEST_TIMEOUT, "Request timed out")
                            .into_response(None)
                            .map(ResponseBody::own),
                    ),
                };
                result.map(|response| response.map(|body| InFlightBody::new(body, in_flight)))
            }
        });
        // An error answered before the whole body was read ends in a lingering close.
        let (stream, hyper_service) =
            linger::lingering(stream, hyper_service, LingerBounds::from(&settings));
        let connection = builder
            .serve_connection(TokioIo::new(stream), hyper_service)
            .into_owned();
        tokio::spawn(async move {
            // hyper's header read timeout only starts once the protocol is known, and telling
            // HTTP/1.1 from h2c waits for bytes without a limit: a client that sends nothing
            // (or one byte) would hold its connection forever. `drive` closes a connection
            // whose first request has not arrived within the header read timeout, and one
            // idle for longer than the idle timeout.
            match lifecycle::drive(connection, registration.activity(), timeouts).await {
                Ended::Finished(Ok(())) => {}
                Ended::Finished(Err(error)) => {
                    tracing::debug!(target: crate::LOG_TARGET, %error, %peer, "connection ended with an error");
                }
                Ended::NoRequest => {
                    tracing::debug!(target: crate::LOG_TARGET, %peer, "no request within the header read timeout");
                }
                Ended::Dropped => {
                    tracing::debug!(target: crate::LOG_TARGET, %peer, "connection still open after the close grace");
                }
            }
            drop(registration);
        });
    }
    readiness.set_ready(false);
    drop(listener);
    registry.close_all();
    tokio::select! {
        () = registry.drained() => {},
        () = tokio::time::sleep(settings.shutdown_timeout) => {
            tracing::warn!(target: crate::LOG_TARGET, "shutdown timeout elapsed with requests in flight");
        }
    }
    Ok(())
}
