//! ASAP agent client: JSON-RPC 2.0 `asap.send` over pooled HTTP/1.1 and HTTP/2, with the
//! reference client's retries, backoff, circuit breaker, compression, manifest cache and
//! batch sends (PROTOCOL §12), and a `tower::Service<Envelope>` implementation.
//!
//! - [`AsapClient`]: built with [`AsapClient::builder`]; [`send`](AsapClient::send),
//!   [`send_batch`](AsapClient::send_batch), [`get_manifest`](AsapClient::get_manifest).
//! - [`ClientConfig`]: every setting and its default (table below).
//! - [`ClientError`]: connection, timeout, deadline, remote (JSON-RPC), circuit-open,
//!   pool-timeout and configuration errors, with queries such as
//!   [`is_connect`](ClientError::is_connect) and [`is_timeout`](ClientError::is_timeout);
//!   the underlying hyper, I/O or TLS error is its [`source`](std::error::Error::source)
//!   ([`ErrorSource`]).
//! - [`BreakerConfig`] / [`BreakerState`]: the per-base-URL circuit breaker.
//! - [`Backoff`]: the retry delays.
//!
//! # Example
//!
//! ```no_run
//! use asap_model::{Envelope, payload::TaskRequest};
//! use asap_transport_client::{AsapClient, BreakerConfig, ClientError};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = AsapClient::builder("https://agent.example")
//!     .bearer_token("my-token")
//!     .circuit_breaker(BreakerConfig::default())
//!     .build()?;
//!
//! let request = Envelope::new(
//!     "urn:asap:agent:client".parse()?,
//!     "urn:asap:agent:echo".parse()?,
//!     TaskRequest {
//!         conversation_id: "conv_1".into(),
//!         parent_task_id: None,
//!         skill_id: "echo".into(),
//!         input: serde_json::json!({"text": "hi"}).as_object().cloned().unwrap_or_default(),
//!         config: None,
//!     },
//! );
//! match client.send(request).await {
//!     Ok(reply) => println!("{}: {:?}", reply.payload_type, reply.correlation_id),
//!     Err(ClientError::Remote { code, message, .. }) => eprintln!("agent said {code}: {message}"),
//!     Err(other) => eprintln!("transport failure: {other}"),
//! }
//!
//! let manifest = client.get_manifest().await?; // cached for 300 s
//! println!("{} {}", manifest.name, manifest.version);
//! # Ok(())
//! # }
//! ```
//!
//! # Defaults
//!
//! | setting | default | reference (PROTOCOL §12.1) |
//! |---|---|---|
//! | request timeout | 60 s per attempt | same |
//! | `deadline` | 60 s per send, every attempt and wait included (`None`: unbounded) | none |
//! | `max_retries` | 3 **total attempts** | same |
//! | `base_delay` / `max_delay` / `jitter` | 1 s / 60 s / on | same |
//! | `max_retry_after` | `max_delay`; a longer `Retry-After` is returned, not waited for | uncapped |
//! | circuit breaker | off; threshold 5, timeout 60 s, **1 half-open probe** | half-open admits everything |
//! | max connections per host | 100 (`ASAP_POOL_MAXSIZE`) | 100, no env var |
//! | idle keep-alive connections per host | 100 (`ASAP_POOL_CONNECTIONS`) | 100, no env var |
//! | keep-alive expiry | 5 s | same |
//! | pool-acquire timeout | 5 s | same |
//! | HTTP/2 | ALPN `h2`/`http/1.1` on https; HTTP/1.1 on http unless `http2_prior_knowledge` | same, no h2c |
//! | compression | on, ≥ 1024 bytes, brotli (gzip without `br`), only when smaller | same |
//! | max response size | 10 MiB | unbounded |
//! | manifest cache | 1000 entries, TTL 300 s, ETag revalidation | no revalidation |
//! | manifest timeout | `min(timeout, 10 s)` | same |
//! | `require_https` | on | same |
//!
//! See [`ClientConfig`] for the full table.
//!
//! # Behaviour worth knowing
//!
//! - **Send algorithm**: [`AsapClient::send`] documents it step by step. The JSON-RPC id
//!   (`req-<n>`) and the ULID idempotency key are the same on every attempt.
//! - **Circuit breaker**: owned by the client (clones share it), keyed by its base URL. The
//!   reference shares breakers process-wide by URL; here two independently built clients
//!   of one URL have two breakers.
//! - **Connection bound**: every HTTP attempt holds one of `max_connections_per_host`
//!   slots; a send that waits longer than `pool_acquire_timeout` for one fails with
//!   [`ClientError::PoolTimeout`], which is not retried and not counted by the breaker.
//! - **Old servers** (reference 0.1 and 0.5) cannot read compressed bodies and answer them
//!   with a JSON-RPC `-32700` parse error (PROTOCOL §18); servers built without an encoding
//!   answer HTTP 415. When a compressed request gets either answer, the client resends the
//!   same request uncompressed at once — not counted as a retry — and stops compressing for
//!   good (for this client and its clones). No configuration is needed; the detection costs
//!   one extra round trip, once.
//! - **Responses** with `Content-Encoding: gzip` or `br` are decompressed, up to
//!   `max_response_size`.
//! - **`asap-zstd-v1`** (feature `zstd`, off by default): zstd with the ASAP envelope
//!   dictionary of asap-codec. The client lists it in `Accept-Encoding`, so an asap-rs
//!   server of a `zstd` build may answer with it, and sends zstd request bodies only after a
//!   reply of that server advertised the coding in its own `Accept-Encoding` header
//!   (RFC 7694); until then, and for every other server, bodies are brotli or gzip as
//!   above. A server that refuses a zstd body (415, `-32700`) gets the request again in the
//!   standard coding at once. See `docs/adr/0003-zstd-dictionary-coding.md`.
//! - **Deadline**: `timeout` bounds one attempt, `deadline` the whole send. A server that
//!   accepts and never answers costs `deadline`, not `timeout × max_retries`; a backoff or
//!   `Retry-After` wait that would pass the deadline is not started. Either way the send
//!   fails with [`ClientError::DeadlineExceeded`]. The same holds for each send of
//!   [`send_batch`](AsapClient::send_batch) (one deadline per envelope) and for the
//!   `tower::Service` calls. See [`ClientConfig`] for the details.
//! - **`Retry-After`** on 429 and 503 (seconds or HTTP-date) is waited for when it is at
//!   most `max_retry_after` (default `max_delay`, 60 s). A longer one ends the send at once
//!   with the HTTP error, whose [`retry_after`](ClientError::retry_after) is the hint, so
//!   the caller can schedule the retry instead of being held for it.
//! - **Time**: waits use `tokio::time`, so tests can run with paused time.
//!
//! # HTTP/2 over TLS and cold starts
//!
//! Over https, HTTP/2 is chosen by ALPN during the handshake, so the pool only learns that a
//! connection multiplexes once its first handshake finishes: a burst of concurrent sends on a
//! cold client may open several TLS connections, after which every request moves onto one and
//! the others are dropped. Send one request first (or fetch the manifest), or use
//! `http2_prior_knowledge(true)`, when a startup burst matters.
//!
//! # Feature flags
//!
//! - `gzip` (default): gzip request and response bodies.
//! - `br` (default): brotli request and response bodies (preferred for requests).
//! - `zstd`: `asap-zstd-v1` request and response bodies with asap-rs servers that
//!   advertise it (see "Behaviour worth knowing"). Builds the zstd C library.
//! - `rustls` (default): `https://` through rustls with the ring provider and the
//!   `webpki-roots` Mozilla roots, ALPN `h2` and `http/1.1`; custom settings with
//!   [`AsapClientBuilder::tls_config`]. Without it, `https://` URLs are refused.
//!
//! - `otel`: each attempt sends a W3C `traceparent` naming its span, and the envelope gets
//!   the send's trace (`trace_id`, `extensions.span_id`) when OpenTelemetry records the
//!   spans (asap-observability's `otel` layer).
//! - `metrics`: `AsapClientBuilder::metrics` and `AsapClientBuilder::observer` report
//!   sends, retries, circuit-breaker changes, connection slots and the manifest cache to
//!   asap-observability.
//!
//! # Logging and traces
//!
//! Events go through `tracing` with target [`LOG_TARGET`]: `warn` for retries, breaker
//! openings, old-server detection and plain-HTTP localhost use; `debug` per attempt. Each
//! send runs in the span `asap.send`, each attempt in `asap.send.attempt`.
#![deny(missing_docs)]

pub mod backoff;
mod batch;
mod breaker;
mod client;
mod config;
mod connections;
mod deadline;
mod error;
mod manifest;
mod observe;
mod otel;
mod peer_coding;
mod pool;
mod reply;
mod retry;
mod service;
mod transport;
mod url;

pub use backoff::Backoff;
pub use batch::BatchMode;
pub use breaker::{BreakerConfig, BreakerState};
pub use client::{AsapClient, AsapClientBuilder};
pub use config::{ClientConfig, ClientConfigBuilder, ENV_POOL_CONNECTIONS, ENV_POOL_MAXSIZE};
pub use error::{ClientError, ErrorSource};
pub use manifest::HttpManifestFetcher;
pub use service::ResponseFuture;

/// Re-exported: the cache settings taken by [`AsapClientBuilder::manifest_cache`].
pub use asap_cache::{CacheConfig, CacheStats, ManifestCache};

/// `tracing` target of this crate's events.
pub const LOG_TARGET: &str = "asap::client";
