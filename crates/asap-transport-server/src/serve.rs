//! Accept loop: HTTP/1.1 and h2c on one port, connection limits, timeouts, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_service::Service;

use crate::config::ServerConfig;
use crate::context::PeerAddr;
use crate::rejection::Rejection;
use crate::response::Body;
use crate::routes::Readiness;

/// Connection-level settings, taken from [`ServerConfig`].
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Time allowed to receive request headers (slowloris protection, HTTP/1.1).
    pub header_read_timeout: Duration,
    /// Time allowed for a whole request; then 408 `{"detail": "Request timed out"}`.
    pub request_timeout: Duration,
    /// Concurrent connections; when reached, accepting pauses until one closes.
    pub max_connections: usize,
    /// Time allowed to drain in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Accept h2c besides HTTP/1.1.
    pub http2: bool,
}

impl From<&ServerConfig> for ConnectionSettings {
    fn from(c: &ServerConfig) -> Self {
        Self {
            header_read_timeout: c.header_read_timeout,
            request_timeout: c.request_timeout,
            max_connections: c.max_connections.max(1),
            shutdown_timeout: c.shutdown_timeout,
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
pub async fn serve<S, F>(
    listener: TcpListener,
    service: S,
    settings: ConnectionSettings,
    readiness: Readiness,
    shutdown: F,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    F: Future<Output = ()>,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let builder = if settings.http2 {
        builder
    } else {
        builder.http1_only()
    };
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    readiness.set_ready(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
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
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let timeout = settings.request_timeout;
        let first_request = Arc::new(tokio::sync::Notify::new());
        let request_seen = Arc::clone(&first_request);
        let hyper_service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request_seen.notify_one();
            request.extensions_mut().insert(PeerAddr(peer));
            let call = service.clone().oneshot(request);
            async move {
                match tokio::time::timeout(timeout, call).await {
                    Ok(result) => result,
                    Err(_) => Ok(
                        Rejection::http(StatusCode::REQUEST_TIMEOUT, "Request timed out")
                            .into_response(None),
                    ),
                }
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), hyper_service)
            .into_owned();
        let connection = graceful.watch(connection);
        let header_read_timeout = settings.header_read_timeout;
        tokio::spawn(async move {
            tokio::pin!(connection);
            // hyper's header read timeout only starts once the protocol is known, and telling
            // HTTP/1.1 from h2c waits for bytes without a limit: a client that sends nothing
            // (or one byte) would hold its connection forever. Close a connection whose first
            // request has not arrived within the header read timeout.
            let ended = tokio::select! {
                result = &mut connection => Some(result),
                () = first_request.notified() => None,
                () = tokio::time::sleep(header_read_timeout) => {
                    tracing::debug!(target: crate::LOG_TARGET, %peer, "no request within the header read timeout");
                    drop(permit);
                    return;
                }
            };
            let result = match ended {
                Some(result) => result,
                None => connection.await,
            };
            if let Err(error) = result {
                tracing::debug!(target: crate::LOG_TARGET, %error, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    readiness.set_ready(false);
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(settings.shutdown_timeout) => {
            tracing::warn!(target: crate::LOG_TARGET, "shutdown timeout elapsed with requests in flight");
        }
    }
    Ok(())
}
