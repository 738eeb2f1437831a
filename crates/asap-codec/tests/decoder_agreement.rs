//! The simd-json fast path, the serde_json fast path and the exact slow path agree on any
//! input: same framing errors, same ids, same envelopes, and the same payload once the
//! server has typed it (`Envelope::type_payload`: the typed payload of the fast path, or the
//! exact error the slow path's raw payload gives).

use asap_codec::rpc::{RpcError, decode_exact, decode_request, decode_request_serde_json};
use asap_model::{Envelope, Timestamp, ValidationError, arbitrary};
use asap_testing::mutate::mutate;
use proptest::prelude::*;
use serde_json::{Value, json};

fn agree(body: &[u8]) -> Result<(), TestCaseError> {
    let results = [
        decode_request(body),
        decode_request_serde_json(body),
        decode_exact(body),
    ];
    for other in &results[1..] {
        match (&results[0], other) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(&a.id, &b.id);
                let b_envelope = b
                    .envelope
                    .clone()
                    .map(|e| with_generated_from(e, a.envelope.as_ref().ok()));
                prop_assert_eq!(&a.envelope, &b_envelope);
                prop_assert_eq!(typed(&a.envelope), typed(&b_envelope));
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "disagree: {:?} vs {:?}", a, b),
        }
    }
    Ok(())
}

/// The envelope as dispatch hands it to a handler: the payload typed, or the exact error.
fn typed(
    envelope: &Result<Envelope, RpcError>,
) -> Result<Result<Envelope, ValidationError>, RpcError> {
    envelope.clone().map(|mut e| e.type_payload().map(|()| e))
}

/// Ids and timestamps generated for absent members differ between two decodes; copy them
/// over when both sides are freshly generated.
fn with_generated_from(mut envelope: Envelope, reference: Option<&Envelope>) -> Envelope {
    let Some(reference) = reference else {
        return envelope;
    };
    let now = Timestamp::now();
    let fresh = |t: &Timestamp| now.seconds_until(t).abs() < 60.0;
    if envelope.id != reference.id
        && envelope.id.as_str().len() == 26
        && reference.id.as_str().len() == 26
    {
        envelope.id = reference.id.clone();
    }
    if fresh(&envelope.timestamp) && fresh(&reference.timestamp) {
        envelope.timestamp = reference.timestamp;
    }
    envelope
}

fn request(envelope: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": "asap.send", "params": {"envelope": envelope}, "id": "req-1"})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_requests_decode_identically(envelope in arbitrary::envelope()) {
        let body = serde_json::to_vec(&request(serde_json::to_value(&envelope).expect("value"))).expect("body");
        agree(&body)?;
        let call = decode_request(&body).expect("valid request");
        prop_assert_eq!(call.envelope.expect("valid envelope").id, envelope.id);
    }

    #[test]
    fn mutated_requests_decode_identically(
        envelope in arbitrary::envelope(),
        path in proptest::collection::vec(0usize..12, 1..4),
        action in 0u8..3,
        replacement in arbitrary::json_value(),
    ) {
        let mut doc = request(serde_json::to_value(&envelope).expect("value"));
        mutate(&mut doc, &path, action, replacement);
        agree(&serde_json::to_vec(&doc).expect("body"))?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_agree(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        agree(&body)?;
    }

    #[test]
    fn truncated_requests_agree(envelope in arbitrary::envelope(), cut in 0usize..2000) {
        let body = serde_json::to_vec(&request(serde_json::to_value(&envelope).expect("value"))).expect("body");
        let cut = cut.min(body.len());
        agree(&body[..cut])?;
    }
}
