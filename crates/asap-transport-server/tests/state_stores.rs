//! Stores of `asap-state` wired into the server: a shared nonce store, and `/ready` following
//! a store's reachability.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use asap_state::memory::MemoryNonceStore;
use asap_state::{ErrorKind, Ping, StoreError, StoreFuture};
use asap_testing::fixtures::task_request;
use asap_testing::{TestAgent, TestClient};
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::{AsapServer, AsapServerBuilder, ServerConfig};
use http::StatusCode;
use serde_json::json;

fn builder(config: ServerConfig) -> AsapServerBuilder {
    let manifest = demo_manifest("http://127.0.0.1/asap");
    AsapServer::builder(manifest.clone())
        .config(config)
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_an_asap_state_nonce_store_refuse_each_others_replays() {
    let store: Arc<dyn asap_state::NonceStore> = Arc::new(MemoryNonceStore::new());
    let config = || {
        ServerConfig::builder()
            .rate_limit(None)
            .require_nonce(true)
            .build()
    };
    let one = TestAgent::start(builder(config()).nonce_store(store.clone())).await;
    let two = TestAgent::start(builder(config()).nonce_store(store)).await;
    let client = TestClient::new();
    let mut envelope = task_request("urn:asap:agent:alice", "urn:asap:agent:b", json!({}));
    envelope["extensions"] = json!({"nonce": "n-shared-1"});
    let first = client.send_envelope(&one.base_url(), &envelope).await;
    assert!(first.envelope().is_object(), "{}", first.text());
    let replay = client.send_envelope(&two.base_url(), &envelope).await;
    assert_eq!(replay.rpc_code(), -32602);
    assert_eq!(
        replay.rpc_error()["data"]["code"],
        "asap:protocol/invalid_nonce"
    );
}

/// A store whose reachability the test switches.
#[derive(Default)]
struct Switch(AtomicBool);

impl Ping for Switch {
    fn ping(&self) -> StoreFuture<'_, ()> {
        let up = self.0.load(Ordering::SeqCst);
        Box::pin(async move {
            if up {
                Ok(())
            } else {
                Err(StoreError::new(ErrorKind::Unavailable, "switched off"))
            }
        })
    }
}

async fn until_ready_is(client: &TestClient, agent: &TestAgent, status: StatusCode) {
    // Bounded: a few ping intervals.
    for _ in 0..200 {
        if client.get(&agent.url("/ready")).await.status == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/ready never answered {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_follows_a_ping_store() {
    let switch = Arc::new(Switch::default());
    switch.0.store(true, Ordering::SeqCst);
    let config = ServerConfig::builder().rate_limit(None).build();
    let agent = TestAgent::start(builder(config).ping_store(switch.clone())).await;
    let client = TestClient::new();
    until_ready_is(&client, &agent, StatusCode::OK).await;
    switch.0.store(false, Ordering::SeqCst);
    until_ready_is(&client, &agent, StatusCode::SERVICE_UNAVAILABLE).await;
    // Liveness is not affected.
    assert_eq!(
        client.get(&agent.url("/health")).await.status,
        StatusCode::OK
    );
    switch.0.store(true, Ordering::SeqCst);
    until_ready_is(&client, &agent, StatusCode::OK).await;
}
