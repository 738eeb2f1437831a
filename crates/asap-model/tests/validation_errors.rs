//! Located validation errors (`type`, `loc`, `msg`), optional members given as `null`, and
//! the envelope's wire order.

use asap_model::part::FilePart;
use asap_model::payload::{MessageSend, TaskRequest, TaskUpdate};
use asap_model::validation::{from_slice, from_value};
use asap_model::{Envelope, LocItem, Part, Payload, Timestamp, ValidationError};
use serde_json::{Value, json};

const WIRE_ORDER: [&str; 10] = [
    "id",
    "asap_version",
    "timestamp",
    "sender",
    "recipient",
    "payload_type",
    "payload",
    "correlation_id",
    "trace_id",
    "extensions",
];

fn envelope_json(payload_type: &str, payload: Value) -> Value {
    json!({
        "id": "01KDWPVNG0DE3B4WZZ6KYE37BB",
        "asap_version": "0.1",
        "timestamp": "2026-01-01T12:00:00Z",
        "sender": "urn:asap:agent:client",
        "recipient": "urn:asap:agent:server",
        "payload_type": payload_type,
        "payload": payload,
        "correlation_id": null,
        "trace_id": null,
        "extensions": null,
    })
}

fn key(k: &str) -> LocItem {
    LocItem::Key(k.to_owned())
}

#[test]
fn payload_errors_are_located_from_the_envelope_root() {
    let envelope: Envelope = from_value(envelope_json(
        "task.update",
        json!({"task_id": "t1", "update_type": "progress", "status": "working",
               "progress": {"percent": 150}}),
    ))
    .expect("the envelope itself is valid");

    let err = envelope.payload_as::<TaskUpdate>().unwrap_err();
    assert_eq!(err.kind, "value_error");
    assert_eq!(err.loc, vec![key("payload"), key("progress")]);
    assert_eq!(err.msg, "progress.percent must be between 0 and 100");
    assert_eq!(err.json_path(), "$.payload.progress");
    assert_eq!(envelope.validate_payload().unwrap_err(), err);

    // Unknown members of a payload are reported inside it, once.
    let envelope: Envelope = from_value(envelope_json(
        "task.request",
        json!({"conversation_id": "c", "skill_id": "s", "input": {}, "priority": 1}),
    ))
    .expect("envelope");
    let err = envelope.payload_as::<TaskRequest>().unwrap_err();
    assert_eq!(err.kind, "extra_forbidden");
    assert_eq!(err.loc, vec![key("payload"), key("priority")]);

    // Asking for a different model than the payload holds fails at the payload.
    let envelope: Envelope = from_value(envelope_json(
        "task.request",
        json!({"conversation_id": "c", "skill_id": "s", "input": {}}),
    ))
    .expect("envelope");
    // (serde stops at the first problem in document order: here the unknown
    // `conversation_id`; pydantic would list the missing `task_id` first.)
    let err = envelope.payload_as::<TaskUpdate>().unwrap_err();
    assert_eq!(err.loc.first(), Some(&key("payload")), "{err}");
    assert_eq!(err.loc.len(), 2, "{err}");
    assert!(
        matches!(err.kind.as_str(), "missing" | "extra_forbidden"),
        "{err}"
    );
    assert!(envelope.payload_as::<TaskRequest>().is_ok());
}

#[test]
fn array_indices_appear_in_the_location() {
    // MessageSend.parts holds part ids; an inline Part object is a type error at its index.
    let payload = json!({
        "task_id": "t1",
        "message_id": "m1",
        "sender": "someone",
        "role": "user",
        "parts": ["part_1", {"type": "text", "content": "hi"}],
    });
    let err = from_value::<MessageSend>(payload.clone()).unwrap_err();
    assert_eq!(err.kind, "string_type");
    assert_eq!(err.loc, vec![key("parts"), LocItem::Index(1)]);
    assert_eq!(err.json_path(), "$.parts[1]");

    let envelope: Envelope = from_value(envelope_json("message.send", payload)).expect("envelope");
    let err = envelope.payload_as::<MessageSend>().unwrap_err();
    assert_eq!(
        err.loc,
        vec![key("payload"), key("parts"), LocItem::Index(1)]
    );
    assert_eq!(err.json_path(), "$.payload.parts[1]");

    // Deeper: a skill inside a manifest.
    let manifest = json!({
        "id": "urn:asap:agent:a", "name": "A", "version": "1.0.0", "description": "d",
        "capabilities": {"skills": [
            {"id": "ok", "description": "fine"},
            {"id": "bad", "description": 5}
        ]},
        "endpoints": {"asap": "http://localhost/asap"},
    });
    let err = from_value::<asap_model::Manifest>(manifest).unwrap_err();
    assert_eq!(err.kind, "string_type");
    assert_eq!(err.json_path(), "$.capabilities.skills[1].description");
}

#[test]
fn part_errors_are_located_at_the_member() {
    let err = from_value::<Part>(json!({
        "type": "file", "uri": "asap://x/../secret", "mime_type": "text/plain"
    }))
    .unwrap_err();
    assert_eq!(err.kind, "value_error");
    assert_eq!(err.loc, vec![key("uri")]);
    assert_eq!(
        err.msg,
        "URI must not contain path traversal (..): 'asap://x/../secret'"
    );

    // Through the tagged union the inner location is kept, and other members are checked.
    let err = from_value::<Part>(json!({
        "type": "file", "uri": "https://x/a", "mime_type": "text/plain", "size": 3
    }))
    .unwrap_err();
    assert_eq!(
        (err.kind.as_str(), err.loc.clone()),
        ("extra_forbidden", vec![key("size")])
    );

    let err = from_value::<Part>(json!({"content": "hi"})).unwrap_err();
    assert_eq!(
        (err.kind.as_str(), err.loc.clone()),
        ("union_tag_not_found", vec![])
    );

    // The same rule, checked in code, gives the same error.
    let mut part = FilePart::new("https://x/a", "text/plain");
    part.uri = " FILE:///etc/passwd".into();
    let err = part.validate().unwrap_err();
    assert_eq!(err.loc, vec![key("uri")]);
    assert_eq!(
        err.msg,
        "file:// URIs are not allowed for security (path traversal risk)"
    );

    // A Part inside a free-form payload member is only checked when parsed from there.
    let envelope: Envelope = from_value(envelope_json(
        "task.request",
        json!({"conversation_id": "c", "skill_id": "s",
               "input": {"parts": [{"type": "file", "uri": "file:///x", "mime_type": "a/b"}]}}),
    ))
    .expect("free-form input is not validated");
    let request: TaskRequest = envelope.payload_as().expect("free-form input");
    let parts = request.input["parts"].clone();
    let err = from_value::<Part>(parts[0].clone()).unwrap_err().prefixed([
        LocItem::from("payload"),
        LocItem::from("input"),
        LocItem::from("parts"),
        LocItem::from(0),
    ]);
    assert_eq!(err.json_path(), "$.payload.input.parts[0].uri");
}

#[test]
fn json_path_and_serialized_form() {
    let root = ValidationError::value_error("boom");
    assert_eq!(root.json_path(), "$");
    assert_eq!(root.to_string(), "$: boom [value_error]");

    let nested = ValidationError::new("string_type", "Input should be a valid string").prefixed([
        LocItem::from("payload"),
        LocItem::from("parts"),
        LocItem::from(0),
        LocItem::from("uri"),
    ]);
    assert_eq!(nested.json_path(), "$.payload.parts[0].uri");
    assert_eq!(
        nested.to_string(),
        "$.payload.parts[0].uri: Input should be a valid string [string_type]"
    );
    assert_eq!(
        serde_json::to_value(&nested).expect("encode"),
        json!({"type": "string_type", "loc": ["payload", "parts", 0, "uri"],
               "msg": "Input should be a valid string"})
    );
    // Serialized keys come in the reference's order.
    assert_eq!(
        serde_json::to_string(&root).expect("encode"),
        r#"{"type":"value_error","loc":[],"msg":"boom"}"#
    );

    let err = from_slice::<Envelope>(b"{\"id\": ").unwrap_err();
    assert_eq!(err.kind, "json_invalid");
    assert!(err.msg.starts_with("Invalid JSON: "), "{}", err.msg);
    assert_eq!(err.loc, vec![]);

    let err = from_slice::<Envelope>(b"[1, 2]").unwrap_err();
    assert_eq!(err.kind, "dict_type");
    assert_eq!(err.loc, vec![]);
}

#[test]
fn the_first_failure_is_reported() {
    // Missing required members are reported by name, whatever else is wrong later.
    let err = from_value::<Envelope>(json!({
        "asap_version": "0.1",
        "recipient": "urn:asap:agent:b",
        "payload_type": "x",
        "payload": {},
    }))
    .unwrap_err();
    assert_eq!(err.kind, "missing");
    assert_eq!(err.loc, vec![key("sender")]);
    assert_eq!(err.msg, "Field required");

    let err = from_value::<Envelope>(json!({
        "asap_version": 1,
        "sender": "urn:asap:agent:a",
        "recipient": "urn:asap:agent:b",
        "payload_type": "x",
        "payload": {},
    }))
    .unwrap_err();
    assert_eq!(
        (err.kind.as_str(), err.loc.clone()),
        ("string_type", vec![key("asap_version")])
    );

    let err = from_value::<Envelope>(json!({
        "asap_version": "0.1",
        "sender": "urn:asap:agent:a",
        "recipient": "urn:asap:agent:b",
        "payload_type": "x",
        "payload": {},
        "extensions": [],
    }))
    .unwrap_err();
    assert_eq!(
        (err.kind.as_str(), err.loc.clone()),
        ("dict_type", vec![key("extensions")])
    );
}

#[test]
fn null_is_accepted_for_every_optional_envelope_member() {
    const OPTIONAL: [&str; 5] = [
        "id",
        "timestamp",
        "correlation_id",
        "trace_id",
        "extensions",
    ];
    let base = envelope_json("custom.type", json!({"anything": [1, 2]}));

    // All at once.
    let mut all_null = base.clone();
    for k in OPTIONAL {
        all_null[k] = Value::Null;
    }
    let before = Timestamp::now();
    let envelope: Envelope = from_value(all_null.clone()).expect("all optionals null");
    assert_eq!(envelope.id.as_str().len(), 26);
    assert!(ulid::Ulid::from_string(envelope.id.as_str()).is_ok());
    assert!(envelope.timestamp.unix_micros() >= before.unix_micros());
    assert!(envelope.timestamp.unix_micros() <= Timestamp::now().unix_micros());
    assert_eq!(envelope.correlation_id, None);
    assert_eq!(envelope.trace_id, None);
    assert_eq!(envelope.extensions, None);
    let encoded = serde_json::to_value(&envelope).expect("encode");
    for k in ["correlation_id", "trace_id", "extensions"] {
        assert_eq!(encoded[k], Value::Null, "{k} is written as null");
    }
    assert!(encoded["id"].is_string() && encoded["timestamp"].is_string());

    // One at a time, `null` and absent decode alike.
    for k in OPTIONAL {
        let mut with_null = base.clone();
        with_null[k] = Value::Null;
        let mut absent = base.clone();
        absent.as_object_mut().expect("object").remove(k);
        let a: Envelope = from_value(with_null).unwrap_or_else(|e| panic!("{k}: null: {e}"));
        let b: Envelope = from_value(absent).unwrap_or_else(|e| panic!("{k}: absent: {e}"));
        let (mut a, mut b) = (
            serde_json::to_value(&a).expect("a"),
            serde_json::to_value(&b).expect("b"),
        );
        // Generated members differ between two decodes.
        if k == "id" || k == "timestamp" {
            a[k] = Value::Null;
            b[k] = Value::Null;
        }
        assert_eq!(a, b, "{k}");
        // Everything not generated is kept.
        let mut expected = base.clone();
        expected[k] = Value::Null;
        assert_eq!(a, expected, "{k}");
    }

    // Required members do not accept null.
    for k in [
        "asap_version",
        "sender",
        "recipient",
        "payload_type",
        "payload",
    ] {
        let mut doc = base.clone();
        doc[k] = Value::Null;
        let err = from_value::<Envelope>(doc).unwrap_err();
        assert_eq!(err.loc, vec![key(k)], "{k}: {err}");
    }
}

#[test]
fn envelopes_serialize_in_wire_order() {
    let envelope = Envelope::new(
        "urn:asap:agent:client".parse().expect("urn"),
        "urn:asap:agent:server".parse().expect("urn"),
        TaskRequest {
            conversation_id: "conv_1".into(),
            parent_task_id: None,
            skill_id: "echo".into(),
            input: serde_json::Map::new(),
            config: None,
        },
    )
    .with_correlation_id("corr")
    .with_trace_id("trace")
    .with_extension("nonce", "n-1");

    let text = serde_json::to_string(&envelope).expect("encode");
    assert_top_level_order(&text);
    assert!(
        text.starts_with(&format!("{{\"id\":\"{}\",", envelope.id)),
        "{text}"
    );
    assert!(text.contains(
        r#""payload":{"conversation_id":"conv_1","parent_task_id":null,"skill_id":"echo","input":{},"config":null}"#
    ), "{text}");
    assert!(
        text.ends_with(
            r#""correlation_id":"corr","trace_id":"trace","extensions":{"nonce":"n-1"}}"#
        ),
        "{text}"
    );

    // A decoded envelope with its members shuffled is re-encoded in wire order, and its
    // free-form objects keep their own order.
    let shuffled = r#"{"extensions":{"z":1,"a":2},"payload":{"b":1,"a":2},"payload_type":"x",
        "trace_id":null,"recipient":"urn:asap:agent:b","sender":"urn:asap:agent:a",
        "timestamp":"2026-01-01T12:00:00Z","correlation_id":null,"asap_version":"0.1",
        "id":"e1"}"#;
    let envelope: Envelope = from_slice(shuffled.as_bytes()).expect("decode");
    assert!(matches!(envelope.payload, Payload::Raw(_)));
    let text = serde_json::to_string(&envelope).expect("encode");
    assert_top_level_order(&text);
    assert_eq!(
        text,
        r#"{"id":"e1","asap_version":"0.1","timestamp":"2026-01-01T12:00:00Z","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b","payload_type":"x","payload":{"b":1,"a":2},"correlation_id":null,"trace_id":null,"extensions":{"z":1,"a":2}}"#
    );
}

/// Checks, on the serialized text, that the ten envelope members appear in wire order.
fn assert_top_level_order(text: &str) {
    let value: Value = serde_json::from_str(text).expect("JSON");
    let keys: Vec<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, WIRE_ORDER, "{text}");
    // And the same on the raw text: each member name occurs after the previous one.
    let mut from = 0;
    for k in WIRE_ORDER {
        let needle = format!("\"{k}\":");
        let at = text[from..]
            .find(&needle)
            .unwrap_or_else(|| panic!("{k} not found after byte {from} in {text}"));
        from += at + needle.len();
    }
}
