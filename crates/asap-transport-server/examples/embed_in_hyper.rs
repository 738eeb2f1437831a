//! Serving the ASAP service from your own hyper accept loop.
//!
//! [`AsapServer::run`] does all of this (plus connection limits, header and request timeouts
//! and draining); this example shows the minimum needed to drive the `tower::Service` from
//! `hyper-util` yourself: one HTTP/1.1-or-h2c connection per accepted socket, the peer
//! address inserted as [`PeerAddr`], and a graceful stop.
//!
//! ```text
//! cargo run -p asap-transport-server --example embed_in_hyper
//! curl http://127.0.0.1:8000/health
//! ```
//!
//! The address comes from `ASAP_HOST`/`ASAP_PORT` (default `127.0.0.1:8000`).

use std::future::Future;

use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::serve::shutdown_signal;
use asap_transport_server::{AsapServer, PeerAddr, ServerConfig};
use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Accepts connections on `listener` and serves `server` on each until `shutdown`
/// resolves, then waits for open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    server: AsapServer,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    server.readiness().set_ready(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => break,
        };
        // The ASAP layers read the peer address from this extension (per-IP rate limit).
        let service = tower::ServiceBuilder::new()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(PeerAddr(peer));
                request
            })
            .service(server.service());
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
    println!("ASAP agent on http://{addr} (hyper accept loop); Ctrl-C stops");
    serve(listener, server, shutdown_signal()).await?;
    Ok(())
}
