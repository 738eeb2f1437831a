//! `asap serve --debug` serves the trace viewer (PROTOCOL §14.4) at /asap/traces/; without
//! `--debug` the path is a 404 like any other.

mod durable_support;

use durable_support::{Serve, get_text, post_to};

#[test]
fn debug_mode_serves_the_trace_viewer() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start_with(data.path(), &["--rate-limit", "off", "--debug"]);
    let (status, page) = get_text(&server.addr, "/asap/traces/");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<html") || page.contains("<!doctype"),
        "{page}"
    );
    let log = r#"{"event":"asap.request.received","trace_id":"t-1","envelope_id":"e1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b","timestamp":"2026-01-01T00:00:00Z"}"#;
    let body = serde_json::json!({ "log_lines": log }).to_string();
    let (status, listed) = post_to(&server.addr, "/asap/traces/api/traces/list", &[], &body);
    assert_eq!(status, 200, "{listed}");
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed["trace_ids"], serde_json::json!(["t-1"]));
    // The agent's own routes are untouched.
    let (status, _) = get_text(&server.addr, "/health");
    assert_eq!(status, 200);
    server.kill();
}

#[test]
fn without_debug_the_viewer_is_not_served() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start(data.path());
    let (status, _) = get_text(&server.addr, "/asap/traces/");
    assert_eq!(status, 404);
    server.kill();
}
