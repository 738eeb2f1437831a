//! `send_batch` (PROTOCOL §12.6): order, fail-fast vs collect-all, empty input.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use asap_testing::TestAgent;
use asap_testing::handlers::{Gate, scripted_builder};
use asap_transport_client::{AsapClient, BatchMode, ClientError};
use asap_transport_server::ServerConfig;
use common::{Reply, ScriptedServer, echoed, envelope};
use rand::RngExt;
use serde_json::json;

async fn scripted_agent() -> TestAgent {
    let config = ServerConfig::builder().rate_limit(None).build();
    TestAgent::start(scripted_builder(config, &Gate::new())).await
}

fn client(agent: &TestAgent) -> AsapClient {
    AsapClient::builder(agent.base_url())
        .max_retries(1)
        .batch_concurrency(8)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_keep_input_order_despite_random_delays() {
    let agent = scripted_agent().await;
    let mut rng = rand::rng();
    let envelopes: Vec<_> = (0..40)
        .map(|i| envelope(json!({"i": i, "sleep_ms": rng.random_range(0..40)})))
        .collect();
    let ids: Vec<_> = envelopes.iter().map(|e| e.id.clone()).collect();
    let results = tokio::time::timeout(
        Duration::from_secs(30),
        client(&agent).send_batch(envelopes, BatchMode::CollectAll),
    )
    .await
    .expect("bounded")
    .unwrap();
    assert_eq!(results.len(), 40);
    for (i, result) in results.into_iter().enumerate() {
        let reply = result.unwrap();
        assert_eq!(echoed(&reply)["i"], i);
        assert_eq!(reply.correlation_id.as_deref(), Some(ids[i].as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_all_returns_errors_in_place() {
    let agent = scripted_agent().await;
    let envelopes: Vec<_> = (0..10)
        .map(|i| {
            if i % 3 == 1 {
                envelope(json!({"i": i, "fail": "boom"}))
            } else {
                envelope(json!({"i": i, "sleep_ms": 10}))
            }
        })
        .collect();
    let results = client(&agent)
        .send_batch(envelopes, BatchMode::CollectAll)
        .await
        .unwrap();
    for (i, result) in results.iter().enumerate() {
        if i % 3 == 1 {
            let error = result.as_ref().unwrap_err();
            assert_eq!(error.rpc_code(), Some(-32603), "{error:?}");
        } else {
            assert_eq!(echoed(result.as_ref().unwrap())["i"], i);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fast_returns_the_first_error_and_cancels_the_rest() {
    let agent = scripted_agent().await;
    // One quick failure among slow successes: the batch ends long before the slow ones.
    let mut envelopes: Vec<_> = (0..6)
        .map(|i| envelope(json!({"i": i, "sleep_ms": 5_000})))
        .collect();
    envelopes.insert(3, envelope(json!({"fail": "boom"})));
    let started = std::time::Instant::now();
    let error = client(&agent)
        .send_batch(envelopes, BatchMode::FailFast)
        .await
        .unwrap_err();
    assert_eq!(error.rpc_code(), Some(-32603));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "in-flight sends were not awaited"
    );

    let ok = client(&agent)
        .send_all((0..5).map(|i| envelope(json!({"i": i}))).collect())
        .await
        .unwrap();
    assert_eq!(ok.len(), 5);
    assert_eq!(echoed(&ok[4])["i"], 4);
}

#[tokio::test]
async fn empty_batch_is_an_error() {
    let client = AsapClient::builder("http://127.0.0.1:1").build().unwrap();
    for mode in [BatchMode::FailFast, BatchMode::CollectAll] {
        assert_eq!(
            client.send_batch(Vec::new(), mode).await.unwrap_err(),
            ClientError::EmptyBatch
        );
    }
    assert_eq!(
        client.send_all(Vec::new()).await.unwrap_err(),
        ClientError::EmptyBatch
    );
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded() {
    let server = ScriptedServer::start(vec![Reply::echo().delay(Duration::from_millis(100))]).await;
    let client = AsapClient::builder(server.url())
        .batch_concurrency(3)
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let results = client
        .send_batch(
            (0..9).map(|i| envelope(json!({"i": i}))).collect(),
            BatchMode::FailFast,
        )
        .await
        .unwrap();
    assert_eq!(results.len(), 9);
    assert_eq!(start.elapsed(), Duration::from_millis(300), "3 waves of 3");
}

#[tokio::test(start_paused = true)]
async fn each_entry_goes_through_the_retry_algorithm() {
    // Every request fails once with 503, then succeeds on its retry.
    let seen = Mutex::new(HashSet::new());
    let server = ScriptedServer::with_responder(move |request, _| {
        let key = request.idempotency_key().unwrap_or_default();
        if seen.lock().unwrap().insert(key) {
            Reply::status(503, "busy")
        } else {
            Reply::echo()
        }
    })
    .await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let results = client
        .send_batch(
            (0..5).map(|i| envelope(json!({"i": i}))).collect(),
            BatchMode::FailFast,
        )
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok));
    let requests = server.requests();
    assert_eq!(requests.len(), 10);
    let keys: HashSet<_> = requests.iter().map(|r| r.idempotency_key()).collect();
    assert_eq!(keys.len(), 5, "one key per entry, reused by its retry");
}
