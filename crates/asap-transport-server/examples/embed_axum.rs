//! An axum application with its own routes and state, and an ASAP agent inside it.
//!
//! - `GET /hello` and `POST /notes`, `GET /notes` are the application's, with its own state
//!   (the notes). They are wrapped in this crate's [`BodyLimitLayer`] (413 past
//!   [`MAX_NOTE_BYTES`]) and [`RateLimitLayer`] (429 past the given rate, per client IP):
//!   the layers are generic over bodies, so they wrap an axum `Router` as well as the ASAP
//!   endpoint.
//! - `POST /asap` and the manifest are the ASAP agent's, with its own limits
//!   ([`ServerConfig`]).
//!
//! ```text
//! cargo run -p asap-transport-server --example embed_axum
//! curl http://127.0.0.1:8000/hello
//! curl -X POST http://127.0.0.1:8000/notes -d 'buy milk'
//! curl http://127.0.0.1:8000/.well-known/asap/manifest.json
//! curl -X POST http://127.0.0.1:8000/asap -H 'content-type: application/json' -d '{"jsonrpc":"2.0","method":"asap.send","id":1,"params":{"envelope":{"asap_version":"0.1","sender":"urn:asap:agent:me","recipient":"urn:asap:agent:default-server","payload_type":"task.request","payload":{"conversation_id":"c1","skill_id":"echo","input":{"hi":1}}}}}'
//! ```
//!
//! The address comes from `ASAP_HOST`/`ASAP_PORT` (default `127.0.0.1:8000`), the agent's
//! limits from the usual `ASAP_*` variables. Connection-level settings of [`ServerConfig`]
//! (header and request timeouts, connection limit, drain time) belong to the accept loop,
//! which here is axum's, so they do not apply.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::body_limit::BodyLimitLayer;
use asap_transport_server::layers::ratelimit::{RateLimitLayer, RateLimitSpec};
use asap_transport_server::routes::{ASAP_PATH, MANIFEST_PATH};
use asap_transport_server::serve::shutdown_signal;
use asap_transport_server::{AsapServer, PeerAddr, ServerConfig};
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::routing::get;
use tower::util::MapRequestLayer;

/// The largest note the application accepts, in bytes.
pub const MAX_NOTE_BYTES: usize = 1024;

/// The application's own state.
#[derive(Debug, Clone, Default)]
pub struct Notes(Arc<Mutex<Vec<String>>>);

impl Notes {
    /// How many notes are stored.
    pub fn count(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

async fn add_note(State(notes): State<Notes>, note: String) -> String {
    let mut notes = notes
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    notes.push(note);
    format!("{} notes\n", notes.len())
}

async fn list_notes(State(notes): State<Notes>) -> String {
    let notes = notes
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    notes.join("\n")
}

/// The host application: its own routes behind this crate's body and rate limits, and the
/// ASAP agent at `/asap` (and its manifest).
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that the peer
/// address reaches the rate limits and the agent (`RequestContext::peer_addr`).
pub fn app(server: &AsapServer, notes: Notes, own_rate: &RateLimitSpec) -> Router {
    let own = Router::new()
        .route(
            "/hello",
            get(|| async { "hello from the host application\n" }),
        )
        .route("/notes", get(list_notes).post(add_note))
        .with_state(notes)
        // The later layer is the outer one: size first, then rate (the protocol's order).
        .layer(RateLimitLayer::new(own_rate))
        .layer(BodyLimitLayer::new(MAX_NOTE_BYTES));
    Router::new()
        .route_service(ASAP_PATH, server.service())
        .route_service(MANIFEST_PATH, server.service())
        .merge(own)
        .layer(MapRequestLayer::new(peer_addr_from_connect_info))
}

/// Copies axum's `ConnectInfo` into the [`PeerAddr`] extension this crate's layers read.
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
    let own_rate: RateLimitSpec = "10/second".parse()?;
    println!(
        "host application with an ASAP agent on http://{addr} (/hello, /notes, /asap); Ctrl-C stops"
    );
    axum::serve(
        listener,
        app(&server, Notes::default(), &own_rate)
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}
