//! The ASAP agent server: hyper 1, every protocol concern a tower layer.
//!
//! An [`AsapServer`] answers `POST /asap` (JSON-RPC 2.0 `asap.send`), serves its manifest at
//! `/.well-known/asap/manifest.json` (with `ETag`/`If-None-Match`), `/health`, `/ready` and
//! `/.well-known/asap/health`, over HTTP/1.1 and h2c on one port.
//!
//! # Processing order
//!
//! The first failing step answers, as the protocol specifies (PROTOCOL §9.4; the protocol
//! notes, [wire.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/wire.md#processing-order), describe each step):
//!
//! | step | layer | failure |
//! |---|---|---|
//! | declared size | [`layers::body_limit`] | 413 `{"detail"}` |
//! | rate limit (per IP) | [`layers::ratelimit`] | 429 |
//! | `Content-Encoding` | [`layers::decompression`] | 415 |
//! | streamed size | [`layers::body_limit`] | 413 |
//! | decompression, inflated size | [`layers::decompression`] | 400 / 413 |
//! | JSON, JSON-RPC framing, method | [`endpoint::RpcEndpoint`] | -32700 / -32600 / -32601 |
//! | bearer token | [`layers::auth`] | -32600 (`status_code` 401) |
//! | envelope | [`endpoint::RpcEndpoint`] | -32602 |
//! | sender = identity | [`layers::auth::SenderMatch`] | -32602 (`status_code` 403) |
//! | timestamp window | [`layers::timestamp`] | -32602 `asap:protocol/invalid_timestamp` |
//! | nonce | [`layers::nonce`] | -32602 `asap:protocol/invalid_nonce` |
//! | rate limit (per sender) | [`layers::ratelimit`] | 429 |
//! | handler lookup, payload, blocking pool, handler | [`registry::Dispatch`] | -32601 / -32602 / 503 / -32603 |
//!
//! Where the reference implementation crashes on bad input (answering -32603), the intended
//! error is returned instead; [deviations.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/deviations.md) lists these cases and every
//! other deliberate difference. The security layers are described in
//! [security.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/security.md), the error bodies in [errors.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/errors.md), routes,
//! headers and limits in [wire.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/wire.md#http-surface).
//!
//! # Embedding
//!
//! [`AsapServer::service`] is a `tower::Service<http::Request<B>>` for any body `B`, with
//! `Error = Infallible` and `Response<Full<Bytes>>`: mount it in an axum `Router` or a hyper
//! connection. Each layer is usable alone. Connection hygiene (header read timeout, request
//! timeout, idle timeout, connection limits with idle connections closed to make room,
//! HTTP/2 pings and stream bound, graceful drain) belongs to the accept loop in [`serve`].
//!
//! ```no_run
//! use asap_transport_server::{AsapServer, ServerConfig, echo::{EchoHandler, demo_manifest}};
//!
//! # async fn run() -> std::io::Result<()> {
//! let manifest = demo_manifest("http://127.0.0.1:8000/asap");
//! let server = AsapServer::builder(manifest.clone())
//!     .config(ServerConfig::from_env().expect("valid environment"))
//!     .handler("task.request", EchoHandler::new(manifest.id.clone()))
//!     .build()
//!     .expect("valid manifest");
//! server.run().await // until Ctrl-C or SIGTERM, then drains
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `gzip` (default): accept gzip request bodies.
//! - `br` (default): accept brotli request bodies.
//!
//! With a feature off, that `Content-Encoding` gets 415.
//!
//! Metrics (`/asap/metrics`) and durable state are not part of this crate yet; the
//! [`routes::Readiness`] checks and the [`layers::nonce::NonceStore`] trait are where a state
//! store plugs in.
#![deny(missing_docs)]

pub mod config;
pub mod context;
pub mod echo;
pub mod endpoint;
pub mod layers;
pub mod registry;
pub mod rejection;
pub mod response;
pub mod router;
pub mod routes;
pub mod sanitize;
pub mod serve;
pub mod server;
pub mod trace;

pub use config::{ServerConfig, ServerConfigBuilder};
pub use context::{AsapRequest, Identity, PeerAddr, RequestContext};
pub use endpoint::RpcEndpoint;
pub use registry::{Dispatch, Handler, HandlerError, HandlerRegistry, handler_fn};
pub use rejection::Rejection;
pub use router::AsapService;
pub use server::{AsapServer, AsapServerBuilder, BuildError, ServerService};

/// `tracing` target of this crate's events.
pub const LOG_TARGET: &str = "asap::server";
