//! `params.idempotency_key`: every decoder captures the same key (a string, verbatim) or none
//! (absent, `null` or another JSON type, which the protocol ignores), without changing the
//! rest of the decode.

use asap_codec::rpc::{
    decode_exact_keyed, decode_request, decode_request_keyed, decode_request_serde_json_keyed,
};
use asap_model::arbitrary;
use proptest::prelude::*;
use serde_json::{Value, json};

fn body(envelope: Value, key: Option<Value>) -> Vec<u8> {
    let mut params = json!({"envelope": envelope});
    if let Some(key) = key {
        params["idempotency_key"] = key;
    }
    serde_json::to_vec(
        &json!({"jsonrpc": "2.0", "method": "asap.send", "params": params, "id": "req-1"}),
    )
    .expect("body")
}

fn keys(body: &[u8]) -> [Option<Option<String>>; 3] {
    [
        decode_request_keyed(body).ok().map(|k| k.idempotency_key),
        decode_request_serde_json_keyed(body)
            .ok()
            .map(|k| k.idempotency_key),
        decode_exact_keyed(body).ok().map(|k| k.idempotency_key),
    ]
}

fn small_envelope() -> Value {
    json!({"asap_version": "0.1", "sender": "urn:asap:agent:a", "recipient": "urn:asap:agent:b",
           "payload_type": "task.request",
           "payload": {"conversation_id": "c", "skill_id": "echo", "input": {}}})
}

#[test]
fn a_string_key_is_kept_by_every_decoder() {
    let body = body(small_envelope(), Some(json!("01M85F3B8S4J5FWZG663GZ6ZDG")));
    let expected = Some(Some("01M85F3B8S4J5FWZG663GZ6ZDG".to_owned()));
    assert_eq!(keys(&body), [expected.clone(), expected.clone(), expected]);
}

#[test]
fn absent_null_and_other_types_are_no_key() {
    for key in [
        None,
        Some(json!(null)),
        Some(json!(7)),
        Some(json!({"k": 1})),
        Some(json!(["a"])),
    ] {
        let body = body(small_envelope(), key.clone());
        assert_eq!(keys(&body), [Some(None), Some(None), Some(None)], "{key:?}");
        // The envelope decodes as it does without the member.
        let envelope = decode_request(&body).expect("framed").envelope;
        assert!(envelope.is_ok(), "{key:?}: {envelope:?}");
    }
}

#[test]
fn the_key_is_kept_when_the_envelope_is_invalid() {
    let body = body(json!({"sender": "nope"}), Some(json!("k-1")));
    for keyed in [decode_request_keyed(&body), decode_exact_keyed(&body)] {
        let keyed = keyed.expect("framed");
        assert!(keyed.call.envelope.is_err());
        assert_eq!(keyed.idempotency_key.as_deref(), Some("k-1"));
    }
}

#[test]
fn the_fixture_request_carries_its_header_key() {
    let capture = asap_testing::fixtures::example("jsonrpc/client_request.json");
    let body = serde_json::to_vec(&capture["request"]["body"]).expect("body");
    let header = capture["request"]["headers"]["x-idempotency-key"].as_str();
    let keyed = decode_request_keyed(&body).expect("decodes");
    assert_eq!(keyed.idempotency_key.as_deref(), header);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn decoders_agree_on_keys(envelope in arbitrary::envelope(), key in arbitrary::json_value()) {
        let envelope = serde_json::to_value(&envelope).expect("value");
        let body = body(envelope, Some(key.clone()));
        let [fast, serde, exact] = keys(&body);
        prop_assert_eq!(&fast, &exact);
        prop_assert_eq!(&serde, &exact);
        let expected = key.as_str().map(str::to_owned);
        prop_assert_eq!(exact, Some(expected));
    }
}
