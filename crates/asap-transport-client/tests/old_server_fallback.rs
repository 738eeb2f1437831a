//! Old servers (reference 0.1 / 0.5) cannot read compressed bodies and answer them with a
//! JSON-RPC -32700 (PROTOCOL §18). The client resends uncompressed once and stops
//! compressing.

mod common;

use std::time::Duration;

use asap_transport_client::AsapClient;
use common::{Recorded, Reply, ScriptedServer, large_envelope, small_envelope};
use serde_json::json;

/// What a 0.1/0.5 server does: parse the raw bytes as JSON.
fn old_server(request: &Recorded, _: usize) -> Reply {
    if serde_json::from_slice::<serde_json::Value>(&request.body).is_err() {
        Reply::json(
            200,
            json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error",
                   "data": {"error": "Invalid JSON: Expecting value: line 1 column 1 (char 0)"}},
                   "id": null}),
        )
    } else {
        Reply::echo()
    }
}

#[tokio::test(start_paused = true)]
async fn parse_error_to_a_compressed_body_triggers_an_uncompressed_resend() {
    let server = ScriptedServer::with_responder(old_server).await;
    // One attempt only: the resend must not count as a retry.
    let client = AsapClient::builder(server.url())
        .max_retries(1)
        .build()
        .unwrap();
    assert!(client.compression_enabled());
    let envelope = large_envelope();
    let reply = client.send(envelope.clone()).await.unwrap();
    assert_eq!(reply, envelope);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("content-encoding"), Some("br"));
    assert_eq!(requests[1].header("content-encoding"), None);
    assert_eq!(requests[0].idempotency_key(), requests[1].idempotency_key());
    assert_eq!(requests[0].rpc_id(), requests[1].rpc_id());
    assert_eq!(requests[1].at, requests[0].at, "resent at once, no backoff");
    assert_eq!(
        requests[0].decoded,
        Some(requests[1].body.clone()),
        "same request"
    );

    // Remembered: later large requests go uncompressed, in one request.
    assert!(!client.compression_enabled());
    client.send(large_envelope()).await.unwrap();
    client.clone().send(large_envelope()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests[2..]
            .iter()
            .all(|r| r.header("content-encoding").is_none())
    );
}

#[tokio::test(start_paused = true)]
async fn http_415_triggers_the_same_fallback() {
    let server = ScriptedServer::with_responder(|request, _| {
        if request.header("content-encoding").is_some() {
            Reply::json(
                415,
                json!({"detail": "Unsupported Content-Encoding: br. Supported: gzip"}),
            )
        } else {
            Reply::echo()
        }
    })
    .await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    client.send(large_envelope()).await.unwrap();
    assert_eq!(server.request_count(), 2);
    assert!(!client.compression_enabled());
}

#[tokio::test(start_paused = true)]
async fn uncompressed_requests_are_never_resent() {
    // A genuine -32700 to an uncompressed body is a remote error, not a fallback signal.
    let server = ScriptedServer::start(vec![Reply::rpc_error(-32700, "Parse error")]).await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let error = client.send(small_envelope()).await.unwrap_err();
    assert_eq!(error.rpc_code(), Some(-32700));
    assert_eq!(server.request_count(), 1);
    assert!(
        client.compression_enabled(),
        "small bodies say nothing about the server"
    );
}

#[tokio::test(start_paused = true)]
async fn fallback_happens_once_per_send() {
    // A server that rejects everything with -32700: one uncompressed resend, then the
    // error is returned (no loop).
    let server = ScriptedServer::start(vec![Reply::rpc_error(-32700, "Parse error")]).await;
    let client = AsapClient::builder(server.url())
        .base_delay(Duration::from_millis(10))
        .build()
        .unwrap();
    let error = client.send(large_envelope()).await.unwrap_err();
    assert_eq!(error.rpc_code(), Some(-32700));
    assert_eq!(server.request_count(), 2);
}
