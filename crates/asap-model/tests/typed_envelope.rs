//! `TypedEnvelope` (payload typed while the envelope is decoded) against the exact path
//! (`Envelope` with a raw payload, then `Envelope::type_payload`): same envelopes for valid
//! input, a failure wherever the exact path reports an error, and the typed embedded checks
//! agreeing with the raw ones.
#![cfg(feature = "proptest")]

use asap_testing::mutate::mutate;
use std::path::PathBuf;

use asap_model::embedded::{check_embedded, check_payload};
use asap_model::envelope::TypedEnvelope;
use asap_model::payload::{McpToolCall, TaskRequest};
use asap_model::validation::from_value;
use asap_model::{Envelope, JsonObject, Part, PayloadKind, ValidationError, arbitrary};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The envelope examples (`examples/*.json`), by file name.
fn envelope_examples() -> Vec<(String, Value)> {
    let dir: PathBuf = asap_testing::fixtures::examples_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("list examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read example");
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, serde_json::from_str(&text).expect("JSON example"))
        })
        .collect()
}

/// The exact path: `Envelope` (raw payload), then typing with located errors.
fn exact(value: &Value) -> Result<Envelope, ValidationError> {
    let mut envelope = from_value::<Envelope>(value.clone())?;
    envelope.type_payload()?;
    Ok(envelope)
}

fn typed(value: &Value) -> Result<Envelope, serde_json::Error> {
    serde_json::from_value::<TypedEnvelope>(value.clone()).map(Envelope::from)
}

/// Whether `payload_type` comes before `payload` (the order in which a payload is typed
/// in the decoding pass).
fn type_named_first(value: &Value) -> bool {
    let keys: Vec<&str> = value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let at = |k: &str| keys.iter().position(|&x| x == k);
    matches!((at("payload_type"), at("payload")), (Some(t), Some(p)) if t < p)
}

/// Copies generated members (absent `id` or `timestamp`) from `from`, so that two decodes
/// of the same input compare equal.
fn same_generated(mut envelope: Envelope, from: &Envelope, input: &Value) -> Envelope {
    if input.get("id").is_none_or(Value::is_null) {
        envelope.id = from.id.clone();
    }
    if input.get("timestamp").is_none_or(Value::is_null) {
        envelope.timestamp = from.timestamp;
    }
    envelope
}

/// The typed pass succeeds exactly where the exact path does (for a payload named first),
/// with the same envelope, typed the same way.
fn agree(value: &Value) -> Result<(), TestCaseError> {
    let fast = typed(value);
    let slow = exact(value);
    match (&fast, &slow) {
        (Ok(fast), Ok(slow)) => {
            prop_assert_eq!(&same_generated(slow.clone(), fast, value), fast);
            prop_assert_eq!(fast.payload.kind(), slow.payload.kind());
        }
        (Err(_), Err(_)) => {}
        (Ok(fast), Err(e)) => prop_assert!(false, "typed accepts {value}: {fast:?}; exact: {e}"),
        (Err(e), Ok(_)) => prop_assert!(
            !type_named_first(value),
            "typed refuses a valid envelope {value}: {e}"
        ),
    }
    Ok(())
}

#[test]
fn every_example_payload_is_typed() {
    let examples = envelope_examples();
    let mut kinds = Vec::new();
    for (name, value) in &examples {
        let envelope = typed(value).unwrap_or_else(|e| panic!("{name}: {e}"));
        let kind = envelope.payload_kind().expect("a known payload type");
        assert_eq!(envelope.payload.kind(), Some(kind), "{name}: typed payload");
        let slow = exact(value).expect("valid");
        assert_eq!(same_generated(slow, &envelope, value), envelope, "{name}");
        kinds.push(kind);
    }
    for kind in PayloadKind::ALL {
        assert!(kinds.contains(&kind), "no example of {kind:?}");
    }
}

#[test]
fn typed_payload_is_borrowed_without_parsing() {
    let (_, value) = envelope_examples()
        .into_iter()
        .find(|(name, _)| name == "task_request.json")
        .expect("task_request.json");
    let envelope = typed(&value).expect("valid");
    let task: &TaskRequest = envelope.typed_payload().expect("typed task.request");
    assert_eq!(task.skill_id, "web_research");
    assert!(envelope.typed_payload::<McpToolCall>().is_none());
    assert_eq!(envelope.payload_as::<TaskRequest>().as_ref(), Ok(task));
    assert_eq!(envelope.payload.as_raw(), None);
}

fn envelope_with(payload_type: &str, payload: Value) -> Value {
    json!({
        "asap_version": "0.1", "sender": "urn:asap:agent:a", "recipient": "urn:asap:agent:b",
        "payload_type": payload_type, "payload": payload,
    })
}

#[test]
fn custom_payload_types_stay_free_form() {
    let value = envelope_with(
        "acme.invoice",
        json!({"amount": 12, "parts": [{"type": "x"}]}),
    );
    let envelope = typed(&value).expect("custom payloads are not checked");
    assert_eq!(
        envelope.payload.as_raw(),
        Some(value["payload"].as_object().expect("object"))
    );
    let slow = exact(&value).expect("valid");
    assert_eq!(same_generated(slow, &envelope, &value), envelope);
}

#[test]
fn payload_before_payload_type_stays_raw_until_typed() {
    let text = r#"{"payload":{"task_id":"task_1"},"payload_type":"task.cancel",
        "asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b"}"#;
    let mut envelope: Envelope = serde_json::from_str::<TypedEnvelope>(text)
        .expect("valid")
        .into();
    assert!(envelope.payload.as_raw().is_some());
    envelope.type_payload().expect("valid task.cancel");
    assert_eq!(envelope.payload.kind(), Some(PayloadKind::TaskCancel));
}

#[test]
fn invalid_known_payloads_fail_where_the_exact_path_reports() {
    for (payload_type, payload, path) in [
        (
            "task.request",
            json!({"conversation_id": "c", "input": {}}),
            "$.payload.skill_id",
        ),
        (
            "task.cancel",
            json!({"task_id": "t", "extra": 1}),
            "$.payload.extra",
        ),
        (
            "TaskUpdate",
            json!({"task_id": "t", "update_type": "progress", "status": "working",
            "progress": {"percent": 140}}),
            "$.payload.progress",
        ),
        (
            "task.request",
            json!({"conversation_id": "c", "skill_id": "s",
            "input": {"doc": {"parts": [{"type": "file", "uri": "../x", "mime_type": "a/b"}]}}}),
            "$.payload.input.doc.parts[0].uri",
        ),
        (
            "task.request",
            json!({"conversation_id": "c", "skill_id": "s", "input": {},
            "config": {"depth": 11}}),
            "$.payload.config.depth",
        ),
        ("mcp.tool_call", json!([1, 2]), "$.payload"),
    ] {
        let value = envelope_with(payload_type, payload);
        assert!(typed(&value).is_err(), "{value}");
        let e = exact(&value).expect_err("invalid payload");
        assert_eq!(e.json_path(), path, "{value}");
    }
}

#[test]
fn repeated_members_are_refused() {
    let text = r#"{"asap_version":"0.1","asap_version":"0.1","sender":"urn:asap:agent:a",
        "recipient":"urn:asap:agent:b","payload_type":"x","payload":{}}"#;
    assert!(serde_json::from_str::<TypedEnvelope>(text).is_err());
    let text = r#"{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b",
        "payload_type":"task.cancel","payload":{"task_id":"t"},"payload":{"task_id":"u"}}"#;
    assert!(serde_json::from_str::<TypedEnvelope>(text).is_err());
}

#[test]
fn envelope_rules_still_apply() {
    let mut value = envelope_with(
        "TaskResponse",
        json!({"task_id": "t", "status": "completed"}),
    );
    assert!(typed(&value).is_err(), "correlation_id is required");
    value["correlation_id"] = json!("env_1");
    assert!(typed(&value).is_ok());
    value["sender"] = json!("agent:a");
    assert!(typed(&value).is_err());
    assert!(serde_json::from_value::<TypedEnvelope>(json!([])).is_err());
}

/// `check_payload` on the typed payload gives what `check_embedded` gives on its object.
fn embedded_agree(kind: PayloadKind, object: &JsonObject) -> Result<(), TestCaseError> {
    let Ok(payload) = kind.parse(object.clone()) else {
        return Ok(());
    };
    let on_typed = check_payload(&payload);
    let on_raw = check_embedded(&payload.to_object());
    prop_assert_eq!(&on_typed, &on_raw);
    prop_assert_eq!(on_typed.is_ok(), check_embedded(object).is_ok());
    Ok(())
}

/// A part, sometimes broken: one member replaced by an arbitrary value or a rule-breaking
/// string.
fn part_value() -> impl Strategy<Value = Value> {
    let bad = prop_oneof![
        arbitrary::json_value(),
        Just(json!("../etc/passwd")),
        Just(json!("FILE:///etc/passwd")),
        Just(json!("text/plain; charset=utf-8")),
        Just(json!("SGVsbG8")),
        Just(json!("")),
        Just(json!(null)),
    ];
    (
        arbitrary::part(),
        prop::option::of((0usize..5, bad, any::<bool>())),
    )
        .prop_map(|(part, change)| {
            let mut value = serde_json::to_value(&part).expect("part");
            if let (Some((index, replacement, add)), Some(object)) = (change, value.as_object_mut())
            {
                let key = if add {
                    "extra".to_owned()
                } else {
                    object
                        .keys()
                        .nth(index % object.len())
                        .cloned()
                        .unwrap_or_default()
                };
                object.insert(key, replacement);
            }
            value
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_envelopes_decode_typed(envelope in arbitrary::envelope()) {
        let value = serde_json::to_value(&envelope).expect("value");
        agree(&value)?;
        let fast = typed(&value).expect("valid");
        prop_assert_eq!(fast.payload.kind(), envelope.payload.kind());
    }

    #[test]
    fn mutated_examples_agree(
        example in 0usize..64,
        path in proptest::collection::vec(0usize..12, 1..5),
        action in 0u8..3,
        replacement in prop_oneof![arbitrary::json_value(), part_value()],
    ) {
        let examples = envelope_examples();
        let (_, mut value) = examples[example % examples.len()].clone();
        mutate(&mut value, &path, action, replacement);
        agree(&value)?;
    }

    #[test]
    fn mutated_payloads_agree(
        example in 0usize..64,
        path in proptest::collection::vec(0usize..12, 0..4),
        action in 0u8..3,
        replacement in prop_oneof![arbitrary::json_value(), part_value()],
    ) {
        let examples = envelope_examples();
        let (_, mut value) = examples[example % examples.len()].clone();
        mutate(&mut value["payload"], &path, action, replacement);
        agree(&value)?;
    }

    #[test]
    fn parts_are_checked_in_place_as_by_their_decoder(part in part_value(), nest in 0usize..3) {
        let expected = from_value::<Part>(part.clone()).map(drop);
        let mut holder = json!({"parts": [part.clone()]});
        let mut loc = vec![json!("parts"), json!(0)];
        for _ in 0..nest {
            holder = json!({"doc": [holder]});
            loc.splice(0..0, [json!("doc"), json!(0)]);
        }
        let result = check_embedded(holder.as_object().expect("object"));
        if part.get("type").is_none() {
            prop_assert!(result.is_ok(), "parts without `type` are not checked");
            return Ok(());
        }
        match (&result, &expected) {
            (Ok(()), Ok(())) => {}
            (Err(got), Err(want)) => {
                prop_assert_eq!(&got.kind, &want.kind);
                prop_assert_eq!(&got.msg, &want.msg);
                loc.extend(want.loc.iter().map(|l| serde_json::to_value(l).expect("loc")));
                prop_assert_eq!(serde_json::to_value(&got.loc).expect("loc"), Value::Array(loc));
            }
            _ => prop_assert!(false, "{part}: embedded {result:?}, decoder {expected:?}"),
        }
    }

    #[test]
    fn typed_and_raw_embedded_checks_agree(
        payload in arbitrary::payload(),
        part in part_value(),
        member in 0usize..4,
        depth in prop::option::of(prop_oneof![Just(json!(3)), Just(json!(11)), Just(json!("3"))]),
    ) {
        // A valid payload, with a part placed in one of its free-form (object or null)
        // members, and sometimes a task depth.
        let kind = payload.kind().expect("typed");
        let mut object = payload.to_object();
        let free_form: Vec<String> = object
            .iter()
            .filter(|(_, v)| v.is_object() || v.is_null())
            .map(|(k, _)| k.clone())
            .collect();
        if !free_form.is_empty() {
            let key = free_form[member % free_form.len()].clone();
            object.insert(key, json!({"nested": [{"parts": [part]}]}));
        }
        if let Some(depth) = depth
            && kind == PayloadKind::TaskRequest
        {
            object.insert("config".into(), json!({"depth": depth}));
        }
        embedded_agree(kind, &object)?;
    }
}
