//! `asap serve` logs (PROTOCOL §14.2, docs/operations/logging.md): one access line per
//! request, the `asap.request.*` events paired by the request's envelope id (I-17, so
//! `asap trace` shows each hop's duration), every refusal, and with `ASAP_DEBUG_LOG` the
//! envelopes with their secrets redacted.

mod durable_support;

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use durable_support::{Serve, get_text, post, post_text};
use serde_json::{Value, json};

/// A secret the request carries, which no log line may contain.
const SECRET: &str = "sk-live-0123456789abcdef";

fn request(trace_id: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "asap.send",
        "id": "req-log",
        "params": {
            "envelope": {
                "asap_version": "0.1",
                "sender": "urn:asap:agent:client",
                "recipient": "urn:asap:agent:default-server",
                "payload_type": "task.request",
                "trace_id": trace_id,
                "payload": {
                    "conversation_id": "conv_logs",
                    "skill_id": "echo",
                    "input": {"text": "hi", "api_key": SECRET},
                },
            },
        },
    })
}

/// The JSON lines of `path`; every line must be one JSON object.
fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("log file")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn by_event<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["event"] == event).collect()
}

/// Starts `asap serve` logging JSON lines (and `env`) into `log`.
fn serve_logged(data: &Path, log: &Path, env: &[(&str, &str)]) -> Serve {
    let file = File::create(log).expect("log file");
    let mut vars = vec![
        ("ASAP_LOG_FORMAT", "json"),
        ("ASAP_SERVICE_NAME", "log-test"),
    ];
    vars.extend_from_slice(env);
    Serve::start_logged(data, &["--rate-limit", "off"], &vars, Stdio::from(file))
}

#[test]
fn every_request_gets_an_access_line_and_the_protocol_events() {
    let data = tempfile::tempdir().expect("data dir");
    let log = data.path().join("serve.log");
    let server = serve_logged(data.path(), &log, &[]);

    let reply = post(&server.addr, &request("t-logs-1"));
    let request_id = reply["result"]["envelope"]["correlation_id"].clone();
    let response_id = reply["result"]["envelope"]["id"].clone();
    assert!(request_id.is_string(), "{reply}");
    let (status, _) = post_text(&server.addr, "{not json");
    assert_eq!(status, 200);
    let (status, _) = get_text(&server.addr, "/health");
    assert_eq!(status, 200);
    assert!(server.terminate().success());

    let lines = lines(&log);
    for line in &lines {
        for member in ["event", "level", "logger", "timestamp"] {
            assert!(line[member].is_string(), "{member} in {line}");
        }
        assert_eq!(line["service"], "log-test", "{line}");
    }

    let received = by_event(&lines, "asap.request.received");
    assert_eq!(received.len(), 1, "{lines:#?}");
    let received = received[0];
    assert_eq!(received["envelope_id"], request_id);
    assert_eq!(received["trace_id"], "t-logs-1");
    assert_eq!(received["payload_type"], "task.request");
    assert_eq!(received["sender"], "urn:asap:agent:client");
    assert_eq!(received["recipient"], "urn:asap:agent:default-server");
    assert_eq!(received["authenticated"], false);
    assert_eq!(received["level"], "info");

    // I-17: the request's envelope id, so that the pair is found.
    let processed = by_event(&lines, "asap.request.processed");
    assert_eq!(processed.len(), 1, "{lines:#?}");
    let processed = processed[0];
    assert_eq!(processed["envelope_id"], request_id);
    assert_eq!(processed["response_id"], response_id);
    assert_eq!(processed["trace_id"], "t-logs-1");
    assert_eq!(processed["payload_type"], "task.request");
    assert!(processed["duration_ms"].as_f64().is_some(), "{processed}");

    let errors = by_event(&lines, "asap.request.error");
    assert_eq!(errors.len(), 1, "{lines:#?}");
    assert_eq!(errors[0]["error_type"], "parse_error");
    assert_eq!(errors[0]["level"], "warn");
    assert!(errors[0]["duration_ms"].as_f64().is_some());

    // One access line per request, the envelope's fields from the request span.
    let access = by_event(&lines, "http.request");
    assert_eq!(access.len(), 3, "{lines:#?}");
    let sent = access
        .iter()
        .find(|l| l["envelope_id"] == request_id)
        .expect("the access line of the envelope");
    assert_eq!(sent["method"], "POST");
    assert_eq!(sent["path"], "/asap");
    assert_eq!(sent["status"], 200);
    assert_eq!(sent["payload_type"], "task.request");
    assert_eq!(sent["sender"], "urn:asap:agent:client");
    assert_eq!(sent["logger"], "asap::access");
    assert!(sent["duration_ms"].as_f64().is_some());
    let health = access
        .iter()
        .find(|l| l["path"] == "/health")
        .expect("the access line of /health");
    assert_eq!(health["method"], "GET");
    assert_eq!(health["status"], 200);
    assert!(health.get("envelope_id").is_none(), "{health}");
    // The events of a request are inside its span: they carry its method and path.
    assert_eq!(received["path"], "/asap");

    // Without ASAP_DEBUG_LOG no envelope is written, so the secret cannot be either.
    assert!(by_event(&lines, "asap.request.envelope").is_empty());
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains(SECRET), "{text}");

    // The log pairs the hop with its duration (the reference's prints `(?)`).
    let trace = Command::cargo_bin("asap")
        .expect("binary")
        .args(["trace", "t-logs-1", "-f"])
        .arg(&log)
        .output()
        .expect("asap trace");
    let shown = String::from_utf8(trace.stdout).expect("UTF-8");
    assert!(trace.status.success(), "{shown}");
    assert!(
        shown.starts_with("client -> default-server (") && shown.trim_end().ends_with("ms)"),
        "{shown}"
    );
}

#[test]
fn debug_log_writes_both_envelopes_with_secrets_redacted() {
    let data = tempfile::tempdir().expect("data dir");
    let log = data.path().join("serve.log");
    let server = serve_logged(data.path(), &log, &[("ASAP_DEBUG_LOG", "1")]);
    let reply = post(&server.addr, &request("t-logs-2"));
    assert!(reply["result"].is_object(), "{reply}");
    assert!(server.terminate().success());

    let lines = lines(&log);
    let envelope = |event: &str| -> Value {
        let found = by_event(&lines, event);
        assert_eq!(found.len(), 1, "{event} in {lines:#?}");
        let text = found[0]["envelope"].as_str().expect("envelope text");
        serde_json::from_str(text).expect("envelope JSON")
    };
    let request = envelope("asap.request.envelope");
    assert_eq!(request["payload"]["input"]["api_key"], "***REDACTED***");
    assert_eq!(request["payload"]["input"]["text"], "hi");
    let response = envelope("asap.response.envelope");
    assert_eq!(response["payload_type"], "task.response");
    assert_eq!(response["trace_id"], "t-logs-2");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains(SECRET), "{text}");
}

#[test]
fn the_level_filter_and_console_format_apply() {
    let data = tempfile::tempdir().expect("data dir");
    let log = data.path().join("serve.log");
    let file = File::create(&log).expect("log file");
    let server = Serve::start_logged(
        data.path(),
        &["--rate-limit", "off"],
        &[("ASAP_LOG_LEVEL", "WARNING")],
        Stdio::from(file),
    );
    post(&server.addr, &request("t-logs-3"));
    post_text(&server.addr, "[]");
    assert!(server.terminate().success());
    let text = std::fs::read_to_string(&log).expect("log");
    // Console text, warnings only: the refusal, not the success nor the access lines.
    assert!(text.contains("asap.request.error"), "{text}");
    assert!(text.contains("invalid_request"), "{text}");
    assert!(!text.contains("asap.request.received"), "{text}");
    assert!(!text.contains("http.request"), "{text}");
    assert!(!text.trim_start().starts_with('{'), "{text}");
}
