//! The errors of the web view's API: 404, 405, 413 (the log and the body) and 422.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use asap_observability::trace_view::web::{DEFAULT_BODY_LIMIT, MAX_LOG_CHARS, TraceUi};
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body::{Body, Frame};
use http_body_util::Full;
use serde_json::{Value, json};

use super::{fixture, get, post, post_json, send};

#[tokio::test]
async fn a_missing_trace_is_404_with_the_reference_detail() {
    let body = json!({"log_lines": fixture("two_hops.log.jsonl"), "trace_id": "t-nope"});
    let answer = post_json(&TraceUi::new(), "/api/traces/visualize", &body).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        json!({"detail": "No trace found for: t-nope"})
    );
}

#[tokio::test]
async fn log_lines_longer_than_the_limit_are_413() {
    let ui = TraceUi::new().with_body_limit(4 * MAX_LOG_CHARS);
    // Characters are counted, not bytes: 2 MiB of 'é' is 4 MiB of UTF-8, and still fits.
    for (text, status) in [
        ("a".repeat(MAX_LOG_CHARS), StatusCode::OK),
        ("é".repeat(MAX_LOG_CHARS), StatusCode::OK),
        ("a".repeat(MAX_LOG_CHARS + 1), StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let answer = post_json(&ui, "/api/traces/list", &json!({"log_lines": text})).await;
        assert_eq!(answer.status, status);
    }
    let long = json!({"log_lines": "a".repeat(MAX_LOG_CHARS + 1), "trace_id": "t"});
    let answer = post_json(&TraceUi::new(), "/api/traces/visualize", &long).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        answer.json()["detail"]
            .as_str()
            .unwrap()
            .contains("2097152")
    );
}

/// A body that never ends, counting the chunks it was asked for.
struct Endless(Arc<AtomicUsize>);

static CHUNK: [u8; 64 * 1024] = [b' '; 64 * 1024];

impl Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&CHUNK)))))
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_before_more_is_read() {
    let ui = TraceUi::new();
    assert_eq!(ui.body_limit(), DEFAULT_BODY_LIMIT);
    let polled = Arc::new(AtomicUsize::new(0));
    let request = Request::post("/api/traces/list")
        .body(Endless(Arc::clone(&polled)))
        .unwrap();
    let answer = send(&ui, request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        polled.load(Ordering::Relaxed),
        DEFAULT_BODY_LIMIT / CHUNK.len() + 1
    );

    // A declared length over the limit: refused without reading anything.
    let polled = Arc::new(AtomicUsize::new(0));
    let request = Request::post("/api/traces/visualize")
        .header(header::CONTENT_LENGTH, (DEFAULT_BODY_LIMIT + 1).to_string())
        .body(Endless(Arc::clone(&polled)))
        .unwrap();
    let answer = send(&ui, request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(polled.load(Ordering::Relaxed), 0);
    assert!(answer.json()["detail"].is_string());
}

#[tokio::test]
async fn malformed_bodies_are_422_with_a_detail() {
    let ui = TraceUi::new();
    let cases: [(&str, &str, Value); 7] = [
        ("/api/traces/list", "", json!(["body"])),
        ("/api/traces/list", "{not json", json!(["body"])),
        ("/api/traces/list", "[1, 2]", json!(["body"])),
        ("/api/traces/list", "{}", json!(["body", "log_lines"])),
        (
            "/api/traces/list",
            r#"{"log_lines": 7}"#,
            json!(["body", "log_lines"]),
        ),
        (
            "/api/traces/visualize",
            r#"{"log_lines": ""}"#,
            json!(["body", "trace_id"]),
        ),
        ("/api/traces/visualize", "\u{0}\u{ff}", json!(["body"])),
    ];
    for (path, body, loc) in cases {
        let answer = post(&ui, path, body.to_owned()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
        let detail = &answer.json()["detail"];
        assert_eq!(detail[0]["loc"], loc, "{body:?}");
        assert!(detail[0]["msg"].is_string(), "{body:?}");
    }
    // Every wrong member is named.
    let answer = post(&ui, "/api/traces/visualize", r#"{"trace_id": null}"#).await;
    assert_eq!(answer.json()["detail"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn wrong_methods_are_405_and_unknown_paths_404() {
    let ui = TraceUi::new();
    let answer = get(&ui, "/api/traces/list").await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers[header::ALLOW], "POST");
    assert_eq!(answer.json(), json!({"detail": "Method Not Allowed"}));
    for path in ["/", "/api/log"] {
        let answer = post(&ui, path, "{}").await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(answer.headers[header::ALLOW], "GET, HEAD", "{path}");
    }
    let request = Request::builder()
        .method(Method::DELETE)
        .uri("/api/traces/visualize")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(
        send(&ui, request).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    for path in [
        "/nope",
        "/api",
        "/api/traces",
        "/api/traces/list/x",
        "/index.html",
    ] {
        let answer = get(&ui, path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.json(), json!({"detail": "Not Found"}), "{path}");
    }
}
