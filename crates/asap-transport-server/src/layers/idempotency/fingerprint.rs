//! What makes two requests with one key the same request.

use asap_model::Envelope;
use sha2::{Digest, Sha256};

/// The fingerprint of `envelope`: SHA-256 (hex) over its `payload_type`, `recipient`,
/// `correlation_id` and serialized `payload`, each length-prefixed so that no two different
/// requests concatenate to the same input. `id`, `timestamp`, `extensions` (the nonce) and
/// `trace_id` are left out: a retry may regenerate them. The sender is part of the key.
///
/// ```
/// use asap_transport_server::layers::idempotency::fingerprint;
///
/// let mut envelope: asap_model::Envelope = serde_json::from_value(serde_json::json!({
///     "asap_version": "0.1", "sender": "urn:asap:agent:a", "recipient": "urn:asap:agent:b",
///     "payload_type": "task.request", "payload": {"x": 1}})).unwrap();
/// let first = fingerprint(&envelope);
/// envelope.timestamp = asap_model::Timestamp::now();
/// assert_eq!(fingerprint(&envelope), first);
/// envelope.payload_type = "task.cancel".into();
/// assert_ne!(fingerprint(&envelope), first);
/// ```
pub fn fingerprint(envelope: &Envelope) -> String {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(envelope.payload_type.as_bytes());
    field(envelope.recipient.as_str().as_bytes());
    match &envelope.correlation_id {
        Some(id) => field(id.as_bytes()),
        None => field(b"\xff"),
    }
    // A payload that does not serialize cannot come from a decoded body; hash it as empty.
    field(&serde_json::to_vec(&envelope.payload).unwrap_or_default());
    hex(&hash.finalize())
}

/// Lower-case hex of `bytes`. Formatting each byte with `write!` cost more instructions than
/// hashing a small payload (a `fmt::write` call per byte); a nibble table costs a push.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::{fingerprint, hex};

    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    /// Stored records carry the fingerprint: its input layout and digest must not change
    /// between releases, or retries after an upgrade would be refused as mismatches. The
    /// expected value is SHA-256 over the length-prefixed fields, computed independently.
    #[test]
    fn fingerprint_layout_is_stable() {
        let envelope: asap_model::Envelope = serde_json::from_value(serde_json::json!({
            "asap_version": "0.1", "sender": "urn:asap:agent:a",
            "recipient": "urn:asap:agent:b", "payload_type": "custom.thing",
            "payload": {"x": 1}}))
        .expect("envelope");
        assert_eq!(
            fingerprint(&envelope),
            "dcd72c6dfe3c7471427587721b6c37ee55de168f0ac35d307cb39714eb0813ef"
        );
    }
}
