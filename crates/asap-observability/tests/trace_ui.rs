//! The web view's API (`trace_view::web::TraceUi`), driven as a tower Service: listing and
//! visualizing the fixture logs, the page, the preloaded log and the base path; its errors
//! (404, 405, 413, 422) are in trace_ui/errors.rs.
#![cfg(feature = "trace-ui")]

#[path = "trace_ui/errors.rs"]
mod errors;

use asap_observability::trace_view::web::TraceUi;
use asap_observability::trace_view::{TraceCollector, render_json};
use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tower::ServiceExt;

fn fixture(name: &str) -> String {
    let path = asap_testing::fixtures::examples_dir()
        .join("trace")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An answer: status, headers and body.
struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON answer")
    }
}

async fn send<B>(ui: &TraceUi, request: Request<B>) -> Answer
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let response = ui.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("a full body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

async fn get(ui: &TraceUi, path: &str) -> Answer {
    let request = Request::get(path).body(Full::new(Bytes::new())).unwrap();
    send(ui, request).await
}

async fn post(ui: &TraceUi, path: &str, body: impl Into<Bytes>) -> Answer {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.into()))
        .unwrap();
    send(ui, request).await
}

async fn post_json(ui: &TraceUi, path: &str, value: &Value) -> Answer {
    post(ui, path, value.to_string()).await
}

#[tokio::test]
async fn lists_the_trace_ids_of_the_fixture_logs() {
    let ui = TraceUi::new();
    for (log, expected) in [
        ("two_hops.log.jsonl", json!(["t-demo-1", "t-other"])),
        ("reference_server.log.jsonl", json!(["trace-abc"])),
    ] {
        let answer = post_json(&ui, "/api/traces/list", &json!({"log_lines": fixture(log)})).await;
        assert_eq!(answer.status, StatusCode::OK, "{log}");
        assert_eq!(answer.json(), json!({ "trace_ids": expected }), "{log}");
    }
    let empty = post_json(&ui, "/api/traces/list", &json!({"log_lines": "no JSON\n"})).await;
    assert_eq!(empty.json(), json!({"trace_ids": []}));
}

/// The reference members of each hop (`sender`, `recipient`, `duration_ms`), without the
/// extensions.
fn reference_members(hops: &Value) -> Value {
    let hops = hops.as_array().expect("hops").iter().map(|hop| {
        json!({
            "sender": hop["sender"],
            "recipient": hop["recipient"],
            "duration_ms": hop["duration_ms"],
        })
    });
    Value::Array(hops.collect())
}

#[tokio::test]
async fn visualizes_the_two_hop_fixture_as_asap_trace_does() {
    let log = fixture("two_hops.log.jsonl");
    let body = json!({"log_lines": log, "trace_id": "t-demo-1"});
    let answer = post_json(&TraceUi::new(), "/api/traces/visualize", &body).await;
    assert_eq!(answer.status, StatusCode::OK);
    let value = answer.json();
    // `asap trace t-demo-1 -o json` prints two_hops.expected.json (tests/trace.rs of asap-cli).
    let expected: Value = serde_json::from_str(&fixture("two_hops.expected.json")).unwrap();
    assert_eq!(value["trace_id"], "t-demo-1");
    assert_eq!(reference_members(&value["hops"]), expected["hops"]);
    assert_eq!(
        value["diagram"],
        fixture("two_hops.expected.ascii.txt").trim_end()
    );
    // The extensions: when each hop started, and how long after the first.
    let hops = value["hops"].as_array().unwrap();
    assert_eq!(hops[0]["started_at"], "2026-01-01T12:00:00.000000Z");
    assert_eq!(hops[1]["started_at"], "2026-01-01T12:00:01.000000Z");
    assert_eq!(hops[0]["offset_ms"], json!(0.0));
    assert_eq!(hops[1]["offset_ms"], json!(1000.0));
    let members: Vec<_> = hops[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        members,
        [
            "sender",
            "recipient",
            "duration_ms",
            "started_at",
            "offset_ms"
        ]
    );
}

#[tokio::test]
async fn every_fixture_gives_the_hops_of_render_json() {
    for (log, trace_id) in [
        ("two_hops.log.jsonl", "t-demo-1"),
        ("two_hops.log.jsonl", "t-other"),
        ("reference_server.log.jsonl", "trace-abc"),
    ] {
        let log = fixture(log);
        let mut collector = TraceCollector::new(trace_id);
        collector.push_log(log.as_bytes());
        let cli: Value = serde_json::from_str(&render_json(&collector.trace())).unwrap();
        let body = json!({"log_lines": log, "trace_id": trace_id});
        let answer = post_json(&TraceUi::new(), "/api/traces/visualize", &body).await;
        assert_eq!(answer.status, StatusCode::OK, "{trace_id}");
        assert_eq!(
            reference_members(&answer.json()["hops"]),
            cli["hops"],
            "{trace_id}"
        );
    }
}

#[tokio::test]
async fn unknown_duration_and_padded_trace_id() {
    let log = fixture("reference_server.log.jsonl");
    let body = json!({"log_lines": log, "trace_id": "  trace-abc\t"});
    let value = post_json(&TraceUi::new(), "/api/traces/visualize", &body)
        .await
        .json();
    // Looked up without the white space, echoed as sent.
    assert_eq!(value["trace_id"], "  trace-abc\t");
    assert_eq!(value["diagram"], "client -> echo (?)");
    assert_eq!(value["hops"][0]["duration_ms"], Value::Null);
    assert_eq!(value["hops"][0]["offset_ms"], json!(0.0));
}

#[tokio::test]
async fn the_page_is_self_contained() {
    let answer = get(&TraceUi::new(), "/").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let policy = answer.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    let page = String::from_utf8(answer.body.to_vec()).unwrap();
    for id in [
        "log-lines",
        "log-file",
        "trace-list",
        "waterfall",
        "diagram",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    for external in ["http://", "https://", "src=", "<link"] {
        assert!(!page.contains(external), "{external}");
    }
}

#[tokio::test]
async fn the_preloaded_log_and_trace() {
    let none = get(&TraceUi::new(), "/api/log").await;
    assert_eq!(none.json(), json!({"log_lines": null, "trace_id": null}));
    let log = fixture("two_hops.log.jsonl");
    let ui = TraceUi::new().with_log(log.clone()).with_trace("t-demo-1");
    let answer = get(&ui, "/api/log").await;
    assert_eq!(
        answer.json(),
        json!({"log_lines": log, "trace_id": "t-demo-1"})
    );
    // The limit grows to take the preloaded log back, JSON-escaped.
    let quotes = "\"".repeat(2 * 1024 * 1024);
    assert!(TraceUi::new().with_log(quotes).body_limit() > 4 * 1024 * 1024);
}

#[tokio::test]
async fn answers_under_its_base_path() {
    let ui = TraceUi::new().with_base("/asap/traces/");
    assert_eq!(ui.base(), "/asap/traces");
    assert_eq!(TraceUi::new().with_base("x").base(), "/x");
    assert_eq!(TraceUi::new().with_base("/").base(), "/");

    assert_eq!(get(&ui, "/asap/traces/").await.status, StatusCode::OK);
    let redirect = get(&ui, "/asap/traces?x=1").await;
    assert_eq!(redirect.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect.headers[header::LOCATION], "traces/?x=1");
    let body = json!({"log_lines": fixture("two_hops.log.jsonl")});
    let list = post_json(&ui, "/asap/traces/api/traces/list", &body).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["trace_ids"][0], "t-demo-1");
    assert_eq!(
        get(&ui, "/asap/traces/api/log").await.status,
        StatusCode::OK
    );
    for path in ["/", "/api/log", "/asap", "/asap/tracesX", "/asap/tracesX/"] {
        assert_eq!(get(&ui, path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let outside = post_json(&ui, "/api/traces/list", &body).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
}
