//! A plain hyper service with its own routes, and an ASAP agent inside it, on your own
//! accept loop.
//!
//! - `GET /hello` and `POST /echo` are the host's, written as a `tower::service_fn` and
//!   wrapped in this crate's [`BodyLimitLayer`] (413 past [`MAX_ECHO_BYTES`]) and
//!   [`RateLimitLayer`] (429 past the given rate, per client IP).
//! - `/asap`, the manifest, `/health` and `/ready` go to the ASAP service.
//!
//! [`AsapServer::run`] does the accept loop better (connection limits, header and request
//! timeouts, draining); this shows the minimum needed to drive the services from
//! `hyper-util` yourself: one HTTP/1.1-or-h2c connection per accepted socket, the peer
//! address inserted as [`PeerAddr`], and a graceful stop.
//!
//! ```text
//! cargo run -p asap-transport-server --example embed_hyper
//! curl http://127.0.0.1:8000/hello
//! curl -X POST http://127.0.0.1:8000/echo -d 'hi'
//! curl http://127.0.0.1:8000/health
//! ```
//!
//! The address comes from `ASAP_HOST`/`ASAP_PORT` (default `127.0.0.1:8000`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::body_limit::BodyLimitLayer;
use asap_transport_server::layers::ratelimit::{RateLimitLayer, RateLimitSpec};
use asap_transport_server::registry::BoxError;
use asap_transport_server::serve::shutdown_signal;
use asap_transport_server::{AsapServer, PeerAddr, Rejection, ServerConfig, ServerService};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceBuilder, ServiceExt};

/// The largest body `POST /echo` accepts, in bytes.
pub const MAX_ECHO_BYTES: usize = 1024;

/// Response bodies of the host: the ASAP service's or the host's own.
pub type HostBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A body that cannot fail, as a [`HostBody`].
fn boxed<B>(body: B) -> HostBody
where
    B: http_body::Body<Data = Bytes, Error = Infallible> + Send + 'static,
{
    body.map_err(|never| -> BoxError { match never {} })
        .boxed_unsync()
}

/// The host's own routes, for any request body (here: hyper's, inside the body limit).
async fn own_routes<B>(request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let text = |status: StatusCode, text: Bytes| {
        let mut response = Response::new(Full::new(text));
        *response.status_mut() = status;
        response
    };
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET, "/hello") => text(StatusCode::OK, Bytes::from_static(b"hello\n")),
        (&Method::POST, "/echo") => match request.into_body().collect().await {
            Ok(body) => text(StatusCode::OK, body.to_bytes()),
            // The body limit's 413 for a body without Content-Length, as the ASAP endpoint
            // answers it.
            Err(error) => Rejection::from_body_error(error.into()).into_response(None),
        },
        _ => text(StatusCode::NOT_FOUND, Bytes::from_static(b"not found\n")),
    })
}

/// The host's service: ASAP paths to the ASAP service, the rest to its own routes behind
/// this crate's body and rate limits.
#[derive(Clone)]
pub struct Host {
    asap: ServerService,
    own: BoxCloneSyncService<Request<Incoming>, Response<HostBody>, Infallible>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("asap", &self.asap)
            .finish_non_exhaustive()
    }
}

impl Host {
    /// The host around `server`, limiting its own routes to `own_rate` per client IP.
    pub fn new(server: &AsapServer, own_rate: &RateLimitSpec) -> Self {
        let own = ServiceBuilder::new()
            .map_response(|response: Response<_>| response.map(boxed))
            // The protocol's order: size first, then rate.
            .layer(BodyLimitLayer::new(MAX_ECHO_BYTES))
            .layer(RateLimitLayer::new(own_rate))
            .service_fn(own_routes);
        Self {
            asap: server.service(),
            own: BoxCloneSyncService::new(own),
        }
    }
}

impl Service<Request<Incoming>> for Host {
    type Response = Response<HostBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<HostBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Each call drives a clone to readiness (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let path = request.uri().path();
        if path == "/asap"
            || path.starts_with("/.well-known/asap/")
            || path == "/health"
            || path == "/ready"
        {
            let asap = self.asap.clone();
            Box::pin(async move {
                let response = asap.oneshot(request).await?;
                Ok(response.map(boxed))
            })
        } else {
            Box::pin(self.own.clone().oneshot(request))
        }
    }
}

/// Accepts connections on `listener` and serves the host around `server` on each until
/// `shutdown` resolves, then waits for open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    server: AsapServer,
    own_rate: RateLimitSpec,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let host = Host::new(&server, &own_rate);
    server.readiness().set_ready(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => break,
        };
        // This crate's layers read the peer address from this extension (per-IP limits).
        let service = ServiceBuilder::new()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(PeerAddr(peer));
                request
            })
            .service(host.clone());
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("connection from {peer} ended with an error: {error}");
            }
        });
    }
    server.readiness().set_ready(false);
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ServerConfig::from_env()?;
    let listener = TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let manifest = demo_manifest(&format!("http://{addr}/asap"));
    let echo = EchoHandler::new(manifest.id.clone());
    let server = AsapServer::builder(manifest)
        .config(config)
        .handler("task.request", echo)
        .build()?;
    println!("host with an ASAP agent on http://{addr} (/hello, /echo, /asap); Ctrl-C stops");
    serve(listener, server, "10/second".parse()?, shutdown_signal()).await?;
    Ok(())
}
