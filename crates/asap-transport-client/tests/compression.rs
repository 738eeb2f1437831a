//! Request compression (PROTOCOL §12.4) and transparent response decompression.

mod common;

use asap_testing::TestAgent;
use asap_transport_client::AsapClient;
use common::{Reply, ScriptedServer, echoed, large_envelope, small_envelope};

#[tokio::test]
async fn large_bodies_are_sent_as_brotli() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let envelope = large_envelope();
    let reply = client.send(envelope.clone()).await.unwrap();
    assert_eq!(reply, envelope, "the scripted server echoes the envelope");

    let request = &server.requests()[0];
    assert_eq!(request.header("content-encoding"), Some("br"));
    assert_eq!(
        request.header("accept-encoding"),
        Some(common::client_accept_encoding())
    );
    let decoded = request.decoded.as_ref().expect("valid brotli");
    assert!(decoded.len() >= 1024);
    assert!(request.body.len() < decoded.len(), "sent compressed");
    assert_eq!(
        request.json()["params"]["envelope"]["id"],
        envelope.id.as_str()
    );
}

#[tokio::test]
async fn small_bodies_are_sent_uncompressed() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    client.send(small_envelope()).await.unwrap();
    let request = &server.requests()[0];
    assert!(request.body.len() < 1024);
    assert_eq!(request.header("content-encoding"), None);
    assert_eq!(
        request.header("accept-encoding"),
        Some(common::client_accept_encoding())
    );
    assert_eq!(request.decoded.as_deref(), Some(&request.body[..]));
}

#[tokio::test]
async fn compression_can_be_turned_off_or_retuned() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    let off = AsapClient::builder(server.url())
        .compression(false)
        .build()
        .unwrap();
    off.send(large_envelope()).await.unwrap();
    assert_eq!(server.requests()[0].header("content-encoding"), None);
    assert!(!off.compression_enabled());

    let eager = AsapClient::builder(server.url())
        .compression_threshold(64)
        .build()
        .unwrap();
    eager
        .send(common::envelope(
            serde_json::json!({"text": "x".repeat(200)}),
        ))
        .await
        .unwrap();
    assert_eq!(server.requests()[1].header("content-encoding"), Some("br"));
}

#[tokio::test]
async fn gzip_responses_are_decoded() {
    let server = ScriptedServer::start(vec![Reply::gzip_echo()]).await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let envelope = large_envelope();
    let reply = client.send(envelope.clone()).await.unwrap();
    assert_eq!(reply, envelope);
}

#[tokio::test]
async fn corrupt_or_oversized_responses_are_invalid() {
    let server = ScriptedServer::start(vec![
        Reply::status(200, "not gzip at all").header("content-encoding", "gzip"),
        Reply::gzip_echo(),
    ])
    .await;
    let client = AsapClient::builder(server.url())
        .max_response_size(512)
        .build()
        .unwrap();
    let error = client.send(small_envelope()).await.unwrap_err();
    assert!(
        matches!(
            error,
            asap_transport_client::ClientError::InvalidResponse { .. }
        ),
        "{error:?}"
    );
    let error = client.send(large_envelope()).await.unwrap_err();
    assert!(error.to_string().contains("512"), "{error}");
    assert_eq!(server.request_count(), 2, "not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_server_round_trip_of_a_large_envelope() {
    let agent = TestAgent::echo().await;
    let client = AsapClient::builder(agent.base_url()).build().unwrap();
    let envelope = large_envelope();
    let text = serde_json::to_value(&envelope).unwrap()["payload"]["input"]["text"].clone();
    let reply = client.send(envelope).await.unwrap();
    // The server decodes the brotli request; the echo agent answers with the input, so the
    // reply is large too and the server compresses it (its default above 1 KiB).
    assert_eq!(echoed(&reply)["text"], text);
}
