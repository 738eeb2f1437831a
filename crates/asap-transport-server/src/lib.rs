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
//! | step | level | layer | failure |
//! |---|---|---|---|
//! | declared size | HTTP | [`layers::body_limit`] | 413 `{"detail"}` |
//! | rate limit (per IP) | HTTP | [`layers::ratelimit`] | 429 |
//! | `Content-Encoding` | HTTP | [`layers::decompression`] | 415 |
//! | streamed size | body stream, read by the endpoint | [`layers::body_limit`] | 413 |
//! | decompression, inflated size | body stream, read by the endpoint | [`layers::decompression`] | 400 / 413 |
//! | JSON, JSON-RPC framing, method | HTTP | [`endpoint::RpcEndpoint`] | -32700 / -32600 / -32601 |
//! | bearer token | RPC | [`layers::auth`] | -32600 (`status_code` 401) |
//! | envelope | RPC → envelope | [`endpoint::Envelopes`] | -32602 |
//! | sender = identity | envelope | [`layers::auth::SenderMatch`] | -32602 (`status_code` 403) |
//! | timestamp window | envelope | [`layers::timestamp`] | -32602 `asap:protocol/invalid_timestamp` |
//! | nonce | envelope | [`layers::nonce`] | -32602 `asap:protocol/invalid_nonce` |
//! | rate limit (per sender) | envelope | [`layers::ratelimit`] | 429 |
//! | [envelope hooks](AsapServerBuilder#hooks) | envelope | yours | yours |
//! | idempotency key (when a store is set) | envelope | [`layers::idempotency`] | -32602 / 503, or the stored response |
//! | handler lookup, payload, blocking pool, handler | envelope | [`registry::Dispatch`] | -32601 / -32602 / 503 / -32603 |
//!
//! The HTTP-level layers never read the body: the size limit and decompression wrap the body
//! stream, and the endpoint reads it once; their failures are errors of that stream, mapped
//! by [`Rejection::from_body_error`], in the order above (a received body over the limit
//! answers 413 even when its data were also corrupt).
//!
//! Where the reference implementation crashes on bad input (answering -32603), the intended
//! error is returned instead; [deviations.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/deviations.md) lists these cases and every
//! other deliberate difference. The security layers are described in
//! [security.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/security.md), the error bodies in [errors.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/errors.md), routes,
//! headers and limits in [wire.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/wire.md#http-surface).
//!
//! # Embedding
//!
//! [`AsapServer::service`] is a [`ServerService`]: a `tower::Service<http::Request<B>>` for
//! any body `B`, with `Error = Infallible` and an opaque [`ServerBody`]; mount it in an axum
//! `Router` (`route_service("/asap", …)` or as the fallback) or serve it on a hyper
//! connection. The HTTP-level layers ([`layers::body_limit`], [`layers::ratelimit`],
//! [`layers::decompression`], [`layers::compression`]) are generic over request and response
//! bodies, so the host application can put them in front of its own routes too; the
//! `embed_axum` and `embed_hyper` examples do both. Middleware of your own plugs in through
//! the [builder hooks](AsapServerBuilder#hooks). Connection hygiene (header read timeout,
//! request timeout, idle timeout, connection limits with idle connections closed to make
//! room, HTTP/2 pings and stream bound, graceful drain) belongs to the accept loop in
//! [`serve`].
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
//! - `zstd`: `asap-zstd-v1` (zstd with asap-codec's ASAP dictionary) request and response
//!   bodies with asap-rs clients that name it in `Accept-Encoding`, which are told in an
//!   `Accept-Encoding` response header that the server decodes it; other peers never see
//!   it. Builds the zstd C library (docs/adr/0003-zstd-dictionary-coding.md).
//!
//! - `otel`: OpenTelemetry context for the request and handler spans: the request span
//!   continues the `traceparent` header, the handler span the envelope's W3C fields, and a
//!   response carries the exported ids (install asap-observability's `otel` layer to export).
//!
//! With a feature off, that `Content-Encoding` gets 415.
//!
//! # State stores
//!
//! Stores of the `asap-state` crate plug in through the builder: a shared
//! `asap_state::NonceStore` as the [nonce store](AsapServerBuilder::nonce_store), an
//! `asap_state::IdempotencyStore` for [idempotent sends](AsapServerBuilder::idempotency), and
//! any `asap_state::Ping` store for [`/ready`](AsapServerBuilder::ping_store).
//!
//! # Observability
//!
//! - Logs: every request runs in a `tracing` span and gets an access line
//!   ([`layers::access_log`]); the JSON-RPC endpoint logs the PROTOCOL §14.2 events
//!   (`asap.request.received`, `…processed`, `…error`) under [`LOG_TARGET`]; handler
//!   failures are logged in full. The application installs the subscriber
//!   (`asap_observability::logging`).
//! - Metrics: [`AsapServerBuilder::metrics`] counts every request, handler run, replay and
//!   task transition and serves `GET /asap/metrics`; [`AsapServerBuilder::observer`] adds
//!   any `asap_observability::observe::Observer`.
//! - Traces: the spans above are OpenTelemetry spans under asap-observability's `otel`
//!   layer (feature `otel` here for the propagation).
#![deny(missing_docs)]

mod config;
mod context;
pub mod echo;
mod endpoint;
mod etag;
mod events;
pub mod layers;
pub mod long_running;
mod observe;
mod otel;
pub mod registry;
mod rejection;
pub mod response;
mod router;
pub mod routes;
mod sanitize;
pub mod serve;
mod server;
pub mod state_handlers;
mod trace;

pub use config::{ConfigError, ServerConfig, ServerConfigBuilder, is_truthy};
pub use context::{AsapRequest, PeerAddr, RequestContext, RpcCall};
pub use endpoint::{EndpointFuture, Envelopes, RpcEndpoint};
pub use registry::{Dispatch, Handler, HandlerError, HandlerRegistry, handler_fn};
pub use rejection::Rejection;
pub use router::AsapService;
pub use server::{
    AsapServer, AsapServerBuilder, BuildError, EnvelopeService, PING_INTERVAL, ServerBody,
    ServerFuture, ServerService,
};
pub use trace::TraceContext;

/// `tracing` target of this crate's events.
pub const LOG_TARGET: &str = "asap::server";
