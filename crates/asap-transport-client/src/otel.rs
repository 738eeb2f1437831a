//! Trace propagation of outgoing sends (feature `otel`): the W3C `traceparent` (and
//! `tracestate`) header of
//! each attempt, and the envelope's `trace_id` / `extensions.span_id` (PROTOCOL §14.3), from
//! the OpenTelemetry spans `asap.send` and `asap.send.attempt`. Without the feature, or
//! without an OpenTelemetry layer recording the spans, nothing is added.

use asap_model::Envelope;

/// The envelope marked with the current send span, when OpenTelemetry records it: a
/// `trace_id` is given when the envelope has none, and `extensions.span_id` when the
/// envelope's trace is the span's. An envelope already carrying another trace id (an
/// application's own correlation id, say) keeps it and gets no span id.
pub(crate) fn mark(envelope: &Envelope) -> Option<Envelope> {
    let (trace_id, span_id) = imp::current_ids()?;
    let trace_hex = format!("{trace_id:032x}");
    match envelope.trace_id.as_deref() {
        None => {}
        Some(own) if own.eq_ignore_ascii_case(&trace_hex) => {}
        Some(_) => return None,
    }
    let mut marked = envelope.clone();
    marked.trace_id = Some(trace_hex);
    Some(marked.with_extension("span_id", format!("{span_id:016x}")))
}

/// The W3C headers naming `span` as the parent, when OpenTelemetry records it:
/// `traceparent`, and `tracestate` when the trace carries vendor state.
pub(crate) fn headers(span: &tracing::Span, headers: &mut http::HeaderMap) {
    let Some((trace_id, span_id)) = imp::ids(span) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&format!("00-{trace_id:032x}-{span_id:016x}-01"))
    {
        headers.insert("traceparent", value);
    }
    if let Some(value) = imp::state(span)
        .filter(|state| !state.is_empty())
        .and_then(|state| http::HeaderValue::from_str(&state).ok())
    {
        headers.insert("tracestate", value);
    }
}

#[cfg(feature = "otel")]
mod imp {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    pub(super) fn ids(span: &tracing::Span) -> Option<(u128, u64)> {
        if span.is_disabled() {
            return None;
        }
        let context = span.context();
        let otel = context.span();
        let ids = otel.span_context();
        (ids.is_valid() && ids.is_sampled()).then(|| {
            (
                u128::from_be_bytes(ids.trace_id().to_bytes()),
                u64::from_be_bytes(ids.span_id().to_bytes()),
            )
        })
    }

    pub(super) fn current_ids() -> Option<(u128, u64)> {
        ids(&tracing::Span::current())
    }

    /// The `tracestate` of `span`'s trace.
    pub(super) fn state(span: &tracing::Span) -> Option<String> {
        if span.is_disabled() {
            return None;
        }
        let context = span.context();
        Some(context.span().span_context().trace_state().header())
    }
}

#[cfg(not(feature = "otel"))]
mod imp {
    pub(super) fn ids(_span: &tracing::Span) -> Option<(u128, u64)> {
        None
    }

    pub(super) fn current_ids() -> Option<(u128, u64)> {
        None
    }

    pub(super) fn state(_span: &tracing::Span) -> Option<String> {
        None
    }
}
