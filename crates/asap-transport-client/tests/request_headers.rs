//! The headers of an `asap.send` request (PROTOCOL §9.1) and the bearer token.

mod common;

use asap_transport_client::AsapClient;
use common::{Reply, ScriptedServer, small_envelope};

#[tokio::test]
async fn reference_client_headers_and_bearer_token() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    let client = AsapClient::builder(server.url())
        .bearer_token("tok-123")
        .build()
        .unwrap();
    client.send(small_envelope()).await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/asap");
    assert_eq!(request.header("authorization"), Some("Bearer tok-123"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("accept-encoding"),
        Some(common::client_accept_encoding())
    );
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("asap-rs/")
    );
    let call = request.json();
    assert_eq!(call["jsonrpc"], "2.0");
    assert_eq!(call["method"], "asap.send");
    assert_eq!(call["id"], "req-1");
    assert_eq!(
        call["params"]["idempotency_key"].as_str(),
        request.header("x-idempotency-key")
    );
    assert!(
        !format!("{client:?}").contains("tok-123"),
        "token kept out of Debug"
    );
}

#[tokio::test]
async fn no_authorization_without_a_token() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    AsapClient::builder(format!("{}/", server.url()))
        .build()
        .unwrap()
        .send(small_envelope())
        .await
        .unwrap();
    assert_eq!(server.requests()[0].header("authorization"), None);
    assert_eq!(server.requests()[0].path, "/asap", "trailing / removed");
}

#[tokio::test]
async fn base_url_prefix_is_kept() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    AsapClient::builder(format!("{}/agents/echo/", server.url()))
        .build()
        .unwrap()
        .send(small_envelope())
        .await
        .unwrap();
    assert_eq!(server.requests()[0].path, "/agents/echo/asap");
}
