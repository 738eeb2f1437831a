//! The web view of the trace viewer (PROTOCOL §14.4; feature `trace-ui`): a page that lists
//! the traces of pasted or loaded log lines and draws one as a waterfall, and the JSON API
//! behind it, as one tower [`Service`](tower_service::Service), [`TraceUi`].
//!
//! Paths are relative to the base path ([`TraceUi::with_base`], `/` by default):
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | the page (HTML, no external resources) |
//! | `POST /api/traces/list` `{"log_lines": str}` | `{"trace_ids": [...]}`: the sorted, unique trace ids of the `asap.request.received` and `asap.request.processed` records |
//! | `POST /api/traces/visualize` `{"log_lines": str, "trace_id": str}` | `{"trace_id", "hops", "diagram"}`, or 404 `{"detail": "No trace found for: <id>"}` |
//! | `GET /api/log` | `{"log_lines": str or null, "trace_id": str or null}`: what the viewer was started with ([`TraceUi::with_log`], [`TraceUi::with_trace`]) |
//!
//! `log_lines` is split into lines as `asap trace` splits a file ([`lines`](super::lines)).
//! The trace id is looked up without surrounding white space and echoed as sent. Each hop
//! holds `sender`, `recipient` and `duration_ms`, the members of `asap trace -o json`, and
//! two extensions for drawing a timeline:
//!
//! - `started_at`: when the hop was received, the received record's `timestamp` in UTC as
//!   RFC 3339 with microseconds (`2026-01-01T12:00:00.000000Z`); `null` when it has none
//!   that parses.
//! - `offset_ms`: milliseconds from the earliest `started_at` of the trace to this one (0
//!   for the first hop); `null` when `started_at` is.
//!
//! `diagram` is what `asap trace` prints, without its final newline: the one-line chain
//! (`coordinator -> research (15ms) -> writer (22ms)`), or the indented tree when the hops
//! branch.
//!
//! Errors are JSON `{"detail": ...}`: 404 for unknown paths, 405 for other methods (with
//! `Allow`), 413 for a body over the limit ([`TraceUi::with_body_limit`]; refused as soon
//! as its `Content-Length` or the bytes read exceed it) or a `log_lines` longer than
//! [`MAX_LOG_CHARS`] characters, 422 for a body that is not the JSON object asked for
//! (`detail` is then a list of `{"type", "loc", "msg"}` errors).
//!
//! ```
//! use asap_observability::trace_view::web::TraceUi;
//!
//! // Mounted under /asap/traces, with a log to start from.
//! let ui = TraceUi::new()
//!     .with_base("/asap/traces")
//!     .with_log("{\"event\": \"asap.request.received\", \"trace_id\": \"t1\"}");
//! assert_eq!(ui.base(), "/asap/traces");
//! ```

mod api;
mod body;
mod reply;
mod route;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{Request, Response};
use http_body_util::Full;

/// The longest `log_lines` accepted, in characters (Unicode scalar values); longer ones are
/// answered with 413.
pub const MAX_LOG_CHARS: usize = 2 * 1024 * 1024;

/// The default limit of a request body, in bytes: room for [`MAX_LOG_CHARS`] characters of
/// log with their JSON escapes.
pub const DEFAULT_BODY_LIMIT: usize = 5 * 512 * 1024;

/// The future of [`TraceUi`]'s answers.
pub type TraceUiFuture =
    Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

/// The web view of the trace viewer: a tower `Service` answering the page and its API
/// (see the [module](self) for the routes). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct TraceUi {
    settings: Arc<Settings>,
}

/// What a [`TraceUi`] was built with.
#[derive(Debug, Clone)]
struct Settings {
    /// The base path without its trailing `/` (empty for `/`).
    base: String,
    log: Option<String>,
    trace_id: Option<String>,
    body_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: String::new(),
            log: None,
            trace_id: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

impl TraceUi {
    /// A viewer at `/`, with no log to start from.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers under `base` (such as `/asap/traces`) instead of `/`: the page is at
    /// `<base>/` (`<base>` redirects there) and the API at `<base>/api/...`; every other
    /// path is 404. A missing leading `/` is added and trailing ones are dropped.
    pub fn with_base(mut self, base: impl AsRef<str>) -> Self {
        let base = base.as_ref().trim_end_matches('/');
        let base = if base.is_empty() || base.starts_with('/') {
            base.to_owned()
        } else {
            format!("/{base}")
        };
        self.settings_mut().base = base;
        self
    }

    /// Log lines for the page to start with (`GET /api/log`). The body limit grows when
    /// needed so that the page can send them back whole.
    pub fn with_log(mut self, log: impl Into<String>) -> Self {
        let log = log.into();
        let needed = api::body_size_for(&log);
        let settings = self.settings_mut();
        settings.body_limit = settings.body_limit.max(needed);
        settings.log = Some(log);
        self
    }

    /// The trace for the page to show first (`GET /api/log`).
    pub fn with_trace(mut self, trace_id: impl Into<String>) -> Self {
        self.settings_mut().trace_id = Some(trace_id.into());
        self
    }

    /// The largest request body accepted, in bytes ([`DEFAULT_BODY_LIMIT`] by default);
    /// larger ones are answered with 413 before more is read.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.settings_mut().body_limit = bytes;
        self
    }

    /// The base path the viewer answers under: `/`, or the given one without its trailing
    /// `/`.
    pub fn base(&self) -> &str {
        if self.settings.base.is_empty() {
            "/"
        } else {
            &self.settings.base
        }
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(&self) -> usize {
        self.settings.body_limit
    }

    fn settings_mut(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }
}

impl<B> tower_service::Service<Request<B>> for TraceUi
where
    B: http_body::Body + Send + 'static,
    B::Data: Buf + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = TraceUiFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let settings = Arc::clone(&self.settings);
        Box::pin(async move { Ok(route::answer(&settings, request).await) })
    }
}
