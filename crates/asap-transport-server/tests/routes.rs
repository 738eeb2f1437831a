//! The HTTP surface other than the JSON-RPC semantics (PROTOCOL §10.1): health and readiness,
//! the agent health document, manifest caching headers and conditional requests, `HEAD` on
//! every `GET` route (the reference answers 405, I-14), 404 and 405 bodies, and the metrics
//! path of a server without metrics.

use std::convert::Infallible;

use asap_testing::fixtures::echo_agent_manifest;
use asap_testing::{HttpReply, TestAgent, TestClient};
use asap_transport_server::echo::EchoHandler;
use asap_transport_server::routes::manifest::MANIFEST_CACHE_CONTROL;
use asap_transport_server::{AsapServer, ServerConfig};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tower::ServiceExt;

const MANIFEST: &str = "/.well-known/asap/manifest.json";
const GET_ROUTES: [&str; 4] = ["/health", "/ready", "/.well-known/asap/health", MANIFEST];

async fn echo_agent() -> TestAgent {
    let manifest = echo_agent_manifest();
    let echo = EchoHandler::new(manifest.id.clone());
    TestAgent::start(
        AsapServer::builder(manifest)
            .config(ServerConfig::builder().rate_limit(None).build())
            .handler("task.request", echo),
    )
    .await
}

fn assert_json(reply: &HttpReply, status: u16, body: Value) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.content_type(), Some("application/json"));
    assert_eq!(reply.json, body);
}

#[tokio::test]
async fn health_and_ready_answer_ok_while_serving() {
    let agent = echo_agent().await;
    let client = TestClient::new();
    assert_json(
        &client.get(&agent.url("/health")).await,
        200,
        json!({"status": "ok"}),
    );
    assert_json(
        &client.get(&agent.url("/ready")).await,
        200,
        json!({"status": "ok"}),
    );
    // The query string does not change the route.
    assert_json(
        &client.get(&agent.url("/health?probe=1")).await,
        200,
        json!({"status": "ok"}),
    );
    agent.shutdown().await;
}

/// A service that is not being served (not bound yet) is alive but not ready.
#[tokio::test]
async fn ready_is_503_until_the_server_listens() {
    let manifest = echo_agent_manifest();
    let server = AsapServer::builder(manifest).build().unwrap();
    let get = |path: &'static str| {
        let service = server.service();
        async move {
            let request = Request::get(path).body(Full::<Bytes>::default()).unwrap();
            let response = service
                .oneshot(request)
                .await
                .unwrap_or_else(|e: Infallible| match e {});
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };
    assert_eq!(
        get("/health").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        get("/ready").await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "not_ready"})
        )
    );
    // Once served, the same server is ready.
    let agent = TestAgent::serve(server).await;
    let reply = TestClient::new().get(&agent.url("/ready")).await;
    assert_json(&reply, 200, json!({"status": "ok"}));
    agent.shutdown().await;
}

#[tokio::test]
async fn agent_health_document_has_its_fields() {
    let agent = echo_agent().await;
    let reply = TestClient::new()
        .get(&agent.url("/.well-known/asap/health"))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), Some("application/json"));
    let body = reply.json.as_object().expect("an object");
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["agent_id", "status", "uptime_seconds", "version"]);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["agent_id"], "urn:asap:agent:echo-agent");
    assert_eq!(body["version"], "1.0.0");
    let uptime = body["uptime_seconds"].as_f64().expect("a number");
    assert!((0.0..60.0).contains(&uptime), "uptime {uptime}");
    agent.shutdown().await;
}

#[tokio::test]
async fn manifest_has_etag_cache_control_and_honours_if_none_match() {
    let agent = echo_agent().await;
    let client = TestClient::new();
    let url = agent.url(MANIFEST);
    let reply = client.get(&url).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), Some("application/json"));
    assert_eq!(
        reply.json,
        serde_json::to_value(echo_agent_manifest()).unwrap()
    );
    assert_eq!(reply.header("cache-control"), Some(MANIFEST_CACHE_CONTROL));
    assert_eq!(MANIFEST_CACHE_CONTROL, "public, max-age=300");
    let etag = reply.header("etag").expect("ETag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "{etag}"
    );
    // Stable across requests.
    assert_eq!(client.get(&url).await.header("etag"), Some(etag.as_str()));

    let weak = format!("W/{etag}");
    let listed = format!("\"other\", {etag}");
    for tag in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
        let reply = client.get_with(&url, &[("if-none-match", tag)]).await;
        assert_eq!(reply.status, 304, "If-None-Match: {tag}");
        assert!(reply.body.is_empty(), "304 has no body");
        assert_eq!(reply.header("etag"), Some(etag.as_str()));
        assert_eq!(reply.header("cache-control"), Some(MANIFEST_CACHE_CONTROL));
    }
    let reply = client
        .get_with(&url, &[("if-none-match", "\"stale\"")])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json,
        serde_json::to_value(echo_agent_manifest()).unwrap()
    );

    // Another manifest has another tag.
    let other = TestAgent::echo().await;
    let other_tag = client
        .get(&other.url(MANIFEST))
        .await
        .header("etag")
        .map(str::to_owned);
    assert_ne!(other_tag.as_deref(), Some(etag.as_str()));
    let reply = client
        .get_with(&other.url(MANIFEST), &[("if-none-match", &etag)])
        .await;
    assert_eq!(reply.status, 200);
    other.shutdown().await;
    agent.shutdown().await;
}

#[tokio::test]
async fn head_is_answered_on_every_get_route() {
    let agent = echo_agent().await;
    let client = TestClient::new();
    for path in GET_ROUTES {
        let get = client.get(&agent.url(path)).await;
        let head = client.head(&agent.url(path)).await;
        assert_eq!(head.status, 200, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path} has no body");
        assert_eq!(head.content_type(), Some("application/json"), "HEAD {path}");
        let length: usize = head
            .header("content-length")
            .unwrap_or_else(|| panic!("HEAD {path}: Content-Length"))
            .parse()
            .unwrap();
        if path == "/.well-known/asap/health" {
            // The uptime changes between the two requests; the length stays close.
            assert!(length > 40, "HEAD {path}: {length}");
        } else {
            assert_eq!(
                length,
                get.body.len(),
                "HEAD {path}: Content-Length = GET's body"
            );
        }
    }
    let head = client.head(&agent.url(MANIFEST)).await;
    assert!(head.header("etag").is_some());
    assert_eq!(head.header("cache-control"), Some(MANIFEST_CACHE_CONTROL));
    agent.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_are_404_with_the_reference_body() {
    let agent = echo_agent().await;
    let client = TestClient::new();
    let not_found = json!({"detail": "Not Found"});
    // `/asap/metrics` is served only by a server built with `.metrics(…)` (tests/metrics.rs).
    for path in [
        "/",
        "/nope",
        "/asap/metrics",
        "/docs",
        "/redoc",
        "/openapi.json",
        "/health/",
        "/asap/",
    ] {
        assert_json(&client.get(&agent.url(path)).await, 404, not_found.clone());
    }
    let reply = client.post(&agent.url("/asap/metrics"), "{}", &[]).await;
    assert_json(&reply, 404, not_found);
    agent.shutdown().await;
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let agent = echo_agent().await;
    let client = TestClient::new();
    let not_allowed = json!({"detail": "Method Not Allowed"});
    for method in [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ] {
        let reply = client
            .send(method.clone(), &agent.url("/asap"), &[], Bytes::new())
            .await;
        assert_eq!(reply.status, 405, "{method} /asap");
        assert_eq!(reply.header("allow"), Some("POST"), "{method} /asap");
        if method != Method::HEAD {
            assert_json(&reply, 405, not_allowed.clone());
        }
    }
    for path in GET_ROUTES {
        let reply = client.post(&agent.url(path), "{}", &[]).await;
        assert_json(&reply, 405, not_allowed.clone());
        assert_eq!(reply.header("allow"), Some("GET, HEAD"), "POST {path}");
    }
    agent.shutdown().await;
}

/// The routes answer the same over h2c.
#[tokio::test]
async fn routes_over_h2c() {
    let agent = echo_agent().await;
    let client = TestClient::http2();
    assert_json(
        &client.get(&agent.url("/health")).await,
        200,
        json!({"status": "ok"}),
    );
    assert_json(
        &client.get(&agent.url("/nope")).await,
        404,
        json!({"detail": "Not Found"}),
    );
    let reply = client.get(&agent.url("/asap")).await;
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply = client.get(&agent.url(MANIFEST)).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("etag").is_some());
    agent.shutdown().await;
}
