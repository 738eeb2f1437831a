//! Observability for ASAP agents (PROTOCOL §14).
//!
//! - [`redact`]: [`sanitize_for_logging`](redact::sanitize_for_logging) and its relatives,
//!   which replace secrets (credentials in keys, bearer tokens, passwords in URLs) by
//!   `***REDACTED***` before anything is logged.
//! - [`logging`]: the process's `tracing` subscriber, console or JSON lines (§14.2),
//!   configured by `ASAP_LOG_FORMAT`, `ASAP_LOG_LEVEL` and `ASAP_SERVICE_NAME`: a layer to
//!   add to a service's own subscriber ([`LogConfig::layer`](logging::LogConfig::layer)), or
//!   installed whole ([`LogConfig::init`](logging::LogConfig::init)).
//! - [`observe`]: the [`Observer`](observe::Observer) callbacks a server calls per request
//!   and per handler run, and the error kinds they carry.
//! - [`metrics`]: [`Metrics`](metrics::Metrics), every metric of §14.1 in a
//!   prometheus-client registry, served as Prometheus text or OpenMetrics.
//! - `otel` (feature `otel`): OpenTelemetry traces exported over OTLP (gRPC or
//!   HTTP/protobuf) as the standard `OTEL_*` variables say (§14.3).
//! - [`trace_view`]: the log-based trace viewer behind `asap trace` (§14.4): hops of one
//!   trace rebuilt from JSON log lines, rendered as the reference's chain, a tree, or JSON.
//!   With the feature `trace-ui`, `trace_view::web::TraceUi`: the same as a web page with a
//!   waterfall of the hops, a tower `Service` to mount under any path.
#![deny(missing_docs)]

pub mod logging;
pub mod metrics;
pub mod observe;
#[cfg(feature = "otel")]
pub mod otel;
pub mod redact;
pub mod trace_view;
