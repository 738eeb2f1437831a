//! The log-based trace viewer behind `asap trace` (PROTOCOL §14.4).
//!
//! A server that logs JSON lines (§14.2) writes one `asap.request.received` record per
//! envelope it receives and one `asap.request.processed` record when it has answered. This
//! module rebuilds the hops of one trace from such lines and renders them:
//!
//! 1. [`TraceCollector::push_line`] keeps the lines that contain the trace id as a
//!    substring, parse as a JSON object and have a `trace_id` member equal to it.
//! 2. Received and processed records are indexed by `envelope_id` (the last record of an id
//!    wins, in the place of the first).
//! 3. [`TraceCollector::trace`] makes a [`Hop`] of every received record whose `sender` and
//!    `recipient` are strings; its duration is the numeric `duration_ms` of the processed
//!    record with the same `envelope_id`, or unknown. Hops are ordered by the received
//!    record's `timestamp` (a missing or unparsable one counts as the Unix epoch), stably.
//!
//! Rendering: [`render_ascii`] prints the reference's one-line chain
//! (`client -> echo (6ms)`), or an indented tree when the hops branch ([`Shape`] says
//! which); [`render_json`] prints the `{"trace_id", "hops"}` document byte for byte as the
//! reference does. [`list_trace_ids`] lists the traces a log holds.
//!
//! With the feature `trace-ui`, `web::TraceUi` serves the same as a web page that lists a
//! log's traces and draws one as a waterfall (`asap trace --serve`).
//!
//! ```
//! use asap_observability::trace_view::{TraceCollector, render_ascii};
//!
//! let log = r#"{"event": "asap.request.received", "trace_id": "t1", "envelope_id": "e1", "sender": "urn:asap:agent:a", "recipient": "urn:asap:agent:b", "timestamp": "2026-01-01T12:00:00Z"}
//! {"event": "asap.request.processed", "trace_id": "t1", "envelope_id": "e1", "duration_ms": 15.4}"#;
//! let mut collector = TraceCollector::new("t1");
//! for line in log.lines() {
//!     collector.push_line(line);
//! }
//! assert_eq!(render_ascii(&collector.trace()), "a -> b (15ms)\n");
//! ```

mod ascii;
mod json;
mod record;
mod tree;
#[cfg(feature = "trace-ui")]
pub mod web;

pub use ascii::{format_ms, render_ascii, short};
pub use json::{render_json, to_python_json};
pub use record::{TraceCollector, lines, list_trace_ids};
pub use tree::Shape;

/// One hop of a trace: an envelope that `sender` sent and `recipient` received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Hop {
    /// The sender's URN, as logged.
    pub sender: String,
    /// The recipient's URN, as logged.
    pub recipient: String,
    /// How long the recipient took, in milliseconds, as logged (an integer stays an
    /// integer); `None` when no processed record with the same `envelope_id` has a numeric
    /// `duration_ms`.
    pub duration_ms: Option<serde_json::Number>,
    /// The received record's `timestamp`, when it is a string.
    pub timestamp: Option<String>,
    /// The received record's `timestamp` in microseconds since the Unix epoch; 0 when it is
    /// missing or unparsable (the order key of the hops).
    pub timestamp_micros: i64,
}

/// The hops of one trace, in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Trace {
    /// The trace id asked for.
    pub trace_id: String,
    /// Its hops, ordered by the received records' timestamps; empty when the log holds
    /// none ("No trace found").
    pub hops: Vec<Hop>,
}

impl Trace {
    /// How the hops connect: a chain (each hop sent by the previous hop's recipient) or a
    /// tree.
    pub fn shape(&self) -> Shape {
        Shape::of(&self.hops)
    }
}
