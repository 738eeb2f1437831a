//! W3C trace context for envelopes: inbound parent and outbound injection (PROTOCOL §14.3).

use asap_model::{Envelope, JsonObject};

/// Trace identifiers of one request.
///
/// The ids are numbers, drawn or parsed once; they are formatted as hex only when a response
/// envelope is given them ([`inject`](Self::inject)), or when asked for
/// ([`trace_id_hex`](Self::trace_id_hex)…). The context is `Copy`: passing it around costs
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: u128,
    span_id: u64,
    parent_span_id: Option<u64>,
    from_envelope: bool,
}

impl Default for TraceContext {
    /// A fresh trace (random trace and span ids, no parent).
    fn default() -> Self {
        let (trace_id, span_id) = fresh_ids();
        Self {
            trace_id,
            span_id,
            parent_span_id: None,
            from_envelope: false,
        }
    }
}

/// A random trace id and span id from one draw, never zero (W3C forbids all-zero ids).
fn fresh_ids() -> (u128, u64) {
    let draw: [u64; 3] = rand::random();
    let trace = (u128::from(draw[0]) << 64 | u128::from(draw[1])) | 1;
    (trace, draw[2] | 1)
}

/// A fresh span id.
fn fresh_span() -> u64 {
    rand::random::<u64>() | 1
}

/// `value` as `N` lowercase hex digits, without `core::fmt`.
fn hex<const N: usize>(value: u128) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = DIGITS[((value >> (4 * (N - 1 - i))) & 0xf) as usize];
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// `len` hex digits, not all zeros, as a number.
fn parse_hex(s: &str, len: usize) -> Option<u128> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok().filter(|v| *v != 0)
}

fn parse_span(s: &str) -> Option<u64> {
    parse_hex(s, 16).and_then(|v| u64::try_from(v).ok())
}

impl TraceContext {
    /// The context of a request: the envelope's W3C `trace_id` + `extensions.span_id` when
    /// both are valid, else a `traceparent` header, else a fresh trace.
    pub fn from_request(envelope: &Envelope, headers: &http::HeaderMap) -> Self {
        if let (Some(trace_id), Some(parent)) = (
            envelope.trace_id.as_deref().and_then(|t| parse_hex(t, 32)),
            envelope
                .extensions
                .as_ref()
                .and_then(|e| e.get("span_id"))
                .and_then(|v| v.as_str())
                .and_then(parse_span),
        ) {
            return Self {
                trace_id,
                span_id: fresh_span(),
                parent_span_id: Some(parent),
                from_envelope: true,
            };
        }
        if let Some((trace_id, parent)) = Self::header_parent(headers) {
            return Self {
                trace_id,
                span_id: fresh_span(),
                parent_span_id: Some(parent),
                from_envelope: false,
            };
        }
        Self::default()
    }

    /// The trace id.
    pub fn trace_id(&self) -> u128 {
        self.trace_id
    }

    /// This server's span id.
    pub fn span_id(&self) -> u64 {
        self.span_id
    }

    /// The remote parent span, when the request carried one.
    pub fn parent_span_id(&self) -> Option<u64> {
        self.parent_span_id
    }

    /// Whether the trace continues the W3C fields of the request envelope itself.
    pub fn from_envelope(&self) -> bool {
        self.from_envelope
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex::<32>(self.trace_id)
    }

    /// The span id as 16 lowercase hex digits.
    pub fn span_id_hex(&self) -> String {
        hex::<16>(u128::from(self.span_id))
    }

    /// The parent span id as 16 lowercase hex digits.
    pub fn parent_span_id_hex(&self) -> Option<String> {
        self.parent_span_id.map(|p| hex::<16>(u128::from(p)))
    }

    /// Adds trace fields to a response envelope as the protocol describes: nothing when the
    /// request continued a W3C trace carried in the envelope; otherwise `extensions.trace_id`
    /// and `extensions.span_id` of this server's span, and `trace_id` when the response has none.
    pub fn inject(&self, response: &mut Envelope) {
        if self.from_envelope {
            return;
        }
        let trace_id = self.trace_id_hex();
        let extensions = response.extensions.get_or_insert_with(JsonObject::new);
        extensions.insert("trace_id".into(), trace_id.as_str().into());
        extensions.insert("span_id".into(), self.span_id_hex().into());
        if response.trace_id.is_none() {
            response.trace_id = Some(trace_id);
        }
    }
}

impl TraceContext {
    /// This context with the trace and span ids of the current OpenTelemetry span (the
    /// request's server span) when one is recording, so that the ids a response carries are
    /// the ones exported; a context continuing the envelope's own W3C fields is kept, and
    /// without OpenTelemetry (feature `otel` off, or no layer installed) nothing changes.
    pub(crate) fn aligned(mut self) -> Self {
        if !self.from_envelope
            && let Some((trace_id, span_id)) = crate::otel::current_ids()
        {
            self.trace_id = trace_id;
            self.span_id = span_id;
        }
        self
    }

    /// The request's `traceparent` header, when valid: its trace id and parent span id.
    pub(crate) fn header_parent(headers: &http::HeaderMap) -> Option<(u128, u64)> {
        headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent)
    }
}

/// Parses `00-<32 hex>-<16 hex>-<2 hex>`.
fn parse_traceparent(header: &str) -> Option<(u128, u64)> {
    let mut parts = header.trim().split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let parent = parts.next()?;
    let flags = parts.next()?;
    if version.len() != 2 || version == "ff" || flags.len() != 2 {
        return None;
    }
    Some((parse_hex(trace_id, 32)?, parse_span(parent)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(trace_id: Option<&str>, span_id: Option<&str>) -> Envelope {
        let mut e: Envelope = serde_json::from_str(
            r#"{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b","payload_type":"x","payload":{}}"#,
        )
        .expect("envelope");
        e.trace_id = trace_id.map(str::to_owned);
        if let Some(s) = span_id {
            e = e.with_extension("span_id", s);
        }
        e
    }

    #[test]
    fn w3c_envelope_fields_become_the_parent_and_nothing_is_injected() {
        let req = envelope(
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            Some("00f067aa0ba902b7"),
        );
        let ctx = TraceContext::from_request(&req, &http::HeaderMap::new());
        assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            ctx.parent_span_id_hex().as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert!(ctx.from_envelope());
        let mut resp = envelope(Some("4bf92f3577b34da6a3ce929d0e0e4736"), None);
        ctx.inject(&mut resp);
        assert_eq!(resp.extensions, None);
    }

    #[test]
    fn missing_trace_gets_the_server_trace() {
        let req = envelope(None, None);
        let ctx = TraceContext::from_request(&req, &http::HeaderMap::new());
        let mut resp = envelope(None, None);
        ctx.inject(&mut resp);
        let ext = resp.extensions.expect("extensions");
        assert_eq!(resp.trace_id.as_deref(), ext["trace_id"].as_str());
        assert_eq!(ext["trace_id"].as_str(), Some(ctx.trace_id_hex().as_str()));
        assert_eq!(ext["span_id"].as_str(), Some(ctx.span_id_hex().as_str()));
        assert!(parse_hex(ext["trace_id"].as_str().expect("trace"), 32).is_some());
        assert!(parse_span(ext["span_id"].as_str().expect("span")).is_some());
    }

    #[test]
    fn traceparent_header_is_honoured() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            http::HeaderValue::from_static(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        );
        let req = envelope(None, None);
        let ctx = TraceContext::from_request(&req, &headers);
        let mut resp = envelope(None, None);
        ctx.inject(&mut resp);
        assert_eq!(
            resp.trace_id.as_deref(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn hex_is_fixed_width_and_round_trips() {
        assert_eq!(hex::<16>(0xab), "00000000000000ab");
        assert_eq!(hex::<32>(u128::MAX), "f".repeat(32));
        let ctx = TraceContext::default();
        assert_eq!(parse_hex(&ctx.trace_id_hex(), 32), Some(ctx.trace_id()));
        assert_eq!(parse_span(&ctx.span_id_hex()), Some(ctx.span_id()));
        assert_eq!(parse_hex(&"0".repeat(32), 32), None, "all zeros is invalid");
        assert_eq!(parse_hex("+123", 4), None);
        assert_eq!(parse_span("00F067AA0BA902B7"), Some(0x00f0_67aa_0ba9_02b7));
        assert_eq!(
            parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"),
            None
        );
        assert_eq!(
            parse_traceparent("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            None
        );
    }
}
