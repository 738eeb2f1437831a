//! `asap serve` exports its spans over OTLP when the `OTEL_*` variables ask for it
//! (docs/operations/tracing.md): checked with a receiver decoding the protobuf, for both
//! transports, the request continuing the caller's `traceparent`.

mod durable_support;

use std::process::Stdio;
use std::time::Duration;

use asap_testing::otlp::{OtlpReceiver, ReceivedSpan};
use durable_support::{Serve, post_to};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT: &str = "b7ad6b7169203331";

fn post_with_traceparent(addr: &str) -> String {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "method": "asap.send", "id": 1,
        "params": {"envelope": {
            "asap_version": "0.1",
            "sender": "urn:asap:agent:client",
            "recipient": "urn:asap:agent:default-server",
            "payload_type": "task.request",
            "payload": {"conversation_id": "c", "skill_id": "echo", "input": {}},
        }},
    })
    .to_string();
    let traceparent = format!("00-{TRACE}-{PARENT}-01");
    let (status, answer) = post_to(addr, "/asap", &[("traceparent", &traceparent)], &body);
    assert_eq!(status, 200, "{answer}");
    answer
}

fn exported(protocol: &str, endpoint: impl Fn(&OtlpReceiver) -> String) -> Vec<ReceivedSpan> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let receiver = runtime.block_on(OtlpReceiver::start()).expect("receiver");
    let data = tempfile::tempdir().expect("data dir");
    let endpoint = endpoint(&receiver);
    let server = Serve::start_logged(
        data.path(),
        &["--rate-limit", "off"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("ASAP_LOG_LEVEL", "warn"),
        ],
        Stdio::null(),
    );
    let answer = post_with_traceparent(&server.addr);
    assert!(
        answer.contains(TRACE),
        "the response continues the trace: {answer}"
    );
    // A graceful stop exports what is left.
    let status = server.terminate();
    assert!(status.success(), "asap serve exited with {status}");
    runtime.block_on(receiver.wait_for(Duration::from_secs(20), |spans| spans.len() >= 2))
}

fn assert_exported(spans: &[ReceivedSpan]) {
    let server = spans
        .iter()
        .find(|s| s.name == "POST /asap")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(server.trace_id, TRACE);
    assert_eq!(server.parent_span_id.as_deref(), Some(PARENT));
    assert_eq!(
        server.service_name.as_deref(),
        Some("urn:asap:agent:default-server")
    );
    let handler = spans
        .iter()
        .find(|s| s.name == "asap.handler.execute")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(
        handler.parent_span_id.as_deref(),
        Some(server.span_id.as_str())
    );
    assert_eq!(handler.trace_id, TRACE);
}

#[test]
fn serve_exports_over_grpc() {
    assert_exported(&exported("grpc", OtlpReceiver::grpc_endpoint));
}

#[test]
fn serve_exports_over_http_protobuf() {
    assert_exported(&exported("http/protobuf", OtlpReceiver::http_endpoint));
}
