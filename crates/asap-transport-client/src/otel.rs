//! Trace propagation of outgoing sends (feature `otel`): the W3C `traceparent` header of
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

/// The `traceparent` value naming `span` as the parent, when OpenTelemetry records it.
pub(crate) fn traceparent(span: &tracing::Span) -> Option<http::HeaderValue> {
    let (trace_id, span_id) = imp::ids(span)?;
    http::HeaderValue::from_str(&format!("00-{trace_id:032x}-{span_id:016x}-01")).ok()
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
}

#[cfg(not(feature = "otel"))]
mod imp {
    pub(super) fn ids(_span: &tracing::Span) -> Option<(u128, u64)> {
        None
    }

    pub(super) fn current_ids() -> Option<(u128, u64)> {
        None
    }
}
