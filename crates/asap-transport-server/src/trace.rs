//! W3C trace context for envelopes: inbound parent and outbound injection (PROTOCOL §14.3).

use asap_model::{Envelope, JsonObject};

/// Trace identifiers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// This server's span, 16 lowercase hex digits.
    pub span_id: String,
    /// The remote parent span, when the request carried one.
    pub parent_span_id: Option<String>,
    /// Whether the trace continues the W3C fields of the request envelope itself.
    pub from_envelope: bool,
}

impl Default for TraceContext {
    fn default() -> Self {
        Self {
            trace_id: random_hex(32),
            span_id: random_hex(16),
            parent_span_id: None,
            from_envelope: false,
        }
    }
}

/// `len` (≤ 32) lowercase hex digits from one random draw, never all zeros (W3C forbids it).
fn random_hex(len: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let value = rand::random::<u128>() | 1;
    (0..len)
        .rev()
        .map(|i| char::from(DIGITS[((value >> (4 * i)) & 0xf) as usize]))
        .collect()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
}

impl TraceContext {
    /// The context of a request: the envelope's W3C `trace_id` + `extensions.span_id` when
    /// both are valid, else a `traceparent` header, else a fresh trace.
    pub fn from_request(envelope: &Envelope, headers: &http::HeaderMap) -> Self {
        let span_id = random_hex(16);
        if let (Some(trace_id), Some(parent)) = (
            envelope.trace_id.as_deref(),
            envelope
                .extensions
                .as_ref()
                .and_then(|e| e.get("span_id"))
                .and_then(|v| v.as_str()),
        ) && is_hex(trace_id, 32)
            && is_hex(parent, 16)
        {
            return Self {
                trace_id: trace_id.to_ascii_lowercase(),
                span_id,
                parent_span_id: Some(parent.to_ascii_lowercase()),
                from_envelope: true,
            };
        }
        if let Some((trace_id, parent)) = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent)
        {
            return Self {
                trace_id,
                span_id,
                parent_span_id: Some(parent),
                from_envelope: false,
            };
        }
        Self {
            trace_id: random_hex(32),
            span_id,
            parent_span_id: None,
            from_envelope: false,
        }
    }

    /// Adds trace fields to a response envelope as the protocol describes: nothing when the
    /// request continued a W3C trace carried in the envelope; otherwise `extensions.trace_id`
    /// and `extensions.span_id` of this server's span, and `trace_id` when the response has none.
    pub fn inject(&self, response: &mut Envelope) {
        if self.from_envelope {
            return;
        }
        let extensions = response.extensions.get_or_insert_with(JsonObject::new);
        extensions.insert("trace_id".into(), self.trace_id.clone().into());
        extensions.insert("span_id".into(), self.span_id.clone().into());
        if response.trace_id.is_none() {
            response.trace_id = Some(self.trace_id.clone());
        }
    }
}

/// Parses `00-<32 hex>-<16 hex>-<2 hex>`.
fn parse_traceparent(header: &str) -> Option<(String, String)> {
    let mut parts = header.trim().split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let parent = parts.next()?;
    let flags = parts.next()?;
    (version.len() == 2
        && version != "ff"
        && is_hex(trace_id, 32)
        && is_hex(parent, 16)
        && flags.len() == 2)
        .then(|| (trace_id.to_ascii_lowercase(), parent.to_ascii_lowercase()))
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
        assert_eq!(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
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
        assert!(is_hex(ext["trace_id"].as_str().expect("trace"), 32));
        assert!(is_hex(ext["span_id"].as_str().expect("span"), 16));
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
