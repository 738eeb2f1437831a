//! Names of the events of PROTOCOL §14.2, written as the `event` field of a log line and read
//! back by tooling such as `asap trace`.
//!
//! ```
//! use asap_observability::logging::event;
//!
//! tracing::info!(
//!     event = event::RECEIVED,
//!     envelope_id = "01J…",
//!     trace_id = "t-1",
//!     payload_type = "task.request",
//!     authenticated = false,
//! );
//! ```

/// A request envelope arrived: `envelope_id` (the request's), `trace_id`, `payload_type`,
/// `sender`, `recipient`, `authenticated`.
pub const RECEIVED: &str = "asap.request.received";

/// A request was answered: `envelope_id`, `response_id`, `trace_id`, `payload_type`,
/// `duration_ms`.
pub const PROCESSED: &str = "asap.request.processed";

/// A request failed: `error`, `error_type`, `duration_ms`.
pub const ERROR: &str = "asap.request.error";
