//! `asap serve --debug` serves the trace viewer (PROTOCOL §14.4) at /asap/traces/; without
//! `--debug` the path is a 404 like any other.

mod durable_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use durable_support::{Serve, get_text};

fn post_json(addr: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_owned())
}

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
    let (status, listed) = post_json(&server.addr, "/asap/traces/api/traces/list", &body);
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
