//! Every reference example decodes with the typed model and re-encodes to the same JSON
//! document (same values, same key order).
//!
//! The example directories are iterated, so a new example file is covered automatically;
//! the number of files seen is asserted so that a wrong path cannot make a test vacuous.

use std::collections::HashSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use asap_model::validation::from_value;
use asap_model::{
    Agent, Artifact, Conversation, Envelope, Manifest, Message, Part, Payload, PayloadKind,
    StateSnapshot, Task, Timestamp,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The ten envelope members, in wire order.
const ENVELOPE_KEYS: [&str; 10] = [
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

fn examples_dir(sub: &str) -> PathBuf {
    let dir = asap_testing::fixtures::examples_dir().join(sub);
    assert!(
        dir.is_dir(),
        "example directory {} not found",
        dir.display()
    );
    dir
}

/// The `*.json` files directly inside `dir`, sorted by name.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("UTF-8 file name")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Asserts that two documents are equal as JSON values *and* have the same key order
/// everywhere (the reference writes keys in model field order).
fn assert_same_document(what: &str, actual: &Value, expected: &Value) {
    assert_eq!(actual, expected, "{what}: documents differ");
    assert_eq!(
        serde_json::to_string(actual).expect("encode"),
        serde_json::to_string(expected).expect("encode"),
        "{what}: key order differs"
    );
}

/// Like [`assert_same_document`], but `expected` may omit optional members, which `actual`
/// must then write as `null` (the reference always serializes every field; payloads written
/// by hand, like the client's, may leave them out).
fn assert_same_filling_nulls(what: &str, actual: &Value, expected: &Value) {
    let expected_keys = keys(expected);
    if keys(actual).len() == expected_keys.len() {
        return assert_same_document(what, actual, expected);
    }
    let actual = actual.as_object().expect("object");
    for (key, value) in actual {
        match expected.get(key) {
            Some(original) => assert_eq!(value, original, "{what}: member {key}"),
            None => assert_eq!(value, &Value::Null, "{what}: absent member {key}"),
        }
    }
    let in_actual_order: Vec<&str> = actual
        .keys()
        .map(String::as_str)
        .filter(|k| expected_keys.contains(k))
        .collect();
    assert_eq!(
        in_actual_order, expected_keys,
        "{what}: unknown or reordered members"
    );
}

/// Decodes `value` as `T` (through the located decoder and the plain serde path), re-encodes
/// it and checks the result equals the input.
fn roundtrip<T>(what: &str, value: &Value) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let typed: T = from_value(value.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let plain: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{what} (serde_json): {e}"));
    assert_eq!(typed, plain, "{what}: the two decoders disagree");
    let encoded = serde_json::to_value(&typed).expect("encode");
    assert_same_document(what, &encoded, value);
    typed
}

/// Decodes the envelope's payload with the model its `payload_type` names and checks that
/// it re-encodes to the original payload object.
fn check_typed_payload(what: &str, envelope: &Envelope, payload: &Value) -> PayloadKind {
    let kind = PayloadKind::from_payload_type(&envelope.payload_type)
        .unwrap_or_else(|| panic!("{what}: unknown payload_type {}", envelope.payload_type));
    assert_eq!(envelope.payload_kind(), Some(kind), "{what}");
    assert!(
        matches!(envelope.payload, Payload::Raw(_)),
        "{what}: decoded payloads stay raw"
    );
    let object = payload.as_object().expect("payload object").clone();
    let typed = kind
        .parse(object)
        .unwrap_or_else(|e| panic!("{what}: payload as {}: {e}", kind.model_name()));
    assert_eq!(typed.kind(), Some(kind), "{what}");
    let encoded = serde_json::to_value(&typed).expect("encode payload");
    assert_same_filling_nulls(&format!("{what} payload"), &encoded, payload);
    assert_eq!(
        envelope.payload.clone().into_typed(kind).as_ref(),
        Ok(&typed),
        "{what}: into_typed"
    );
    envelope
        .validate_payload()
        .unwrap_or_else(|e| panic!("{what}: validate_payload: {e}"));
    envelope
        .validate_strict()
        .unwrap_or_else(|e| panic!("{what}: validate_strict: {e}"));
    kind
}

/// Checks an envelope decoded from an input without `id`/`timestamp`: both are generated,
/// every member is written in wire order, and everything else equals the input (absent
/// optionals become `null`).
fn check_generated_envelope(what: &str, envelope: &Envelope, input: &Value) {
    let input = input.as_object().expect("envelope object");
    assert!(!input.contains_key("timestamp"), "{what}: has a timestamp");

    let encoded = serde_json::to_value(envelope).expect("encode");
    assert_eq!(keys(&encoded), ENVELOPE_KEYS, "{what}: envelope members");

    if !input.contains_key("id") {
        let id = envelope.id.as_str();
        assert_eq!(id.len(), 26, "{what}: generated id {id}");
        let ulid = ulid::Ulid::from_string(id)
            .unwrap_or_else(|e| panic!("{what}: generated id {id} is not a ULID: {e}"));
        let age_ms = Timestamp::now().unix_micros() / 1000 - ulid.timestamp_ms() as i64;
        assert!(
            (0..60_000).contains(&age_ms),
            "{what}: ULID time is {age_ms} ms old"
        );
    }
    let age = envelope.timestamp.seconds_until(&Timestamp::now());
    assert!(
        (0.0..60.0).contains(&age),
        "{what}: generated timestamp is {age} s from now"
    );
    assert_eq!(envelope.timestamp.to_utc(), envelope.timestamp, "UTC");

    for (key, value) in encoded.as_object().expect("object") {
        match input.get(key) {
            Some(original) => assert_eq!(value, original, "{what}: member {key}"),
            None if key == "id" || key == "timestamp" => {}
            None => assert_eq!(value, &Value::Null, "{what}: absent member {key}"),
        }
    }
}

#[test]
fn envelope_examples_roundtrip() {
    let files = json_files(&examples_dir(""));
    let mut kinds = HashSet::new();
    let mut generated = 0;
    for path in &files {
        let name = file_name(path);
        let value = read_json(path);
        let envelope: Envelope =
            from_value(value.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        if value.get("timestamp").is_some() {
            let encoded = serde_json::to_value(&envelope).expect("encode");
            assert_same_document(name, &encoded, &value);
            // The located decoder and plain serde agree when nothing is generated.
            let plain: Envelope = serde_json::from_value(value.clone()).expect("serde_json");
            assert_eq!(plain, envelope, "{name}");
        } else {
            check_generated_envelope(name, &envelope, &value);
            generated += 1;
        }
        kinds.insert(check_typed_payload(name, &envelope, &value["payload"]));
    }
    assert_eq!(files.len(), 15, "envelope examples seen");
    assert_eq!(
        generated, 1,
        "examples without timestamp (task_request_minimal)"
    );
    for kind in PayloadKind::ALL {
        assert!(
            kinds.contains(&kind),
            "no example envelope for {}",
            kind.dotted()
        );
    }
}

#[test]
fn minimal_task_request_gets_id_and_timestamp() {
    let path = examples_dir("").join("task_request_minimal.json");
    let value = read_json(&path);
    assert!(value.get("id").is_none() && value.get("timestamp").is_none());
    let envelope: Envelope = from_value(value.clone()).expect("decode");
    check_generated_envelope("task_request_minimal.json", &envelope, &value);
    // Two decodes of the same input get different ids.
    let again: Envelope = from_value(value).expect("decode");
    assert_ne!(again.id, envelope.id);
}

#[test]
fn entity_examples_roundtrip() {
    let files = json_files(&examples_dir("entities"));
    let mut seen = HashSet::new();
    for path in &files {
        let name = file_name(path);
        let stem = name.trim_end_matches(".json");
        let value = read_json(path);
        let model = if stem.starts_with("manifest") {
            let manifest: Manifest = roundtrip(name, &value);
            manifest
                .validate()
                .unwrap_or_else(|e| panic!("{name}: Manifest::validate: {e}"));
            "Manifest"
        } else {
            match stem {
                "agent" => {
                    roundtrip::<Agent>(name, &value);
                    "Agent"
                }
                "artifact" => {
                    roundtrip::<Artifact>(name, &value);
                    "Artifact"
                }
                "conversation" => {
                    roundtrip::<Conversation>(name, &value);
                    "Conversation"
                }
                "message" => {
                    roundtrip::<Message>(name, &value);
                    "Message"
                }
                "state_snapshot" => {
                    roundtrip::<StateSnapshot>(name, &value);
                    "StateSnapshot"
                }
                "task" => {
                    let task: Task = roundtrip(name, &value);
                    assert_eq!(task.is_terminal(), task.status.is_terminal());
                    "Task"
                }
                other => panic!("entity example {other}.json has no model mapping"),
            }
        };
        seen.insert(model);
    }
    assert_eq!(files.len(), 8, "entity examples seen");
    assert_eq!(seen.len(), 7, "entity models covered: {seen:?}");
}

#[test]
fn part_examples_roundtrip() {
    let files = json_files(&examples_dir("parts"));
    let mut seen = HashSet::new();
    for path in &files {
        let name = file_name(path);
        let value = read_json(path);
        let part: Part = roundtrip(name, &value);
        let tag = match &part {
            Part::Text(_) => "text",
            Part::Data(_) => "data",
            Part::File(file) => {
                file.validate()
                    .unwrap_or_else(|e| panic!("{name}: FilePart::validate: {e}"));
                "file"
            }
            Part::Resource(_) => "resource",
            Part::Template(_) => "template",
            other => panic!("{name}: unexpected part {other:?}"),
        };
        assert_eq!(value["type"], tag, "{name}: variant matches the type tag");
        assert!(
            name.starts_with(&format!("{tag}_part")),
            "{name}: decoded as a {tag} part"
        );
        seen.insert(tag);
    }
    assert_eq!(files.len(), 6, "part examples seen");
    assert_eq!(seen.len(), 5, "part types covered: {seen:?}");
}

#[test]
fn client_request_envelope_roundtrips() {
    let path = examples_dir("jsonrpc").join("client_request.json");
    let capture = read_json(&path);
    let body = &capture["request"]["body"];
    assert_eq!(body["method"], "asap.send");
    let value = &body["params"]["envelope"];
    let envelope: Envelope = roundtrip("client_request.json envelope", value);
    assert_eq!(keys(value), ENVELOPE_KEYS);
    check_typed_payload("client_request.json", &envelope, &value["payload"]);
}

#[test]
fn success_capture_envelopes_decode() {
    let files: Vec<PathBuf> = json_files(&examples_dir("jsonrpc"))
        .into_iter()
        .filter(|p| file_name(p).starts_with("success_"))
        .collect();
    let mut requests = 0;
    let mut placeholders = 0;
    for path in &files {
        let name = file_name(path);
        let capture = read_json(path);

        let body = &capture["request"]["body"];
        match body {
            Value::Object(_) => {
                assert_eq!(body["method"], "asap.send", "{name}");
                let value = &body["params"]["envelope"];
                let envelope: Envelope =
                    from_value(value.clone()).unwrap_or_else(|e| panic!("{name} request: {e}"));
                if value.get("timestamp").is_some() {
                    let encoded = serde_json::to_value(&envelope).expect("encode");
                    assert_same_document(name, &encoded, value);
                } else {
                    check_generated_envelope(&format!("{name} request"), &envelope, value);
                }
                check_typed_payload(&format!("{name} request"), &envelope, &value["payload"]);
                requests += 1;
            }
            // Compressed bodies are captured as a description only.
            Value::String(text) => {
                assert!(text.contains("gzip"), "{name}: unexpected body {text}");
                placeholders += 1;
            }
            other => panic!("{name}: unexpected request body {other}"),
        }

        let value = &capture["response"]["body"]["result"]["envelope"];
        let envelope: Envelope = roundtrip(&format!("{name} response"), value);
        let kind = check_typed_payload(&format!("{name} response"), &envelope, &value["payload"]);
        assert_eq!(kind, PayloadKind::TaskResponse, "{name}");
        assert!(envelope.correlation_id.is_some(), "{name}");
    }
    assert_eq!(files.len(), 4, "success captures seen");
    assert_eq!(requests, 3, "success captures with a JSON request body");
    assert_eq!(placeholders, 1, "success captures with a compressed body");
}
