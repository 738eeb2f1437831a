//! Every file of the invalid samples (`asap_testing::fixtures::invalid_dir`) fails at the model level with the error its
//! README names (type, location and, where the README quotes it, the exact message).
//!
//! Server-level outcomes (JSON-RPC codes, the timestamp window, dispatch) are tested in the
//! server crates; `jsonrpc_*` samples belong to the codec crate and are only counted here.
//! Every file of the directory must be classified below, so a new sample forces a decision.
//!
//! Each rejected sample is also repaired (the offending member fixed) and must then decode,
//! which shows that the sample fails for the documented reason and nothing else.

use std::collections::BTreeSet;
use std::path::PathBuf;

use asap_model::entity::Manifest;
use asap_model::part::{FilePart, TextPart};
use asap_model::payload::{McpToolResult, MessageSend, TaskRequest, TaskResponse, TaskUpdate};
use asap_model::validation::{from_slice, from_value};
use asap_model::{
    Agent, Envelope, LocItem, Part, PayloadKind, StateSnapshot, Task, Timestamp, ValidationError,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn dir() -> PathBuf {
    let dir = asap_testing::fixtures::invalid_dir();
    assert!(dir.is_dir(), "{} not found", dir.display());
    dir
}

fn sample_names() -> BTreeSet<String> {
    std::fs::read_dir(dir())
        .expect("list invalid samples")
        .map(|e| e.expect("entry").file_name().into_string().expect("UTF-8"))
        .filter(|n| n != "README.md")
        .collect()
}

fn read(name: &str) -> (Vec<u8>, Value) {
    let bytes = std::fs::read(dir().join(name)).expect("read sample");
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    (bytes, value)
}

fn loc(items: &[&str]) -> Vec<LocItem> {
    items.iter().map(|&k| LocItem::from(k)).collect()
}

/// What a sample must produce.
struct Expected {
    kind: &'static str,
    loc: &'static [&'static str],
    /// Exact message, when the invalid-samples README (or the protocol notes) quote it.
    msg: Option<String>,
}

fn expected(kind: &'static str, loc: &'static [&'static str], msg: Option<String>) -> Expected {
    Expected { kind, loc, msg }
}

fn check_error(name: &str, err: &ValidationError, want: &Expected) {
    assert_eq!(err.kind, want.kind, "{name}: error type ({err})");
    assert_eq!(err.loc, loc(want.loc), "{name}: error location ({err})");
    if let Some(msg) = &want.msg {
        assert_eq!(&err.msg, msg, "{name}: error message");
    }
}

/// Decoding `name` as `T` fails with `want` (also from raw bytes, and the plain serde path
/// fails too); after `fix` the document decodes.
fn rejects<T: DeserializeOwned>(name: &str, want: &Expected, fix: impl FnOnce(&mut Value)) {
    let (bytes, value) = read(name);
    let err = from_value::<T>(value.clone())
        .err()
        .unwrap_or_else(|| panic!("{name}: decoded although invalid"));
    check_error(name, &err, want);
    let from_bytes = from_slice::<T>(&bytes)
        .err()
        .unwrap_or_else(|| panic!("{name}: decoded from bytes"));
    assert_eq!(from_bytes, err, "{name}: from_slice and from_value differ");
    assert!(
        serde_json::from_value::<T>(value.clone()).is_err(),
        "{name}: plain serde accepts it"
    );

    let mut fixed = value;
    fix(&mut fixed);
    if let Err(e) = from_value::<T>(fixed) {
        panic!("{name}: still rejected after fixing the documented problem: {e}");
    }
}

fn set(key: &'static str, v: Value) -> impl FnOnce(&mut Value) {
    move |doc| {
        doc[key] = v;
    }
}

fn remove(key: &'static str) -> impl FnOnce(&mut Value) {
    move |doc| {
        doc.as_object_mut().expect("object").remove(key);
    }
}

fn value_error(loc: &'static [&'static str], msg: impl Into<String>) -> Expected {
    expected("value_error", loc, Some(msg.into()))
}

fn urn_format(got: &str) -> String {
    format!("Agent ID must follow URN format 'urn:asap:agent:{{name}}', got: {got}")
}

/// Checks one envelope sample; returns false when the name is not an envelope sample.
fn check_envelope_sample(name: &str) -> bool {
    let ok_urn = || json!("urn:asap:agent:coordinator");
    match name {
        "envelope_missing_sender.json" => rejects::<Envelope>(
            name,
            &expected("missing", &["sender"], None),
            set("sender", ok_urn()),
        ),
        "envelope_bad_sender_urn.json" => rejects::<Envelope>(
            name,
            &value_error(&["sender"], urn_format("coordinator")),
            set("sender", ok_urn()),
        ),
        "envelope_uppercase_urn.json" => rejects::<Envelope>(
            name,
            &value_error(&["recipient"], urn_format("urn:asap:agent:Research")),
            set("recipient", json!("urn:asap:agent:research")),
        ),
        "envelope_urn_too_long.json" => {
            let (_, value) = read(name);
            let len = value["sender"].as_str().expect("sender").chars().count();
            assert_eq!(len, 257, "{name}: sample sender length");
            rejects::<Envelope>(
                name,
                &value_error(
                    &["sender"],
                    "Agent URN must be at most 256 characters, got 257",
                ),
                // One character shorter is exactly at the limit and valid.
                |doc| {
                    let sender = doc["sender"].as_str().expect("sender")[..256].to_owned();
                    doc["sender"] = json!(sender);
                },
            );
        }
        "envelope_unknown_field.json" => rejects::<Envelope>(
            name,
            &expected("extra_forbidden", &["priority"], None),
            remove("priority"),
        ),
        "envelope_payload_not_object.json" => rejects::<Envelope>(
            name,
            &expected("dict_type", &["payload"], None),
            set("payload", json!({})),
        ),
        "envelope_id_not_string.json" => rejects::<Envelope>(
            name,
            &expected("string_type", &["id"], None),
            set("id", json!("12345")),
        ),
        "envelope_bad_timestamp_format.json" => rejects::<Envelope>(
            name,
            &expected("datetime_from_date_parsing", &["timestamp"], None),
            remove("timestamp"),
        ),
        "envelope_taskresponse_missing_correlation.json" => rejects::<Envelope>(
            name,
            &value_error(
                &[],
                "TaskResponse must have correlation_id for request tracking",
            ),
            set("correlation_id", json!("01KDWPVNG0DE3B4WZZ6KYE37BA")),
        ),
        // The timestamp window is a server check: the model accepts both.
        "envelope_stale_timestamp.json" => {
            let envelope = decodes(name);
            let age = envelope.timestamp.seconds_until(&Timestamp::now());
            assert!(age > 300.0, "{name}: timestamp is only {age} s old");
        }
        "envelope_future_timestamp.json" => {
            let envelope = decodes(name);
            let ahead = Timestamp::now().seconds_until(&envelope.timestamp);
            assert!(ahead > 30.0, "{name}: timestamp is only {ahead} s ahead");
        }
        // Rejected at dispatch (no handler for the PascalCase name); a valid envelope here.
        "envelope_unknown_payload_type.json" => {
            let envelope = decodes(name);
            assert_eq!(envelope.payload_type, "TaskRequest");
            assert_eq!(envelope.payload_kind(), Some(PayloadKind::TaskRequest));
            assert_eq!(
                PayloadKind::from_payload_type("TaskRequest").map(PayloadKind::dotted),
                Some("task.request")
            );
            envelope
                .validate_payload()
                .expect("payload is a TaskRequest");
            let request: TaskRequest = envelope.payload_as().expect("payload_as");
            assert_eq!(request.skill_id, "web_research");
        }
        // The envelope is fine; only its payload is not a TaskRequest.
        "envelope_task_request_missing_skill_id.json" => {
            let envelope = decodes(name);
            let want = expected("missing", &["payload", "skill_id"], None);
            let err = envelope.validate_payload().expect_err("validate_payload");
            check_error(name, &err, &want);
            assert_eq!(err.json_path(), "$.payload.skill_id");
            let err = envelope
                .payload_as::<TaskRequest>()
                .expect_err("payload_as");
            check_error(name, &err, &want);
            let err = envelope.validate_strict().expect_err("validate_strict");
            check_error(name, &err, &want);
        }
        _ => return false,
    }
    true
}

fn decodes(name: &str) -> Envelope {
    let (bytes, value) = read(name);
    let envelope: Envelope = from_value(value).unwrap_or_else(|e| panic!("{name}: {e}"));
    let again: Envelope = from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        (&again.id, &again.payload),
        (&envelope.id, &envelope.payload),
        "{name}"
    );
    envelope
}

/// Checks one model-level sample; returns false when the name is not one.
fn check_model_sample(name: &str) -> bool {
    let ok_uri = || json!("https://example.com/a.txt");
    match name {
        "file_part_path_traversal.json" => {
            let want = value_error(
                &["uri"],
                "URI must not contain path traversal (..): 'https://example.com/../../etc/passwd'",
            );
            rejects::<Part>(name, &want, set("uri", ok_uri()));
            rejects::<FilePart>(name, &want, set("uri", ok_uri()));
            check_file_part_validate(name, &want);
        }
        "file_part_file_scheme.json" => {
            let want = value_error(
                &["uri"],
                "file:// URIs are not allowed for security (path traversal risk)",
            );
            rejects::<Part>(name, &want, set("uri", ok_uri()));
            rejects::<FilePart>(name, &want, set("uri", ok_uri()));
            check_file_part_validate(name, &want);
        }
        "file_part_bad_mime.json" => {
            let want = value_error(
                &["mime_type"],
                "Invalid MIME type format: text/plain; charset=utf-8",
            );
            rejects::<Part>(name, &want, set("mime_type", json!("text/plain")));
            rejects::<FilePart>(name, &want, set("mime_type", json!("text/plain")));
            check_file_part_validate(name, &want);
        }
        "file_part_bad_base64.json" => {
            let want = value_error(
                &["inline_data"],
                "inline_data must be valid base64: Incorrect padding",
            );
            rejects::<Part>(name, &want, set("inline_data", json!("SGVsbG8=")));
            rejects::<FilePart>(name, &want, set("inline_data", json!("SGVsbG8=")));
            check_file_part_validate(name, &want);
        }
        "mcp_tool_result_success_without_result.json" => {
            let want = value_error(&[], "result must be provided when success=True");
            rejects::<McpToolResult>(name, &want, set("result", json!({})));
            check_tool_result_validate(name, &want);
        }
        "mcp_tool_result_failure_with_result.json" => {
            let want = value_error(&[], "result must be None when success=False");
            rejects::<McpToolResult>(name, &want, set("result", Value::Null));
            check_tool_result_validate(name, &want);
        }
        "task_update_percent_out_of_range.json" => rejects::<TaskUpdate>(
            name,
            &value_error(&["progress"], "progress.percent must be between 0 and 100"),
            set("progress", json!({"percent": 100})),
        ),
        "task_update_bad_update_type.json" => rejects::<TaskUpdate>(
            name,
            &expected("enum", &["update_type"], None),
            set("update_type", json!("progress")),
        ),
        "task_response_bad_status.json" => rejects::<TaskResponse>(
            name,
            &expected("enum", &["status"], None),
            set("status", json!("completed")),
        ),
        "state_snapshot_version_zero.json" => rejects::<StateSnapshot>(
            name,
            &expected("greater_than_equal", &["version"], None),
            set("version", json!(1)),
        ),
        "task_depth_too_large.json" => rejects::<Task>(
            name,
            &expected("less_than_equal", &["depth"], None),
            set("depth", json!(10)),
        ),
        "manifest_unsupported_auth_scheme.json" => {
            let want = expected(
                "asap:auth/unsupported_scheme",
                &["auth"],
                Some(
                    "Unsupported authentication scheme 'oauth2'. Supported schemes: basic, bearer"
                        .into(),
                ),
            );
            rejects::<Manifest>(name, &want, set("auth", json!({"schemes": ["Bearer"]})));
        }
        "manifest_bad_version.json" => {
            let want = value_error(
                &["version"],
                "Invalid semantic version 'latest': Invalid version: 'latest'",
            );
            rejects::<Manifest>(name, &want, set("version", json!("1.0.0")));
            // The same rule applies to a manifest built in code.
            let (_, mut value) = read(name);
            value["version"] = json!("1.0.0");
            let mut manifest: Manifest = from_value(value).expect("fixed manifest");
            manifest.validate().expect("valid");
            manifest.version = "latest".into();
            check_error(name, &manifest.validate().expect_err("validate"), &want);
        }
        "agent_empty_capabilities.json" => rejects::<Agent>(
            name,
            &expected("too_short", &["capabilities"], None),
            set("capabilities", json!(["task.execute"])),
        ),
        "text_part_unknown_type.json" => {
            // As a union member the tag is reported at the union itself …
            rejects::<Part>(
                name,
                &expected("union_tag_invalid", &[], None),
                set("type", json!("text")),
            );
            // … and as the TextPart model, as a literal mismatch at `type`.
            rejects::<TextPart>(
                name,
                &expected("literal_error", &["type"], None),
                set("type", json!("text")),
            );
        }
        "message_send_bad_role.json" => rejects::<MessageSend>(
            name,
            &expected("enum", &["role"], None),
            set("role", json!("assistant")),
        ),
        _ => return false,
    }
    true
}

/// `FilePart::validate` on a part built in code reports the same error as decoding.
fn check_file_part_validate(name: &str, want: &Expected) {
    let (_, value) = read(name);
    let mut part = FilePart::new("https://example.com/a.txt", "text/plain");
    part.validate().expect("a valid file part");
    match want.loc {
        ["uri"] => part.uri = value["uri"].as_str().expect("uri").into(),
        ["mime_type"] => part.mime_type = value["mime_type"].as_str().expect("mime").into(),
        ["inline_data"] => part.inline_data = value["inline_data"].as_str().map(Into::into),
        other => panic!("{name}: unexpected location {other:?}"),
    }
    check_error(name, &part.validate().expect_err("validate"), want);
}

/// `McpToolResult::validate` on a value built in code reports the same error as decoding.
fn check_tool_result_validate(name: &str, want: &Expected) {
    let (_, value) = read(name);
    let result = McpToolResult {
        request_id: value["request_id"].as_str().expect("request_id").into(),
        success: value["success"].as_bool().expect("success"),
        result: value["result"].as_object().cloned(),
        error: value["error"].as_str().map(Into::into),
    };
    check_error(name, &result.validate().expect_err("validate"), want);
}

#[test]
fn every_invalid_sample_fails_as_documented() {
    let names = sample_names();
    let (mut envelopes, mut models, mut rpc) = (0, 0, 0);
    for name in &names {
        if name.starts_with("jsonrpc_") {
            // Complete JSON-RPC request bodies: tested by the codec crate.
            rpc += 1;
        } else if check_envelope_sample(name) {
            envelopes += 1;
        } else if check_model_sample(name) {
            models += 1;
        } else {
            panic!("invalid sample {name} is not classified: add its expectation here");
        }
    }
    assert_eq!(envelopes, 13, "envelope samples");
    assert_eq!(models, 16, "model-level samples");
    assert_eq!(rpc, 11, "JSON-RPC samples (codec crate)");
    assert_eq!(names.len(), envelopes + models + rpc);
}

/// The README tables and the directory list the same files.
#[test]
fn readme_lists_every_sample() {
    let readme = std::fs::read_to_string(dir().join("README.md")).expect("README.md");
    let documented: BTreeSet<String> = readme
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('`').nth(1))
        .filter(|n| n.ends_with(".json") || n.ends_with(".txt"))
        .map(str::to_owned)
        .collect();
    assert_eq!(documented, sample_names());
}
