//! Observability for ASAP agents (PROTOCOL §14).
//!
//! - [`redact`]: [`sanitize_for_logging`](redact::sanitize_for_logging) and its relatives,
//!   which replace secrets (credentials in keys, bearer tokens, passwords in URLs) by
//!   `***REDACTED***` before anything is logged.
//! - [`logging`]: the process's `tracing` subscriber, console or JSON lines, configured by
//!   `ASAP_LOG_FORMAT`, `ASAP_LOG_LEVEL` and `ASAP_SERVICE_NAME`.
#![deny(missing_docs)]

pub mod logging;
pub mod redact;
