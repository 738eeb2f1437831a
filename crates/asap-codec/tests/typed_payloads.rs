//! Requests decode with their payload typed in the same pass: every known payload type of
//! the examples arrives typed, custom types and a `payload` before `payload_type` stay raw,
//! and invalid payloads take the exact path, whose errors are unchanged.

mod common;

use asap_codec::rpc::{Call, RpcError, decode_exact, decode_request, decode_request_serde_json};
use asap_model::payload::TaskRequest;
use asap_model::{Envelope, PayloadKind, ValidationError, arbitrary};
use asap_testing::mutate::mutate;
use proptest::prelude::*;
use serde_json::{Value, json};

/// `(file name, envelope)` of every `*.json` file directly in `dir`, sorted.
fn envelopes_in(dir: &std::path::Path) -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("list fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, common::read_json(&p))
        })
        .collect()
}

fn envelope(body: &[u8]) -> Envelope {
    decode_request(body)
        .expect("well-framed")
        .envelope
        .expect("valid envelope")
}

/// What a handler receives: the envelope after dispatch has typed its payload.
type Dispatched = Result<Result<Envelope, ValidationError>, RpcError>;

fn dispatched(call: &Call) -> Dispatched {
    call.envelope
        .clone()
        .map(|mut e| e.type_payload().map(|()| e))
}

/// The fast path (simd-json and serde_json) and the exact path give the same call and the
/// same dispatched envelope (generated ids and timestamps aside).
fn agree(body: &[u8]) -> Result<(), TestCaseError> {
    let slow = decode_exact(body);
    for fast in [decode_request(body), decode_request_serde_json(body)] {
        match (&fast, &slow) {
            (Ok(fast), Ok(slow)) => {
                prop_assert_eq!(&fast.id, &slow.id);
                let (f, s) = (dispatched(fast), dispatched(slow));
                match (&f, &s) {
                    (Ok(Ok(f)), Ok(Ok(s))) => {
                        let mut s = s.clone();
                        if s.id.as_str().len() == 26 && f.id.as_str().len() == 26 {
                            s.id = f.id.clone();
                        }
                        if (s.timestamp.seconds_until(&f.timestamp)).abs() < 60.0 {
                            s.timestamp = f.timestamp;
                        }
                        prop_assert_eq!(f, &s);
                        prop_assert_eq!(f.payload.kind(), s.payload.kind());
                    }
                    _ => prop_assert_eq!(f, s),
                }
            }
            (Err(fast), Err(slow)) => prop_assert_eq!(fast, slow),
            _ => prop_assert!(false, "disagree: {fast:?} vs {slow:?}"),
        }
    }
    Ok(())
}

#[test]
fn every_example_arrives_typed() {
    let examples = envelopes_in(&common::examples_dir());
    let mut kinds = Vec::new();
    for (name, value) in &examples {
        let body = common::wrap_envelope(value);
        let envelope = envelope(&body);
        let kind = envelope.payload_kind().expect("a known payload type");
        assert_eq!(envelope.payload.kind(), Some(kind), "{name}: typed");
        agree(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        kinds.push(kind);
    }
    for kind in PayloadKind::ALL {
        assert!(kinds.contains(&kind), "no example of {kind:?}");
    }
    let (_, request) = examples
        .iter()
        .find(|(name, _)| name == "task_request.json")
        .expect("task_request.json");
    let envelope = envelope(&common::wrap_envelope(request));
    let task: &TaskRequest = envelope.typed_payload().expect("typed");
    assert_eq!(
        task.input["query"],
        "AI infrastructure market trends Q3 2025"
    );
    assert_eq!(envelope.payload.to_object()["skill_id"], "web_research");
}

#[test]
fn custom_payload_types_stay_maps() {
    let body = common::wrap_envelope(&json!({
        "asap_version": "0.1", "sender": "urn:asap:agent:a", "recipient": "urn:asap:agent:b",
        "payload_type": "acme.invoice", "payload": {"amount": 12, "lines": [1, 2]},
    }));
    let envelope = envelope(&body);
    assert_eq!(
        envelope.payload.as_raw().map(|o| o["lines"].clone()),
        Some(json!([1, 2]))
    );
}

#[test]
fn payload_type_after_payload_is_typed_by_dispatch() {
    let body = br#"{"jsonrpc":"2.0","method":"asap.send","id":1,"params":{"envelope":{
        "asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b",
        "payload":{"task_id":"task_1","reason":"late"},"payload_type":"task.cancel"}}}"#;
    let mut envelope = envelope(body);
    assert!(envelope.payload.as_raw().is_some());
    envelope.type_payload().expect("a valid task.cancel");
    assert_eq!(envelope.payload.kind(), Some(PayloadKind::TaskCancel));
    agree(body).expect("agree");
}

/// The request body of an invalid sample: JSON-RPC samples as they are, envelopes wrapped,
/// payloads in an envelope of their type, parts in a `task.request` input; `None` for the
/// entity samples, which no request carries.
fn sample_body(name: &str, sample: &Value) -> Option<Vec<u8>> {
    let in_envelope = |payload_type: &str, payload: Value| {
        common::wrap_envelope(&json!({
            "asap_version": "0.1", "sender": "urn:asap:agent:a", "recipient": "urn:asap:agent:b",
            "payload_type": payload_type, "payload": payload, "correlation_id": "env_1",
        }))
    };
    let payload_type = [
        ("mcp_tool_result_", "mcp.tool_result"),
        ("message_send_", "message.send"),
        ("task_response_", "task.response"),
        ("task_update_", "task.update"),
    ]
    .into_iter()
    .find(|(prefix, _)| name.starts_with(prefix));
    if name.starts_with("jsonrpc_") {
        Some(serde_json::to_vec(sample).expect("body"))
    } else if name.starts_with("envelope_") {
        Some(common::wrap_envelope(sample))
    } else if let Some((_, payload_type)) = payload_type {
        Some(in_envelope(payload_type, sample.clone()))
    } else if name.contains("_part_") {
        let task = json!({"conversation_id": "c", "skill_id": "s",
            "input": {"parts": ["part_1", sample]}});
        Some(in_envelope("task.request", task))
    } else {
        None
    }
}

/// The invalid samples give what the exact path gives: framing and envelope errors, and the
/// payload error once typed, from a payload left raw by the fast path.
#[test]
fn invalid_samples_keep_their_errors() {
    let samples = envelopes_in(&asap_testing::fixtures::invalid_dir());
    let mut payload_errors = Vec::new();
    for (name, value) in &samples {
        let Some(body) = sample_body(name, value) else {
            continue;
        };
        agree(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Ok(call) = decode_request(&body)
            && let Ok(Err(error)) = dispatched(&call)
        {
            let envelope = call.envelope.expect("envelope");
            assert!(envelope.payload.as_raw().is_some(), "{name}: stays raw");
            payload_errors.push((name.as_str(), error.json_path()));
        }
    }
    let path = |name: &str| {
        payload_errors
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p.as_str())
    };
    assert_eq!(
        path("envelope_task_request_missing_skill_id.json"),
        Some("$.payload.skill_id")
    );
    assert_eq!(
        path("file_part_path_traversal.json"),
        Some("$.payload.input.parts[1].uri")
    );
    assert_eq!(
        path("file_part_bad_base64.json"),
        Some("$.payload.input.parts[1].inline_data")
    );
    assert_eq!(
        path("text_part_unknown_type.json"),
        Some("$.payload.input.parts[1]")
    );
    assert_eq!(
        path("task_update_percent_out_of_range.json"),
        Some("$.payload.progress")
    );
    assert_eq!(path("message_send_bad_role.json"), Some("$.payload.role"));
    assert_eq!(payload_errors.len(), 12, "{payload_errors:?}");
}

/// Replacement values: arbitrary JSON, and values that break a payload rule.
fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        arbitrary::json_value(),
        arbitrary::part().prop_map(|p| json!([serde_json::to_value(p).expect("part")])),
        Just(json!([{"type": "file", "uri": "../etc/passwd", "mime_type": "text/plain"}])),
        Just(
            json!([{"type": "file", "uri": "https://x/a", "mime_type": "text/plain",
            "inline_data": "SGVsbG8"}])
        ),
        Just(json!({"depth": 11})),
        Just(json!({"percent": 101})),
        Just(json!("completed")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_examples_agree(
        example in 0usize..64,
        path in proptest::collection::vec(0usize..12, 1..5),
        action in 0u8..3,
        replacement in replacement(),
    ) {
        let examples = envelopes_in(&common::examples_dir());
        let (_, mut value) = examples[example % examples.len()].clone();
        mutate(&mut value, &path, action, replacement);
        agree(&common::wrap_envelope(&value))?;
    }

    #[test]
    fn mutated_example_payloads_agree(
        example in 0usize..64,
        path in proptest::collection::vec(0usize..12, 0..4),
        action in 0u8..3,
        replacement in replacement(),
    ) {
        let examples = envelopes_in(&common::examples_dir());
        let (_, mut value) = examples[example % examples.len()].clone();
        mutate(&mut value["payload"], &path, action, replacement);
        agree(&common::wrap_envelope(&value))?;
    }
}
