//! Test utilities for ASAP agents.
//!
//! - [`TestAgent`]: an [`AsapServer`](asap_transport_server::AsapServer) on an ephemeral
//!   127.0.0.1 port, shut down gracefully when dropped or on [`TestAgent::shutdown`].
//! - [`TestClient`]: a small HTTP client for `POST /asap` and the GET routes, returning
//!   status, headers and JSON.
//! - [`RawSender`]: writes arbitrary bytes on a TCP connection (malformed requests, slow
//!   headers) and reads whatever comes back.
//! - [`fixtures`]: the protocol fixtures that ship in this crate's `fixtures/` folder
//!   (examples, invalid samples, captured exchanges, the reference's JSON Schemas), envelope
//!   builders, gzip bodies and bombs.
//! - [`handlers`]: handlers that sleep, wait on a [`Gate`](handlers::Gate), panic or fail
//!   on request, async and blocking.
//! - [`reference`](mod@reference): the Python reference implementation as a test peer.
//! - [`assert`](mod@assert): [`assert_envelope_valid`], [`assert_task_completed`].
//! - [`prometheus`]: a real Prometheus server scraping agents, and its query API.
//! - [`services`]: the PostgreSQL and Redis servers of service-backed tests, skipped
//!   locally when absent and required under `CI=true`.
// The `otlp` bullet links its items only when the feature is on (rustdoc rejects the links
// otherwise).
#![cfg_attr(
    feature = "otlp",
    doc = "- [`otlp`](mod@otlp) (feature `otlp`): [`OtlpReceiver`](otlp::OtlpReceiver), an
  OpenTelemetry OTLP trace receiver (gRPC and HTTP/protobuf) on ephemeral 127.0.0.1 ports
  that decodes exported spans into [`ReceivedSpan`](otlp::ReceivedSpan)s."
)]
#![cfg_attr(
    not(feature = "otlp"),
    doc = "- `otlp` (feature `otlp`, off in this build): `OtlpReceiver`, an OpenTelemetry OTLP
  trace receiver (gRPC and HTTP/protobuf) on ephemeral 127.0.0.1 ports that decodes exported
  spans into `ReceivedSpan`s."
)]
#![deny(missing_docs)]

mod agent;
pub mod assert;
mod client;
pub mod fixtures;
pub mod handlers;
pub mod mutate;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod prometheus;
mod raw;
pub mod reference;
pub mod services;

pub use agent::TestAgent;
pub use assert::{assert_envelope_valid, assert_task_completed};
pub use client::{HttpReply, TestClient};
pub use raw::{RawReply, RawSender};

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
