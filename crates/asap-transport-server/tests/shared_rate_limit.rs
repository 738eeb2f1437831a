//! Rate limits counted in a shared `RateLimitStore`: two servers on one store share the
//! budget, a refusal is the same 429 as the in-process limiter's, per-sender keys work, and a
//! failing store lets requests through.

use std::sync::Arc;

use asap_state::memory::MemoryRateLimitStore;
use asap_state::{ErrorKind, RateDecision, RateLimitStore, RateQuota, StoreError, StoreFuture};
use asap_testing::fixtures::{rpc_request, task_request};
use asap_testing::{HttpReply, TestAgent, TestClient};
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::ratelimit::RateLimitKey;
use asap_transport_server::{AsapServer, ServerConfig};
use serde_json::json;

const AGENT: &str = "urn:asap:agent:default-server";

async fn agent(spec: &str, key: RateLimitKey, store: Option<Arc<dyn RateLimitStore>>) -> TestAgent {
    let manifest = demo_manifest("http://127.0.0.1/asap");
    let config = ServerConfig::builder()
        .rate_limit(Some(spec.parse().unwrap()))
        .rate_limit_key(key)
        .build();
    let mut builder = AsapServer::builder(manifest.clone())
        .config(config)
        .handler("task.request", EchoHandler::new(manifest.id.clone()));
    if let Some(store) = store {
        builder = builder.rate_limit_store(store);
    }
    TestAgent::serve(builder.build().expect("builds")).await
}

async fn send(agent: &TestAgent, sender: &str) -> HttpReply {
    let body = rpc_request(&task_request(sender, AGENT, json!({})));
    TestClient::new()
        .post_json(&agent.url("/asap"), &body, &[])
        .await
}

#[tokio::test]
async fn two_servers_on_one_store_share_the_budget() {
    let store: Arc<dyn RateLimitStore> = Arc::new(MemoryRateLimitStore::new());
    let a = agent("3/minute", RateLimitKey::PeerIp, Some(store.clone())).await;
    let b = agent("3/minute", RateLimitKey::PeerIp, Some(store)).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let target = if i % 2 == 0 { &a } else { &b };
        statuses.push(send(target, "urn:asap:agent:alice").await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
}

#[tokio::test]
async fn a_shared_refusal_is_the_same_429_as_the_in_process_one() {
    let shared = agent(
        "1/minute",
        RateLimitKey::PeerIp,
        Some(Arc::new(MemoryRateLimitStore::new())),
    )
    .await;
    let local = agent("1/minute", RateLimitKey::PeerIp, None).await;
    for agent in [&shared, &local] {
        assert_eq!(send(agent, "urn:asap:agent:alice").await.status, 200);
    }
    let (a, b) = (
        send(&shared, "urn:asap:agent:alice").await,
        send(&local, "urn:asap:agent:alice").await,
    );
    assert_eq!(a.status, 429);
    assert_eq!(a.status, b.status);
    assert_eq!(a.json, b.json, "same body");
    assert_eq!(a.json["error"]["data"]["limit"], "1 per 1 minute");
    assert_eq!(a.header("retry-after"), b.header("retry-after"));
    assert!(a.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
}

#[tokio::test]
async fn per_sender_budgets_are_separate() {
    let store: Arc<dyn RateLimitStore> = Arc::new(MemoryRateLimitStore::new());
    let agent = agent("1/minute", RateLimitKey::Sender, Some(store)).await;
    assert_eq!(send(&agent, "urn:asap:agent:alice").await.status, 200);
    assert_eq!(send(&agent, "urn:asap:agent:bob").await.status, 200);
    assert_eq!(send(&agent, "urn:asap:agent:alice").await.status, 429);
}

/// A store that is down.
struct Down;

impl RateLimitStore for Down {
    fn check<'a>(&'a self, _key: &'a str, _quota: RateQuota) -> StoreFuture<'a, RateDecision> {
        Box::pin(async { Err(StoreError::new(ErrorKind::Unavailable, "down")) })
    }
}

#[tokio::test]
async fn a_failing_store_lets_requests_through() {
    let agent = agent("1/minute", RateLimitKey::PeerIp, Some(Arc::new(Down))).await;
    for _ in 0..3 {
        let reply = send(&agent, "urn:asap:agent:alice").await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        assert!(reply.json.get("result").is_some());
    }
}
