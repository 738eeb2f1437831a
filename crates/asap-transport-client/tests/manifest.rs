//! Manifest retrieval through the client's cache (PROTOCOL §12.5): hits, ETag
//! revalidation, failures.

mod common;

use std::time::Duration;

use asap_testing::TestAgent;
use asap_transport_client::{AsapClient, CacheConfig, ClientError};
use common::{Reply, ScriptedServer};
use serde_json::json;

fn manifest_json() -> serde_json::Value {
    json!({
        "id": "urn:asap:agent:scripted", "name": "Scripted", "version": "1.0.0",
        "description": "d", "capabilities": {}, "endpoints": {"asap": "http://127.0.0.1/asap"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_call_is_a_cache_hit() {
    let agent = TestAgent::echo().await;
    let client = AsapClient::builder(agent.base_url()).build().unwrap();
    let first = client.get_manifest().await.unwrap();
    assert_eq!(first.id.as_str(), "urn:asap:agent:default-server");
    let second = client.get_manifest().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    let stats = client.manifest_cache().stats();
    assert_eq!((stats.hits, stats.misses, stats.fetches), (1, 1, 1));
    assert_eq!(client.manifest_cache().hit_rate(), 0.5);

    // Explicit URL: same entry.
    client
        .get_manifest_at(&agent.url("/.well-known/asap/manifest.json"))
        .await
        .unwrap();
    assert_eq!(client.manifest_cache().stats().fetches, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_entries_are_revalidated_with_the_etag() {
    let agent = TestAgent::echo().await;
    let client = AsapClient::builder(agent.base_url())
        .manifest_cache(
            CacheConfig::builder()
                .ttl(Duration::from_millis(100))
                .build(),
        )
        .build()
        .unwrap();
    let first = client.get_manifest().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = client.get_manifest().await.unwrap();
    assert_eq!(first, second);
    let stats = client.manifest_cache().stats();
    assert_eq!(stats.fetches, 2);
    assert_eq!(
        stats.revalidations, 1,
        "the server answered 304 to If-None-Match"
    );
}

#[tokio::test]
async fn conditional_request_carries_the_etag() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, manifest_json()).header("etag", "\"v1\""),
        Reply::status(304, ""),
    ])
    .await;
    let client = AsapClient::builder(server.url())
        .manifest_cache(
            CacheConfig::builder()
                .ttl(Duration::from_millis(50))
                .build(),
        )
        .build()
        .unwrap();
    assert_eq!(client.get_manifest().await.unwrap().name, "Scripted");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(client.get_manifest().await.unwrap().name, "Scripted");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/.well-known/asap/manifest.json");
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
}

#[tokio::test]
async fn failures_are_reported_and_not_cached() {
    let server = ScriptedServer::start(vec![
        Reply::status(404, "{\"detail\":\"Not Found\"}"),
        Reply::status(200, "not json"),
        Reply::json(200, json!({"id": "urn:asap:agent:x"})),
        Reply::json(200, manifest_json()),
    ])
    .await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let error = client.get_manifest().await.unwrap_err();
    assert_eq!(error.status(), Some(404), "{error:?}");
    for _ in 0..2 {
        let error = client.get_manifest().await.unwrap_err();
        assert!(matches!(error, ClientError::Manifest { .. }), "{error:?}");
    }
    client.get_manifest().await.unwrap();
    assert_eq!(
        server.request_count(),
        4,
        "nothing was cached until the valid manifest"
    );
    client.get_manifest().await.unwrap();
    assert_eq!(server.request_count(), 4);
}

#[tokio::test(start_paused = true)]
async fn manifest_timeout_is_capped_and_not_retried() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, manifest_json()).delay(Duration::from_secs(60)),
    ])
    .await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let start = tokio::time::Instant::now();
    let error = client.get_manifest().await.unwrap_err();
    assert_eq!(
        error,
        ClientError::Timeout {
            after: Duration::from_secs(10)
        }
    );
    assert_eq!(start.elapsed(), Duration::from_secs(10), "min(60 s, 10 s)");
    assert_eq!(server.request_count(), 1);
}
