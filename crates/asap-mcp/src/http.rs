//! Streamable HTTP (feature `http`): the server as a tower `Service` to mount at a path of
//! any hyper or axum application, and a small server that serves it alone.
//!
//! Requests are answered by rmcp's Streamable HTTP transport: sessions (`Mcp-Session-Id`)
//! for the revisions up to 2025-11-25, stateless requests for 2026-07-28, responses as
//! JSON or as an SSE stream. Its `Host` and `Origin` checks guard a server on a developer's
//! machine against DNS rebinding from a web page: by default only loopback hosts, and only
//! loopback origins when a request carries one (a request without `Origin`, from a
//! non-browser client, passes).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use rmcp::transport::StreamableHttpServerConfig;
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tower_service::Service;

use crate::McpServer;
use crate::handler::Handler;

/// The body of every answer of [`McpHttpService`].
pub type McpHttpBody = BoxBody<Bytes, Infallible>;

/// Who may call the HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
}

impl Default for HttpConfig {
    /// Loopback only: `Host` `localhost`, `127.0.0.1` or `::1` (any port), and, on requests
    /// that carry one, an `Origin` on those hosts (`http` or `https`, any port).
    fn default() -> Self {
        let hosts = ["localhost", "127.0.0.1", "[::1]"];
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            allowed_origins: hosts
                .iter()
                .flat_map(|host| [format!("http://{host}:*"), format!("https://{host}:*")])
                .collect(),
        }
    }
}

impl HttpConfig {
    /// Accepts requests whose `Host` is one of `hosts` (`example.com`, or
    /// `example.com:8443` for one port only), instead of loopback only.
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Accepts browser requests from `origins` (`https://app.example.com:443`,
    /// `http://localhost:*`), instead of loopback origins only. An empty list refuses
    /// every request that carries an `Origin`.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    fn transport(&self) -> StreamableHttpServerConfig {
        StreamableHttpServerConfig::default()
            .with_allowed_hosts(self.allowed_hosts.clone())
            .with_allowed_origins(self.allowed_origins.clone())
            .enforce_origin_validation()
    }
}

/// The MCP endpoint as a tower `Service`: mount it at a path (`/mcp` by convention) of
/// any hyper or axum application.
#[derive(Clone)]
pub struct McpHttpService {
    inner: StreamableHttpService<Handler, LocalSessionManager>,
}

impl std::fmt::Debug for McpHttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHttpService").finish_non_exhaustive()
    }
}

impl McpServer {
    /// This server as a Streamable HTTP endpoint, for the callers `config` allows.
    pub fn http_service(&self, config: &HttpConfig) -> McpHttpService {
        let server = self.clone();
        McpHttpService {
            inner: StreamableHttpService::new(
                move || Ok(Handler::new(server.clone())),
                Arc::new(LocalSessionManager::default()),
                config.transport(),
            ),
        }
    }

    /// Serves this server at `path` (e.g. `/mcp`) on `listener` until `shutdown`
    /// completes; every other path answers 404. HTTP/1.1 and HTTP/2 (h2c).
    pub async fn serve_http(
        &self,
        listener: tokio::net::TcpListener,
        path: &str,
        config: &HttpConfig,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let service = self.http_service(config);
        let path: Arc<str> = Arc::from(path);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, _peer): (_, SocketAddr) = tokio::select! {
                accepted = listener.accept() => accepted?,
                () = &mut shutdown => return Ok(()),
            };
            let (service, path) = (service.clone(), path.clone());
            tokio::spawn(async move {
                let routed =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let mut service = service.clone();
                        let found = request.uri().path() == &*path;
                        async move {
                            if found {
                                service.call(request).await
                            } else {
                                Ok(not_found())
                            }
                        }
                    });
                let builder = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                let _ = builder
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), routed)
                    .await;
            });
        }
    }
}

fn not_found() -> Response<McpHttpBody> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Not Found")).boxed());
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

impl<B> Service<Request<B>> for McpHttpService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send + 'static,
    B::Error: std::fmt::Display,
{
    type Response = Response<McpHttpBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request<B>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        self.inner.call(request)
    }
}
