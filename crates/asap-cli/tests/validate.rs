//! `asap validate` on the protocol examples, the invalid samples, hostile input and bad
//! usage.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

fn examples() -> PathBuf {
    let dir = asap_testing::fixtures::examples_dir();
    assert!(dir.is_dir(), "{} not found", dir.display());
    dir
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no JSON files in {}", dir.display());
    files
}

/// What one run printed.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let mut cmd = Command::cargo_bin("asap").expect("asap binary");
    cmd.args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let output = cmd.output().expect("run asap");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "asap {args:?} panicked:\n{}",
        run.stderr
    );
    run
}

fn validate_file(path: &Path, kind: Option<&str>) -> Run {
    let path = path.to_str().expect("UTF-8 path");
    match kind {
        Some(kind) => run(&["validate", "--kind", kind, path], None),
        None => run(&["validate", path], None),
    }
}

fn validate_stdin(bytes: Vec<u8>, kind: Option<&str>) -> Run {
    match kind {
        Some(kind) => run(&["validate", "--kind", kind, "-"], Some(bytes)),
        None => run(&["validate", "-"], Some(bytes)),
    }
}

fn assert_valid(run: &Run, what: &str) {
    assert_eq!(run.code, 0, "{what}: stderr {}", run.stderr);
    assert_eq!(run.stdout, "valid\n", "{what}");
    assert_eq!(run.stderr, "", "{what}");
}

fn assert_invalid(run: &Run, what: &str, expected: &[&str]) {
    assert_eq!(
        run.code, 1,
        "{what}: stdout {} stderr {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stdout, "", "{what}");
    for needle in expected {
        assert!(
            run.stderr.contains(needle),
            "{what}: {needle:?} not in stderr:\n{}",
            run.stderr
        );
    }
}

#[test]
fn every_envelope_example_is_valid() {
    for path in json_files(&examples()) {
        assert_valid(&validate_file(&path, None), &path.display().to_string());
        assert_valid(
            &validate_file(&path, Some("envelope")),
            &path.display().to_string(),
        );
    }
}

#[test]
fn every_entity_and_part_example_is_valid_with_its_kind() {
    for path in json_files(&examples().join("entities")) {
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem");
        let kind = stem.strip_suffix("_minimal").unwrap_or(stem);
        assert_valid(&validate_file(&path, Some(kind)), stem);
    }
    for path in json_files(&examples().join("parts")) {
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem");
        assert_valid(&validate_file(&path, Some("part")), stem);
        let value: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).unwrap();
        let tag = value["type"].as_str().expect("part type");
        assert_valid(&validate_file(&path, Some(&format!("{tag}_part"))), stem);
    }
}

#[test]
fn payload_examples_are_valid_with_their_payload_kind() {
    for path in json_files(&examples()) {
        let envelope: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
        let payload_type = envelope["payload_type"].as_str().expect("payload_type");
        let payload = serde_json::to_vec(&envelope["payload"]).expect("payload");
        // Dotted aliases are accepted by --kind.
        assert_valid(&validate_stdin(payload, Some(payload_type)), payload_type);
    }
}

/// The JSON-RPC captures in `examples/jsonrpc/`: request bodies the server framed without a
/// JSON-RPC or envelope error are valid; the others fail with the same code.
#[test]
fn captured_request_bodies_agree_with_the_reference_framing() {
    let mut checked = 0;
    for path in json_files(&examples().join("jsonrpc")) {
        let capture: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
        let body = &capture["request"]["body"];
        if !body.is_object() {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let code = capture["response"]["body"]["error"]["code"].as_i64();
        let run = validate_stdin(serde_json::to_vec(body).expect("body"), None);
        checked += 1;
        match (name, code) {
            // Rejected by the framing or the envelope decoder: the same error.
            ("error_invalid_envelope.json", Some(code))
            | ("error_missing_envelope.json", Some(code))
            | ("error_missing_id.json", Some(code))
            | ("error_unknown_method.json", Some(code)) => {
                assert_invalid(&run, name, &[&format!("error {code} ")]);
            }
            // REF answers -32603 because of I-01; the intended answer is -32602.
            ("error_invalid_urn_reference_bug.json", _) => {
                assert_invalid(
                    &run,
                    name,
                    &["error -32602 Invalid params: Invalid envelope structure"],
                );
            }
            // Server-side checks (auth, nonce, timestamp window, rate limit, dispatch,
            // encoding) or success: the document itself is valid.
            _ => assert_valid(&run, name),
        }
    }
    assert!(checked >= 10, "only {checked} captures checked");
}

/// How an invalid sample is validated and what it must print.
enum Expect {
    /// Auto-detected document; invalid with these stderr fragments.
    Invalid(&'static [&'static str]),
    /// Valid as a document (rejected only by server-side checks).
    Valid,
    /// Bare model validated with `--kind`; invalid with these stderr fragments.
    Model(&'static str, &'static [&'static str]),
}

fn invalid_samples() -> Vec<(&'static str, Expect)> {
    use Expect::*;
    vec![
        // Envelopes.
        (
            "envelope_missing_sender.json",
            Invalid(&["invalid envelope: at $.sender: Field required [missing]"]),
        ),
        (
            "envelope_bad_sender_urn.json",
            Invalid(&[
                "invalid envelope: at $.sender: Agent ID must follow URN format",
                "[value_error]",
            ]),
        ),
        (
            "envelope_uppercase_urn.json",
            Invalid(&["invalid envelope: at $.recipient:", "[value_error]"]),
        ),
        (
            "envelope_urn_too_long.json",
            Invalid(&["at $.sender: Agent URN must be at most 256 characters, got 257"]),
        ),
        (
            "envelope_unknown_field.json",
            Invalid(&["invalid envelope: at $.priority:", "[extra_forbidden]"]),
        ),
        (
            "envelope_payload_not_object.json",
            Invalid(&["invalid envelope: at $.payload:", "[dict_type]"]),
        ),
        (
            "envelope_id_not_string.json",
            Invalid(&["invalid envelope: at $.id:", "[string_type]"]),
        ),
        (
            "envelope_bad_timestamp_format.json",
            Invalid(&[
                "invalid envelope: at $.timestamp:",
                "[datetime_from_date_parsing]",
            ]),
        ),
        (
            "envelope_taskresponse_missing_correlation.json",
            Invalid(&[
                "invalid envelope: at $: TaskResponse must have correlation_id for request tracking [value_error]",
            ]),
        ),
        (
            "envelope_task_request_missing_skill_id.json",
            Invalid(&["invalid envelope: at $.payload.skill_id: Field required [missing]"]),
        ),
        // Rejected by the server's timestamp window or dispatch, not by the document.
        ("envelope_stale_timestamp.json", Valid),
        ("envelope_future_timestamp.json", Valid),
        ("envelope_unknown_payload_type.json", Valid),
        // JSON-RPC request bodies.
        (
            "jsonrpc_parse_error.txt",
            Invalid(&["error -32700 Parse error: Invalid JSON: Expecting value"]),
        ),
        (
            "jsonrpc_batch_array.json",
            Invalid(&[
                "error -32600 Invalid request: JSON-RPC request must be an object",
                "received_type: list",
            ]),
        ),
        (
            "jsonrpc_wrong_version.json",
            Invalid(&[
                "error -32600 Invalid request: Invalid JSON-RPC structure",
                "  at $.jsonrpc:",
                "[literal_error]",
            ]),
        ),
        (
            "jsonrpc_missing_id.json",
            Invalid(&[
                "error -32600 Invalid request: Invalid JSON-RPC structure",
                "  at $.id: Field required [missing]",
            ]),
        ),
        (
            "jsonrpc_null_id.json",
            Invalid(&[
                "error -32600 Invalid request: Invalid JSON-RPC structure",
                "[string_type]",
                "[int_type]",
            ]),
        ),
        (
            "jsonrpc_extra_member.json",
            Invalid(&[
                "error -32600 Invalid request: Invalid JSON-RPC structure",
                "  at $.meta:",
                "[extra_forbidden]",
            ]),
        ),
        (
            "jsonrpc_params_array.json",
            Invalid(&[
                "error -32602 Invalid params: JSON-RPC 'params' must be an object",
                "  at $.params:",
                "[dict_type]",
            ]),
        ),
        (
            "jsonrpc_missing_params.json",
            Invalid(&[
                "error -32600 Invalid request: Invalid JSON-RPC structure",
                "  at $.params: Field required [missing]",
            ]),
        ),
        (
            "jsonrpc_unknown_method.json",
            Invalid(&["error -32601 Method not found", "asap.receive"]),
        ),
        (
            "jsonrpc_missing_envelope.json",
            Invalid(&["error -32602 Invalid params: Missing 'envelope' in params"]),
        ),
        (
            "jsonrpc_envelope_not_object.json",
            Invalid(&[
                "error -32602 Invalid params: Invalid envelope structure",
                "  at $.params.envelope:",
                "[dict_type]",
            ]),
        ),
        // Bare models.
        (
            "file_part_path_traversal.json",
            Model(
                "part",
                &["invalid part: at $.uri: URI must not contain path traversal (..)"],
            ),
        ),
        (
            "file_part_file_scheme.json",
            Model(
                "part",
                &["at $.uri: file:// URIs are not allowed for security (path traversal risk)"],
            ),
        ),
        (
            "file_part_bad_mime.json",
            Model(
                "file_part",
                &[
                    "invalid file_part: at $.mime_type: Invalid MIME type format: text/plain; charset=utf-8",
                ],
            ),
        ),
        (
            "file_part_bad_base64.json",
            Model(
                "part",
                &["at $.inline_data: inline_data must be valid base64: Incorrect padding"],
            ),
        ),
        (
            "mcp_tool_result_success_without_result.json",
            Model(
                "mcp_tool_result",
                &["result must be provided when success=True [value_error]"],
            ),
        ),
        (
            "mcp_tool_result_failure_with_result.json",
            Model(
                "mcp.tool_result",
                &["result must be None when success=False [value_error]"],
            ),
        ),
        (
            "task_update_percent_out_of_range.json",
            Model(
                "task_update",
                &["at $.progress: progress.percent must be between 0 and 100"],
            ),
        ),
        (
            "task_update_bad_update_type.json",
            Model("task_update", &["at $.update_type:", "[enum]"]),
        ),
        (
            "task_response_bad_status.json",
            Model("task_response", &["at $.status:", "[enum]"]),
        ),
        (
            "state_snapshot_version_zero.json",
            Model("state_snapshot", &["at $.version:", "[greater_than_equal]"]),
        ),
        (
            "task_depth_too_large.json",
            Model("task", &["at $.depth:", "[less_than_equal]"]),
        ),
        (
            "manifest_unsupported_auth_scheme.json",
            Model(
                "manifest",
                &[
                    "Unsupported authentication scheme 'oauth2'. Supported schemes: basic, bearer",
                    "[asap:auth/unsupported_scheme]",
                ],
            ),
        ),
        (
            "manifest_bad_version.json",
            Model(
                "manifest",
                &["at $.version: Invalid semantic version 'latest'"],
            ),
        ),
        (
            "agent_empty_capabilities.json",
            Model("agent", &["at $.capabilities:", "[too_short]"]),
        ),
        (
            "text_part_unknown_type.json",
            Model("part", &["[union_tag_invalid]"]),
        ),
        (
            "message_send_bad_role.json",
            Model("message_send", &["at $.role:", "[enum]"]),
        ),
    ]
}

#[test]
fn every_invalid_sample_is_classified() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(examples().join("invalid"))
        .expect("list invalid samples")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    let classified: BTreeSet<String> = invalid_samples()
        .into_iter()
        .map(|(name, _)| name.to_owned())
        .collect();
    assert_eq!(on_disk, classified);
}

#[test]
fn invalid_samples_print_the_protocol_error() {
    let dir = examples().join("invalid");
    for (name, expect) in invalid_samples() {
        let path = dir.join(name);
        match expect {
            Expect::Invalid(needles) => assert_invalid(&validate_file(&path, None), name, needles),
            Expect::Valid => assert_valid(&validate_file(&path, None), name),
            Expect::Model(kind, needles) => {
                assert_invalid(&validate_file(&path, Some(kind)), name, needles);
                // Without --kind the object is checked as an envelope, with a hint.
                assert_invalid(
                    &validate_file(&path, None),
                    name,
                    &["invalid envelope: ", "hint: ", "--kind"],
                );
            }
        }
    }
}

#[test]
fn kind_request_and_envelope_force_the_document_kind() {
    let dir = examples().join("invalid");
    assert_invalid(
        &validate_file(&dir.join("envelope_unknown_field.json"), Some("request")),
        "envelope as request",
        &[
            "error -32600 Invalid request: Invalid JSON-RPC structure",
            "[missing]",
        ],
    );
    assert_invalid(
        &validate_file(&dir.join("jsonrpc_missing_id.json"), Some("envelope")),
        "request as envelope",
        &["invalid envelope: at $."],
    );
    assert_invalid(
        &validate_file(&dir.join("jsonrpc_parse_error.txt"), Some("envelope")),
        "parse error as envelope",
        &["invalid envelope: at $: Invalid JSON", "[json_invalid]"],
    );
}

/// Envelope samples wrapped in a request (as the invalid-samples README describes) keep
/// their verdict; envelope errors become -32602 located under `$.params.envelope`.
#[test]
fn wrapped_envelope_samples_keep_their_verdict() {
    let dir = examples().join("invalid");
    for (name, expect) in invalid_samples() {
        if !name.starts_with("envelope_") {
            continue;
        }
        let envelope: Value =
            serde_json::from_slice(&std::fs::read(dir.join(name)).expect("read")).expect("JSON");
        let body = json!({"jsonrpc": "2.0", "method": "asap.send",
                          "params": {"envelope": envelope}, "id": "req-1"});
        let run = validate_stdin(serde_json::to_vec(&body).expect("body"), None);
        match expect {
            Expect::Valid => assert_valid(&run, name),
            _ if name == "envelope_task_request_missing_skill_id.json" => assert_invalid(
                &run,
                name,
                &[
                    "invalid envelope: at $.params.envelope.payload.skill_id: Field required [missing]",
                ],
            ),
            _ => assert_invalid(
                &run,
                name,
                &[
                    "error -32602 Invalid params: Invalid envelope structure\n  at $.params.envelope",
                ],
            ),
        }
    }
}

#[test]
fn unknown_payload_types_are_accepted_with_a_note() {
    let doc = json!({"asap_version": "0.1", "sender": "urn:asap:agent:a",
                     "recipient": "urn:asap:agent:b", "payload_type": "x.y",
                     "payload": {"anything": [1, 2, 3]}});
    let run = validate_stdin(serde_json::to_vec(&doc).expect("doc"), None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "valid (payload type 'x.y' is not a known type; payload not checked)\n"
    );
    // PascalCase names are known types and are checked.
    let doc = json!({"asap_version": "0.1", "sender": "urn:asap:agent:a",
                     "recipient": "urn:asap:agent:b", "payload_type": "TaskCancel",
                     "payload": {"reason": "x"}});
    assert_invalid(
        &validate_stdin(serde_json::to_vec(&doc).expect("doc"), None),
        "TaskCancel",
        &["invalid envelope: at $.payload.task_id: Field required [missing]"],
    );
}

/// Deterministic pseudo-random bytes (xorshift), so failures are reproducible.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn hostile_input_is_rejected_without_panicking() {
    let depth = 100_000;
    let nested_request = format!(
        r#"{{"jsonrpc":"2.0","method":"asap.send","id":1,"params":{{"envelope":{{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b","payload_type":"x","payload":{{"a":{}{}}}}}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("whitespace", b" \n\t ".to_vec()),
        ("invalid UTF-8", b"\xff\xfe\xfd{\"a\":1}".to_vec()),
        (
            "invalid UTF-8 in a string",
            b"{\"asap_version\":\"\xc3\x28\"}".to_vec(),
        ),
        ("noise", noise(4096, 0x9e37_79b9_7f4a_7c15)),
        ("more noise", noise(65_536, 42)),
        ("deep arrays", "[".repeat(depth).into_bytes()),
        ("deep objects", "{\"a\":".repeat(depth).into_bytes()),
        ("deeply nested request", nested_request.into_bytes()),
        ("huge string", {
            let mut s = b"{\"payload_type\":\"".to_vec();
            s.extend(std::iter::repeat_n(b'x', 8 << 20));
            s.extend(b"\"}");
            s
        }),
        ("scalar", b"42".to_vec()),
        ("null", b"null".to_vec()),
        (
            "huge number",
            format!("{{\"id\":1{}}}", "0".repeat(5000)).into_bytes(),
        ),
        ("NUL bytes", vec![0; 64]),
    ];
    for (what, bytes) in inputs {
        for kind in [
            None,
            Some("request"),
            Some("envelope"),
            Some("part"),
            Some("manifest"),
        ] {
            let run = validate_stdin(bytes.clone(), kind);
            assert_eq!(
                run.code, 1,
                "{what} ({kind:?}): stdout {} stderr {}",
                run.stdout, run.stderr
            );
            assert!(!run.stderr.is_empty(), "{what} ({kind:?}): no message");
        }
    }
}

#[test]
fn control_characters_in_documents_are_escaped() {
    let doc = json!({"asap_version": "0.1", "sender": "urn:asap:agent:a",
                     "recipient": "urn:asap:agent:b", "payload_type": "x\u{1b}[2J",
                     "payload": {}});
    let run = validate_stdin(serde_json::to_vec(&doc).expect("doc"), None);
    assert_eq!(run.code, 0);
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
}

#[test]
fn unreadable_files_are_usage_errors() {
    let run = run(&["validate", "/definitely/not/here.json"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    assert!(
        run.stderr.contains("/definitely/not/here.json"),
        "{}",
        run.stderr
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let run = validate_file(dir.path(), None);
    assert_eq!(run.code, 2, "a directory: {}", run.stderr);
}

#[test]
fn bad_usage_exits_with_2() {
    for args in [
        &["validate"][..],
        &["validate", "--kind", "nope", "-"],
        &["validate", "a.json", "b.json"],
        &["frobnicate"],
        &[],
    ] {
        let run = run(args, None);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
}
