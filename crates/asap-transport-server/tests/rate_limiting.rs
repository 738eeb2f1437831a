//! Rate limiting layers end to end (PROTOCOL §11.4): 429 response shape, `Retry-After`,
//! per-key independence, for the per-IP HTTP layer and the per-sender envelope layer.

use std::convert::Infallible;
use std::net::SocketAddr;

use asap_model::Envelope;
use asap_transport_server::layers::ratelimit::{
    RateLimitLayer, RateLimitSpec, SenderRateLimitLayer,
};
use asap_transport_server::{AsapRequest, PeerAddr, Rejection, RequestContext, response};
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::{Layer, ServiceExt, service_fn};

fn ten_per_second() -> RateLimitSpec {
    "10/second".parse().unwrap()
}

fn request_from(peer: Option<&str>) -> Request<String> {
    let mut request = Request::post("/asap").body(String::new()).unwrap();
    if let Some(peer) = peer {
        let addr: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(PeerAddr(addr));
    }
    request
}

async fn body_json(response: Response<impl http_body::Body<Error: std::fmt::Debug>>) -> Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// Checks the 429 response and returns its `retry_after`.
async fn assert_rate_limited(
    response: Response<impl http_body::Body<Error: std::fmt::Debug>>,
) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body = body_json(response).await;
    assert_eq!(
        body,
        json!({
            "jsonrpc": "2.0",
            "error": {
                "code": 429,
                "message": "Rate limit exceeded",
                "data": {"retry_after": retry_after, "limit": "10 per 1 second"},
            },
            "id": null,
        })
    );
    retry_after
}

#[tokio::test]
async fn per_ip_limit_answers_429_and_other_ips_pass() {
    let layer = RateLimitLayer::new(&ten_per_second());
    let service = layer.layer(service_fn(|_request: Request<String>| async {
        Ok::<_, Infallible>(response::json(StatusCode::OK, "{}"))
    }));

    for i in 0..10 {
        let response = service
            .clone()
            .oneshot(request_from(Some("192.0.2.1:50000")))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "request {i}");
        assert_eq!(body_json(response).await, json!({}));
    }

    // The 11th request from the same IP (another port: the key is the address only).
    let response = service
        .clone()
        .oneshot(request_from(Some("192.0.2.1:50001")))
        .await
        .unwrap();
    assert_eq!(assert_rate_limited(response).await, 1);

    // Another IP has its own allowance, through another service from the same layer.
    let other = layer.layer(service_fn(|_request: Request<String>| async {
        Ok::<_, Infallible>(response::json(StatusCode::OK, "{}"))
    }));
    let response = other
        .oneshot(request_from(Some("[2001:db8::1]:443")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // The first IP is still refused.
    let response = service
        .oneshot(request_from(Some("192.0.2.1:50000")))
        .await
        .unwrap();
    assert_rate_limited(response).await;
}

#[tokio::test]
async fn requests_without_peer_addr_share_one_key() {
    let service = RateLimitLayer::new(&ten_per_second()).layer(service_fn(
        |_request: Request<String>| async {
            Ok::<_, Infallible>(response::json(StatusCode::OK, "{}"))
        },
    ));
    for _ in 0..10 {
        let response = service.clone().oneshot(request_from(None)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = service.clone().oneshot(request_from(None)).await.unwrap();
    assert_rate_limited(response).await;
    let response = service
        .oneshot(request_from(Some("192.0.2.9:1")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

fn envelope_from(sender: &str) -> AsapRequest {
    let envelope: Envelope = serde_json::from_value(json!({
        "asap_version": "0.1",
        "sender": sender,
        "recipient": "urn:asap:agent:server",
        "payload_type": "task.request",
        "payload": {"conversation_id": "c1", "skill_id": "echo", "input": {}},
    }))
    .unwrap();
    AsapRequest::new(envelope, RequestContext::default())
}

#[tokio::test]
async fn per_sender_limit_refuses_and_other_senders_pass() {
    let service = SenderRateLimitLayer::new(&ten_per_second()).layer(service_fn(
        |request: AsapRequest| async move { Ok::<_, Rejection>(request.envelope) },
    ));

    for i in 0..10 {
        let envelope = service
            .clone()
            .oneshot(envelope_from("urn:asap:agent:alice"))
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(envelope.sender, "urn:asap:agent:alice");
    }

    let rejection = service
        .clone()
        .oneshot(envelope_from("urn:asap:agent:alice"))
        .await
        .unwrap_err();
    let Rejection::RateLimited { retry_after, limit } = &rejection else {
        panic!("expected RateLimited, got {rejection:?}");
    };
    assert_eq!(*retry_after, 1);
    assert_eq!(limit, "10 per 1 second");
    // Turned into a response it is the same 429 as the per-IP layer's.
    assert_rate_limited(rejection.into_response(None)).await;

    let envelope = service
        .clone()
        .oneshot(envelope_from("urn:asap:agent:bob"))
        .await
        .unwrap();
    assert_eq!(envelope.sender, "urn:asap:agent:bob");

    assert!(
        service
            .oneshot(envelope_from("urn:asap:agent:alice"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn default_spec_refuses_the_eleventh_request_per_second() {
    let service = RateLimitLayer::new(&RateLimitSpec::default()).layer(service_fn(
        |_request: Request<String>| async {
            Ok::<_, Infallible>(response::json(StatusCode::OK, "{}"))
        },
    ));
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let response = service
            .clone()
            .oneshot(request_from(Some("198.51.100.4:8000")))
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert!(statuses[..10].iter().all(|s| *s == StatusCode::OK));
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
}
