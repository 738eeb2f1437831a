//! Mounting an ASAP agent in an existing axum application.
//!
//! The application keeps its own routes; every other request — `POST /asap`, the manifest,
//! `/health`, `/ready`, `/.well-known/asap/health` and the 404/405 answers — goes to the
//! ASAP service, mounted as the router's fallback.
//!
//! ```text
//! cargo run -p asap-transport-server --example embed_in_axum
//! curl http://127.0.0.1:8000/hello
//! curl http://127.0.0.1:8000/.well-known/asap/manifest.json
//! curl -X POST http://127.0.0.1:8000/asap -H 'content-type: application/json' -d '{"jsonrpc":"2.0","method":"asap.send","id":1,"params":{"envelope":{"asap_version":"0.1","sender":"urn:asap:agent:me","recipient":"urn:asap:agent:default-server","payload_type":"task.request","payload":{"conversation_id":"c1","skill_id":"echo","input":{"hi":1}}}}}'
//! ```
//!
//! The address comes from `ASAP_HOST`/`ASAP_PORT` (default `127.0.0.1:8000`), the other
//! limits from the usual `ASAP_*` variables. Connection-level settings of
//! [`ServerConfig`] (header and request timeouts, connection limit, drain time) belong to
//! the accept loop, which here is axum's, so they do not apply.

use std::net::SocketAddr;

use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::serve::shutdown_signal;
use asap_transport_server::{AsapServer, PeerAddr, ServerConfig};
use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::routing::get;

/// The host application: its own `/hello` route, and the ASAP server for everything else.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that the peer
/// address reaches the ASAP service (per-IP rate limiting, `RequestContext::peer_addr`).
pub fn app(server: &AsapServer) -> Router {
    let asap = tower::ServiceBuilder::new()
        .map_request(peer_addr_from_connect_info)
        .service(server.service());
    Router::new()
        .route(
            "/hello",
            get(|| async { "hello from the host application\n" }),
        )
        .fallback_service(asap)
}

/// Copies axum's `ConnectInfo` into the [`PeerAddr`] extension the ASAP layers read.
fn peer_addr_from_connect_info(mut request: Request) -> Request {
    if let Some(ConnectInfo(addr)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        request.extensions_mut().insert(PeerAddr(addr));
    }
    request
}

/// The demo echo agent answering at `endpoint`.
pub fn echo_server(config: ServerConfig, endpoint: &str) -> AsapServer {
    let manifest = demo_manifest(endpoint);
    let echo = EchoHandler::new(manifest.id.clone());
    AsapServer::builder(manifest)
        .config(config)
        .handler("task.request", echo)
        .build()
        .expect("the demo manifest is valid")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ServerConfig::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let server = echo_server(config, &format!("http://{addr}/asap"));
    // `/ready` reports ready once something serves the service; here, axum does.
    server.readiness().set_ready(true);
    println!(
        "host application with an ASAP agent on http://{addr} (/hello, /asap, …); Ctrl-C stops"
    );
    axum::serve(
        listener,
        app(&server).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}
