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
    let digest = hash.finalize();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        use std::fmt::Write;
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}
