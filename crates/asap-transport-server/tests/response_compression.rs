//! Large responses are compressed when the client accepts it; small ones and clients that
//! do not ask are left alone.

use asap_codec::compression::{DEFAULT_MAX_REQUEST_SIZE, Encoding, decompress_slice};
use asap_testing::{TestAgent, TestClient, fixtures};
use serde_json::{Value, json};

fn big_request() -> Vec<u8> {
    let text = "lorem ipsum dolor sit amet ".repeat(100);
    let envelope = fixtures::task_request(
        "urn:asap:agent:client",
        "urn:asap:agent:default-server",
        json!({ "text": text }),
    );
    serde_json::to_vec(&fixtures::rpc_request(&envelope)).expect("json")
}

async fn decoded(reply: &asap_testing::HttpReply) -> Value {
    let encoding = match reply
        .headers
        .get("content-encoding")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => Encoding::Identity,
        Some("br") => Encoding::Brotli,
        Some("gzip") => Encoding::Gzip,
        Some(other) => panic!("unexpected encoding {other}"),
    };
    let plain = decompress_slice(encoding, &reply.body, DEFAULT_MAX_REQUEST_SIZE)
        .await
        .expect("decompress");
    serde_json::from_slice(&plain).expect("json")
}

#[tokio::test]
async fn large_responses_follow_accept_encoding() {
    let agent = TestAgent::echo().await;
    let client = TestClient::new();
    let url = agent.url("/asap");
    for (accept, expected) in [
        (Some("br, gzip, identity"), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some("br;q=0.5, gzip"), Some("gzip")),
        (Some("identity"), None),
        (None, None),
    ] {
        let headers: Vec<(&str, &str)> =
            accept.map(|a| ("accept-encoding", a)).into_iter().collect();
        let reply = client.post(&url, big_request(), &headers).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply
                .headers
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            expected,
            "{accept:?}"
        );
        if expected.is_some() {
            assert_eq!(
                reply.headers.get("vary").and_then(|v| v.to_str().ok()),
                Some("accept-encoding")
            );
        }
        let body = decoded(&reply).await;
        let echoed = &body["result"]["envelope"]["payload"]["result"]["echoed"]["text"];
        assert!(
            echoed.as_str().is_some_and(|t| t.len() > 2000),
            "{accept:?}"
        );
    }
    agent.shutdown().await;
}

#[tokio::test]
async fn small_responses_are_not_compressed() {
    let agent = TestAgent::echo().await;
    let reply = TestClient::new()
        .get_with(&agent.url("/health"), &[("accept-encoding", "br, gzip")])
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.headers.get("content-encoding").is_none());
    agent.shutdown().await;
}

#[tokio::test]
async fn compression_can_be_turned_off() {
    let config = asap_transport_server::ServerConfig::builder()
        .rate_limit(None)
        .response_compression(None)
        .build();
    let agent = TestAgent::echo_with(config).await;
    let reply = TestClient::new()
        .post(
            &agent.url("/asap"),
            big_request(),
            &[("accept-encoding", "br, gzip")],
        )
        .await;
    assert!(reply.headers.get("content-encoding").is_none());
    assert!(reply.json["result"]["envelope"].is_object());
    agent.shutdown().await;
}
