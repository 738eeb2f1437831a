//! `asap validate`: checks a document and describes the first protocol error.
//!
//! Nothing here panics on input-derived data: every decode goes through `Result`s, JSON
//! nesting is bounded by serde_json's recursion limit, and the simd-json fast path of the
//! codec only sees documents serde_json has already parsed.

use asap_codec::rpc::{self, Call, RpcError};
use asap_model::entity::{Agent, Artifact, Conversation, Manifest, Message, StateSnapshot, Task};
use asap_model::part::{DataPart, FilePart, ResourcePart, TemplatePart, TextPart};
use asap_model::validation::from_value;
use asap_model::{Envelope, LocItem, Part, PayloadKind, ValidationError};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cli::DocKind;

/// Result of a validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The document is valid; the optional note qualifies it.
    Valid(Option<String>),
    /// The document is invalid; the lines describe why.
    Invalid(Vec<String>),
}

/// Added to the envelope errors of an object that has neither envelope-specific member.
const BARE_MODEL_HINT: &str = "hint: the document has neither `payload_type` nor `asap_version`, \
     so it was checked as an envelope; validate a bare entity, part or payload with --kind";

/// Validates `bytes` as `kind`, or as the detected kind when `None`.
pub(crate) fn validate(bytes: &[u8], kind: Option<DocKind>) -> Outcome {
    let parsed = serde_json::from_slice::<Value>(bytes);
    match kind {
        None => match parsed {
            Ok(value) if looks_like_request(&value) => request(bytes, true),
            Ok(value) => {
                let bare_model = value.as_object().is_some_and(|o| {
                    !o.contains_key("payload_type") && !o.contains_key("asap_version")
                });
                let mut outcome = envelope(value);
                if let (true, Outcome::Invalid(lines)) = (bare_model, &mut outcome) {
                    lines.push(BARE_MODEL_HINT.to_owned());
                }
                outcome
            }
            // Not JSON at all: the protocol's answer is a -32700 parse error.
            Err(_) => request(bytes, false),
        },
        Some(DocKind::Request) => request(bytes, parsed.is_ok()),
        Some(other) => match parsed {
            Ok(value) => model(other, bytes, value),
            Err(e) => invalid(
                &other.label(),
                &ValidationError::new("json_invalid", format!("Invalid JSON: {e}")),
            ),
        },
    }
}

/// Whether a parsed document is (an attempt at) a JSON-RPC request: an object with a
/// `method`, `jsonrpc` or `params` member, or an array holding such an object (a batch).
fn looks_like_request(value: &Value) -> bool {
    let is_request = |v: &Value| {
        v.as_object().is_some_and(|o| {
            o.contains_key("method") || o.contains_key("jsonrpc") || o.contains_key("params")
        })
    };
    match value {
        Value::Array(items) => items.iter().any(is_request),
        other => is_request(other),
    }
}

/// A JSON-RPC request body, framed exactly like the server does, then its envelope.
///
/// `json_ok` tells whether serde_json parsed the body (so its nesting is bounded); otherwise
/// only the exact serde_json-based decoder is used.
fn request(bytes: &[u8], json_ok: bool) -> Outcome {
    let decoded = if json_ok {
        rpc::decode_request(bytes)
    } else {
        rpc::decode_exact(bytes)
    };
    match decoded {
        Err(response) => Outcome::Invalid(rpc_error_lines(&response.error, &[])),
        Ok(Call {
            envelope: Err(error),
            ..
        }) => Outcome::Invalid(rpc_error_lines(&error, &["params", "envelope"])),
        Ok(Call {
            envelope: Ok(envelope),
            ..
        }) => match envelope.validate_payload() {
            Ok(()) => Outcome::Valid(payload_note(&envelope)),
            Err(e) => invalid("envelope", &e.prefixed(["params", "envelope"])),
        },
    }
}

/// An envelope document, its payload included.
fn envelope(value: Value) -> Outcome {
    match from_value::<Envelope>(value) {
        Err(e) => invalid("envelope", &e),
        Ok(envelope) => match envelope.validate_payload() {
            Ok(()) => Outcome::Valid(payload_note(&envelope)),
            Err(e) => invalid("envelope", &e),
        },
    }
}

fn payload_note(envelope: &Envelope) -> Option<String> {
    match envelope.payload_kind() {
        Some(_) => None,
        None => Some(format!(
            "payload type '{}' is not a known type; payload not checked",
            sanitize(&envelope.payload_type)
        )),
    }
}

/// A bare model of the given kind.
fn model(kind: DocKind, bytes: &[u8], value: Value) -> Outcome {
    let payload = |p: PayloadKind| match value.clone() {
        Value::Object(object) => p.parse(object).map(drop),
        _ => Err(ValidationError::new(
            "dict_type",
            "Input should be a valid dictionary",
        )),
    };
    let result = match kind {
        DocKind::Envelope => return envelope(value),
        DocKind::Request => return request(bytes, true),
        DocKind::Agent => check::<Agent>(value),
        DocKind::Manifest => check::<Manifest>(value),
        DocKind::Conversation => check::<Conversation>(value),
        DocKind::Task => check::<Task>(value),
        DocKind::Message => check::<Message>(value),
        DocKind::Artifact => check::<Artifact>(value),
        DocKind::StateSnapshot => check::<StateSnapshot>(value),
        DocKind::Part => check::<Part>(value),
        DocKind::TextPart => check::<TextPart>(value),
        DocKind::DataPart => check::<DataPart>(value),
        DocKind::FilePart => check::<FilePart>(value),
        DocKind::ResourcePart => check::<ResourcePart>(value),
        DocKind::TemplatePart => check::<TemplatePart>(value),
        DocKind::TaskRequest => payload(PayloadKind::TaskRequest),
        DocKind::TaskResponse => payload(PayloadKind::TaskResponse),
        DocKind::TaskUpdate => payload(PayloadKind::TaskUpdate),
        DocKind::TaskCancel => payload(PayloadKind::TaskCancel),
        DocKind::MessageSend => payload(PayloadKind::MessageSend),
        DocKind::StateQuery => payload(PayloadKind::StateQuery),
        DocKind::StateRestore => payload(PayloadKind::StateRestore),
        DocKind::ArtifactNotify => payload(PayloadKind::ArtifactNotify),
        DocKind::McpToolCall => payload(PayloadKind::McpToolCall),
        DocKind::McpToolResult => payload(PayloadKind::McpToolResult),
        DocKind::McpResourceFetch => payload(PayloadKind::McpResourceFetch),
        DocKind::McpResourceData => payload(PayloadKind::McpResourceData),
    };
    match result {
        Ok(()) => Outcome::Valid(None),
        Err(e) => invalid(&kind.label(), &e),
    }
}

fn check<T: DeserializeOwned>(value: Value) -> Result<(), ValidationError> {
    from_value::<T>(value).map(drop)
}

fn invalid(what: &str, error: &ValidationError) -> Outcome {
    Outcome::Invalid(vec![format!("invalid {what}: at {}", located(error))])
}

/// `<json path>: <msg> [<type>]`, with control characters escaped.
fn located(error: &ValidationError) -> String {
    sanitize(&error.to_string())
}

/// The lines describing a JSON-RPC error: `error <code> <message>[: <data.error>]`, then the
/// validation errors (located from the document root via `prefix`), then other `data` members.
fn rpc_error_lines(error: &RpcError, prefix: &[&str]) -> Vec<String> {
    let mut head = format!("error {} {}", error.code, sanitize(&error.message));
    if let Some(detail) = error.data_error() {
        head.push_str(": ");
        head.push_str(&sanitize(detail));
    }
    let mut lines = vec![head];
    let Some(Value::Object(data)) = &error.data else {
        return lines;
    };
    for (key, value) in data {
        match (key.as_str(), value) {
            ("error", Value::String(_)) => {}
            ("validation_errors", Value::Array(items)) => {
                for item in items {
                    let located_error =
                        validation_error_from_json(item).prefixed(prefix.iter().copied());
                    lines.push(format!("  at {}", located(&located_error)));
                }
            }
            (_, Value::String(s)) => lines.push(format!("  {}: {}", sanitize(key), sanitize(s))),
            (_, other) => lines.push(format!(
                "  {}: {}",
                sanitize(key),
                sanitize(&other.to_string())
            )),
        }
    }
    lines
}

/// Reads back a `{"type", "loc", "msg"}` object of `data.validation_errors`.
fn validation_error_from_json(item: &Value) -> ValidationError {
    let text = |key: &str| {
        item.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let loc = item
        .get("loc")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|l| match l {
                    Value::Number(n) => n
                        .as_u64()
                        .and_then(|i| usize::try_from(i).ok())
                        .map_or_else(|| LocItem::Key(n.to_string()), LocItem::Index),
                    Value::String(s) => LocItem::Key(s.clone()),
                    other => LocItem::Key(other.to_string()),
                })
                .collect()
        })
        .unwrap_or_default();
    ValidationError {
        kind: text("type"),
        loc,
        msg: text("msg"),
    }
}

/// Escapes control characters so that document text cannot drive the terminal.
pub(crate) fn sanitize(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(outcome: Outcome) -> Vec<String> {
        match outcome {
            Outcome::Invalid(lines) => lines,
            Outcome::Valid(note) => panic!("unexpectedly valid ({note:?})"),
        }
    }

    #[test]
    fn envelope_errors_are_located() {
        let doc =
            br#"{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b",
                      "payload_type":"task.request","payload":{"conversation_id":"c","input":{}}}"#;
        assert_eq!(
            lines(validate(doc, None)),
            ["invalid envelope: at $.payload.skill_id: Field required [missing]"]
        );
    }

    #[test]
    fn unknown_payload_types_are_noted() {
        let doc =
            br#"{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b",
                      "payload_type":"x.y","payload":{"anything":1}}"#;
        assert_eq!(
            validate(doc, None),
            Outcome::Valid(Some(
                "payload type 'x.y' is not a known type; payload not checked".into()
            ))
        );
    }

    #[test]
    fn rpc_envelope_errors_are_located_from_the_root() {
        let doc = br#"{"jsonrpc":"2.0","method":"asap.send","id":1,"params":{"envelope":
                      {"asap_version":"0.1","recipient":"urn:asap:agent:b",
                       "payload_type":"x","payload":{}}}}"#;
        assert_eq!(
            lines(validate(doc, None)),
            [
                "error -32602 Invalid params: Invalid envelope structure",
                "  at $.params.envelope.sender: Field required [missing]",
            ]
        );
    }

    #[test]
    fn garbage_is_a_parse_error() {
        for doc in [&b""[..], b"\xff\xfe", b"{\"a\":", b"nul"] {
            let out = lines(validate(doc, None));
            assert!(out[0].starts_with("error -32700 Parse error: "), "{out:?}");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 100_000;
        let mut doc = String::from(
            r#"{"jsonrpc":"2.0","method":"asap.send","id":1,"params":{"envelope":{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b","payload_type":"x","payload":{"a":"#,
        );
        doc.push_str(&"[".repeat(depth));
        doc.push_str(&"]".repeat(depth));
        doc.push_str("}}}}");
        assert!(matches!(
            validate(doc.as_bytes(), None),
            Outcome::Invalid(_)
        ));
        assert!(matches!(
            validate(doc.as_bytes(), Some(DocKind::Request)),
            Outcome::Invalid(_)
        ));
        assert!(matches!(
            validate(doc.as_bytes(), Some(DocKind::Envelope)),
            Outcome::Invalid(_)
        ));
    }

    /// Every JSON document of the examples (envelopes, entities, parts, invalid samples).
    fn example_documents() -> Vec<Value> {
        let mut docs = Vec::new();
        for sub in ["", "entities", "parts", "invalid"] {
            let dir = asap_testing::fixtures::examples_dir().join(sub);
            let mut paths: Vec<_> = std::fs::read_dir(&dir)
                .expect("examples directory")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            paths.sort();
            for path in paths {
                let bytes = std::fs::read(&path).expect("read example");
                docs.push(serde_json::from_slice(&bytes).expect("JSON example"));
            }
        }
        assert!(docs.len() > 50, "only {} examples", docs.len());
        docs
    }

    /// Each member of each object replaced by awkward values or removed.
    fn mutants(doc: &Value) -> Vec<Value> {
        fn walk(root: &Value, pointer: String, node: &Value, out: &mut Vec<Value>) {
            let replacements = [
                Value::Null,
                serde_json::json!(-1),
                serde_json::json!(11),
                serde_json::json!(1e300),
                serde_json::json!(true),
                serde_json::json!("../../etc/passwd"),
                serde_json::json!("file:///etc/passwd"),
                serde_json::json!("2026-01-01"),
                serde_json::json!([]),
                serde_json::json!({"type": "file"}),
            ];
            match node {
                Value::Object(object) => {
                    for (key, child) in object {
                        let escaped = key.replace('~', "~0").replace('/', "~1");
                        for replacement in &replacements {
                            let mut copy = root.clone();
                            if let Some(Value::Object(o)) = copy.pointer_mut(&pointer) {
                                o.insert(key.clone(), replacement.clone());
                                out.push(copy);
                            }
                        }
                        let mut copy = root.clone();
                        if let Some(Value::Object(o)) = copy.pointer_mut(&pointer) {
                            o.remove(key);
                            out.push(copy);
                        }
                        walk(root, format!("{pointer}/{escaped}"), child, out);
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        walk(root, format!("{pointer}/{i}"), child, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(doc, String::new(), doc, &mut out);
        out
    }

    /// No document derived from the examples makes any kind of validation panic, and every
    /// verdict is printable.
    #[test]
    fn mutated_examples_never_panic() {
        use clap::ValueEnum;
        let mut checked = 0usize;
        for doc in example_documents() {
            let wrapped = serde_json::json!({"jsonrpc": "2.0", "method": "asap.send",
                                             "params": {"envelope": doc.clone()}, "id": 1});
            // Bare documents under every kind; wrapped ones as detected (requests).
            let all_kinds: Vec<Option<DocKind>> = std::iter::once(None)
                .chain(DocKind::value_variants().iter().copied().map(Some))
                .collect();
            let cases = std::iter::once(doc.clone())
                .chain(mutants(&doc))
                .map(|m| (m, &all_kinds[..]))
                .chain(mutants(&wrapped).into_iter().map(|m| (m, &all_kinds[..1])));
            for (mutant, kinds) in cases {
                let bytes = serde_json::to_vec(&mutant).expect("encode");
                for &kind in kinds {
                    match validate(&bytes, kind) {
                        Outcome::Valid(_) => {}
                        Outcome::Invalid(lines) => assert!(!lines.is_empty()),
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "only {checked} validations");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(sanitize("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(sanitize("plain"), "plain");
    }
}
