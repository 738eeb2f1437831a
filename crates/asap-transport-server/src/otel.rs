//! The server's side of OpenTelemetry (feature `otel`): remote parents of the request and
//! handler spans, and the ids of the current span. Without the feature these are no-ops.
//!
//! Parents follow PROTOCOL §14.3. The request span (`AccessLog`) continues the HTTP
//! `traceparent` header. The handler span `asap.handler.execute` continues the envelope's
//! W3C `trace_id` and `extensions.span_id` when they are valid, unless the header carries
//! the same trace: then the request span, a descendant of the envelope's span (an
//! asap-rs client marks the envelope with its send span and the header with the attempt),
//! stays the handler's parent and the spans form one tree.

#[cfg(feature = "otel")]
mod on {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use tracing::Span;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use crate::trace::TraceContext;

    fn remote(trace_id: u128, span_id: u64, state: TraceState) -> opentelemetry::Context {
        opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(trace_id),
            SpanId::from(span_id),
            TraceFlags::SAMPLED,
            true,
            state,
        ))
    }

    /// Makes the request's `traceparent` (and `tracestate`) the parent of `span`.
    pub(crate) fn set_http_parent(span: &Span, headers: &http::HeaderMap) {
        if span.is_disabled() {
            return;
        }
        if let Some((trace_id, parent)) = TraceContext::header_parent(headers) {
            let state = headers
                .get("tracestate")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<TraceState>().ok())
                .unwrap_or_default();
            let _ = span.set_parent(remote(trace_id, parent, state));
        }
    }

    /// Makes the envelope's trace fields the parent of the handler span `span` (see the
    /// module docs for when).
    pub(crate) fn set_envelope_parent(
        span: &Span,
        trace: &TraceContext,
        headers: &http::HeaderMap,
    ) {
        if span.is_disabled() || !trace.from_envelope() {
            return;
        }
        let Some(parent) = trace.parent_span_id() else {
            return;
        };
        let same_trace = TraceContext::header_parent(headers)
            .is_some_and(|(header_trace, _)| header_trace == trace.trace_id());
        if !same_trace {
            let _ = span.set_parent(remote(trace.trace_id(), parent, TraceState::default()));
        }
    }

    /// The trace and span ids of the current span, when OpenTelemetry records it.
    pub(crate) fn current_ids() -> Option<(u128, u64)> {
        let span = Span::current();
        if span.is_disabled() {
            return None;
        }
        let context = span.context();
        let otel = context.span();
        let ids = otel.span_context();
        ids.is_valid().then(|| {
            (
                u128::from_be_bytes(ids.trace_id().to_bytes()),
                u64::from_be_bytes(ids.span_id().to_bytes()),
            )
        })
    }
}

#[cfg(feature = "otel")]
pub(crate) use on::{current_ids, set_envelope_parent, set_http_parent};

#[cfg(not(feature = "otel"))]
pub(crate) fn set_http_parent(_span: &tracing::Span, _headers: &http::HeaderMap) {}

#[cfg(not(feature = "otel"))]
pub(crate) fn set_envelope_parent(
    _span: &tracing::Span,
    _trace: &crate::trace::TraceContext,
    _headers: &http::HeaderMap,
) {
}

#[cfg(not(feature = "otel"))]
pub(crate) fn current_ids() -> Option<(u128, u64)> {
    None
}
