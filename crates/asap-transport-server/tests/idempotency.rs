//! Idempotent sends over the real HTTP server, with the in-memory idempotency store: one run
//! per sender and key, replays under the retry's own JSON-RPC id, refusals, release on panic,
//! takeover after a crashed run's lease, and the counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use asap_codec::rpc::RpcError;
use asap_codec::rpc::decode_request;
use asap_state::memory::MemoryIdempotencyStore;
use asap_state::{Begin, IdempotencyKey, IdempotencyStore};
use asap_testing::TestAgent;
use asap_testing::fixtures::task_request;
use asap_testing::handlers::Gate;
use asap_testing::{HttpReply, TestClient};
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::idempotency::{
    CountersSnapshot, IdempotencyConfig, IdempotencyCounters, KEY_CONFLICT, KEY_REUSED,
    MISMATCH_CODE, STILL_IN_PROGRESS, fingerprint,
};
use asap_transport_server::{
    AsapRequest, AsapServer, Handler, HandlerError, ServerConfig, handler_fn,
};
use http::StatusCode;
use serde_json::{Value, json};

const AGENT: &str = "urn:asap:agent:default-server";
const ALICE: &str = "urn:asap:agent:alice";
const BOB: &str = "urn:asap:agent:bob";

/// A server whose `task.request` handler counts its runs and, by `input.mode`, echoes
/// (`echo`), panics on its first run (`panic_once`), waits for `gate` (`gate`) or refuses
/// with a `-32602` of its own (`refuse`).
struct Agent {
    agent: TestAgent,
    runs: Arc<AtomicUsize>,
    counters: Arc<IdempotencyCounters>,
    gate: Gate,
    client: TestClient,
}

async fn agent(config: IdempotencyConfig) -> Agent {
    agent_with(Arc::new(MemoryIdempotencyStore::new()), config).await
}

async fn agent_with(store: Arc<dyn IdempotencyStore>, config: IdempotencyConfig) -> Agent {
    agent_on(
        store,
        config,
        ServerConfig::builder().rate_limit(None).build(),
    )
    .await
}

async fn agent_on(
    store: Arc<dyn IdempotencyStore>,
    config: IdempotencyConfig,
    server: ServerConfig,
) -> Agent {
    let manifest = demo_manifest("http://127.0.0.1/asap");
    let echo = Arc::new(EchoHandler::new(manifest.id.clone()));
    let runs = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let (counted, waiting) = (runs.clone(), gate.clone());
    let handler = handler_fn(move |request: AsapRequest| {
        let (echo, runs, gate) = (echo.clone(), counted.clone(), waiting.clone());
        async move {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            match mode(&request) {
                "panic_once" if run == 0 => panic!("first run fails"),
                "gate" => gate.wait_async().await,
                "refuse" => {
                    return Err(HandlerError::Rpc(RpcError::new(
                        -32602,
                        json!({"error": "refused by the handler"}),
                    )));
                }
                _ => {}
            }
            echo.call(request).await
        }
    });
    let server = AsapServer::builder(manifest)
        .config(server)
        .handler("task.request", handler)
        .idempotency(store, config)
        .build()
        .expect("builds");
    let counters = server.idempotency_counters().expect("idempotency is on");
    Agent {
        agent: TestAgent::serve(server).await,
        runs,
        counters,
        gate,
        client: TestClient::new(),
    }
}

fn mode(request: &AsapRequest) -> &str {
    let input = match &request.envelope.payload {
        asap_model::Payload::TaskRequest(task) => Some(&task.input),
        asap_model::Payload::Raw(raw) => raw.get("input").and_then(Value::as_object),
        _ => None,
    };
    input
        .and_then(|input| input.get("mode"))
        .and_then(Value::as_str)
        .unwrap_or("echo")
}

fn body(sender: &str, mode: &str, id: &str, key: Option<&str>) -> Value {
    let mut params = json!({"envelope": task_request(sender, AGENT, json!({"mode": mode}))});
    if let Some(key) = key {
        params["idempotency_key"] = json!(key);
    }
    json!({"jsonrpc": "2.0", "method": "asap.send", "params": params, "id": id})
}

impl Agent {
    async fn send(&self, body: &Value, header: Option<&str>) -> HttpReply {
        let headers: Vec<(&str, &str)> = header
            .map(|key| vec![("x-idempotency-key", key)])
            .unwrap_or_default();
        self.client
            .post_json(&self.agent.url("/asap"), body, &headers)
            .await
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    fn counters(&self) -> CountersSnapshot {
        self.counters.snapshot()
    }

    /// Waits (bounded) until `done` holds for the counters.
    async fn until(&self, what: &str, done: impl Fn(&CountersSnapshot) -> bool) {
        for _ in 0..2000 {
            if done(&self.counters()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("never reached: {what} ({:?})", self.counters());
    }
}

/// The response envelope without the trace fields, which each request gets its own of.
fn success(reply: &HttpReply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let mut envelope = reply.envelope().clone();
    assert!(envelope.is_object(), "{}", reply.text());
    envelope["trace_id"] = Value::Null;
    envelope["extensions"] = Value::Null;
    envelope
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_twice_runs_once_and_replays_under_the_new_id() {
    let agent = agent(IdempotencyConfig::default()).await;
    let first = agent
        .send(&body(ALICE, "echo", "req-1", Some("k-1")), None)
        .await;
    let second = agent
        .send(&body(ALICE, "echo", "req-2", Some("k-1")), None)
        .await;
    assert_eq!(agent.runs(), 1);
    // The echo handler makes a new task id per run: equal envelopes mean a replay.
    assert_eq!(success(&first), success(&second));
    assert_eq!(first.json["id"], "req-1");
    assert_eq!(second.json["id"], "req-2");
    let counters = agent.counters();
    assert_eq!(
        (counters.runs, counters.replays, counters.mismatches),
        (1, 1, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_duplicates_run_once_and_share_the_result() {
    let agent = Arc::new(agent(IdempotencyConfig::default()).await);
    let mut sends = Vec::new();
    for n in 0..20 {
        let agent = agent.clone();
        sends.push(tokio::spawn(async move {
            let id = format!("req-{n}");
            agent
                .send(&body(ALICE, "gate", &id, Some("k-many")), None)
                .await
        }));
    }
    // One request is in the handler; the 19 others found the key in progress.
    agent.gate.entered(1).await;
    agent.until("19 waiters", |c| c.waits >= 19).await;
    agent.gate.open();
    let mut envelopes = Vec::new();
    for (n, send) in sends.into_iter().enumerate() {
        let reply = send.await.expect("send task");
        assert_eq!(reply.json["id"], format!("req-{n}"));
        envelopes.push(success(&reply));
    }
    assert_eq!(agent.runs(), 1);
    assert!(envelopes.iter().all(|e| *e == envelopes[0]));
    let counters = agent.counters();
    assert_eq!(
        (counters.runs, counters.waits, counters.replays),
        (1, 19, 19)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_for_another_request_is_refused() {
    let agent = agent(IdempotencyConfig::default()).await;
    success(
        &agent
            .send(&body(ALICE, "echo", "req-1", Some("k-2")), None)
            .await,
    );
    let other = agent
        .send(&body(ALICE, "other", "req-2", Some("k-2")), None)
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.rpc_code(), -32602);
    assert_eq!(other.rpc_error()["data"]["error"], KEY_REUSED);
    assert_eq!(other.rpc_error()["data"]["code"], MISMATCH_CODE);
    assert_eq!(other.json["id"], "req-2");
    assert_eq!(agent.runs(), 1);
    assert_eq!(agent.counters().mismatches, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_scoped_by_sender() {
    let agent = agent(IdempotencyConfig::default()).await;
    let alice = agent
        .send(&body(ALICE, "echo", "req-1", Some("k-3")), None)
        .await;
    let bob = agent
        .send(&body(BOB, "echo", "req-1", Some("k-3")), None)
        .await;
    assert_ne!(success(&alice), success(&bob));
    assert_eq!(agent.runs(), 2);
    assert_eq!(agent.counters().runs, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_comes_from_the_header_or_params_and_both_must_agree() {
    let agent = agent(IdempotencyConfig::default()).await;
    // Header only, then params only: one key, one record.
    let by_header = agent
        .send(&body(ALICE, "echo", "req-1", None), Some("k-4"))
        .await;
    let by_params = agent
        .send(&body(ALICE, "echo", "req-2", Some("k-4")), None)
        .await;
    let both = agent
        .send(&body(ALICE, "echo", "req-3", Some("k-4")), Some("k-4"))
        .await;
    assert_eq!(success(&by_header), success(&by_params));
    assert_eq!(success(&by_header), success(&both));
    assert_eq!(agent.runs(), 1);
    // Two different keys in one request.
    let conflict = agent
        .send(&body(ALICE, "echo", "req-4", Some("k-4")), Some("k-5"))
        .await;
    assert_eq!(conflict.rpc_code(), -32602);
    assert_eq!(conflict.rpc_error()["data"]["error"], KEY_CONFLICT);
    assert_eq!(agent.runs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_run_releases_the_key_and_the_retry_runs() {
    let agent = agent(IdempotencyConfig::default()).await;
    let first = agent
        .send(&body(ALICE, "panic_once", "req-1", Some("k-6")), None)
        .await;
    assert_eq!(first.rpc_code(), -32603);
    let retry = agent
        .send(&body(ALICE, "panic_once", "req-2", Some("k-6")), None)
        .await;
    success(&retry);
    let again = agent
        .send(&body(ALICE, "panic_once", "req-3", Some("k-6")), None)
        .await;
    assert_eq!(success(&retry), success(&again));
    assert_eq!(agent.runs(), 2);
    let counters = agent.counters();
    assert_eq!(
        (counters.runs, counters.releases, counters.replays),
        (2, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protocol_error_of_the_handler_is_stored_and_replayed() {
    let agent = agent(IdempotencyConfig::default()).await;
    let first = agent
        .send(&body(ALICE, "refuse", "req-1", Some("k-7")), None)
        .await;
    let second = agent
        .send(&body(ALICE, "refuse", "req-2", Some("k-7")), None)
        .await;
    assert_eq!(first.rpc_code(), -32602);
    assert_eq!(first.rpc_error(), second.rpc_error());
    assert_eq!(second.json["id"], "req-2");
    assert_eq!(agent.runs(), 1);
    assert_eq!(agent.counters().replays, 1);
}

/// Claims the key of `body` in `store` the way the server does, and never completes it.
async fn crashed_run(store: &MemoryIdempotencyStore, body: &Value, lease: Duration) {
    let call = decode_request(&serde_json::to_vec(body).unwrap()).expect("decodes");
    let envelope = call.envelope.expect("valid envelope");
    let key = IdempotencyKey {
        sender: envelope.sender.to_string(),
        key: body["params"]["idempotency_key"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let begun = store
        .begin(
            &key,
            &fingerprint(&envelope),
            lease,
            Duration::from_secs(600),
        )
        .await
        .expect("begin");
    assert_eq!(begun, Begin::Started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_run_blocks_its_key_until_the_lease_runs_out() {
    let store = Arc::new(MemoryIdempotencyStore::new());
    let config = IdempotencyConfig::default().with_wait(Duration::from_millis(100));
    let agent = agent_with(store.clone(), config).await;
    let request = body(ALICE, "echo", "req-1", Some("k-8"));

    // A live lease: the duplicate waits, then gets a retryable 503.
    crashed_run(&store, &request, Duration::from_secs(3600)).await;
    let blocked = agent.send(&request, None).await;
    assert_eq!(
        blocked.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        blocked.text()
    );
    assert_eq!(blocked.json["detail"], STILL_IN_PROGRESS);
    assert_eq!(agent.runs(), 0);

    // A lease that ran out: the retry takes the key over and runs.
    let request = body(ALICE, "echo", "req-2", Some("k-9"));
    crashed_run(&store, &request, Duration::from_millis(1)).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    success(&agent.send(&request, None).await);
    assert_eq!(agent.runs(), 1);
    let counters = agent.counters();
    assert_eq!((counters.runs, counters.waits), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_key_always_run() {
    let agent = agent(IdempotencyConfig::default()).await;
    for n in 0..3 {
        success(
            &agent
                .send(&body(ALICE, "echo", &format!("req-{n}"), None), None)
                .await,
        );
    }
    assert_eq!(agent.runs(), 3);
    assert_eq!(agent.counters(), CountersSnapshot::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_records_are_purged_and_the_key_runs_again() {
    let config = IdempotencyConfig::default()
        .with_ttl(Duration::from_millis(30))
        .with_purge(Duration::from_millis(20), 10);
    let agent = agent(config).await;
    success(
        &agent
            .send(&body(ALICE, "echo", "req-1", Some("k-10")), None)
            .await,
    );
    agent.until("one record purged", |c| c.purged >= 1).await;
    success(
        &agent
            .send(&body(ALICE, "echo", "req-2", Some("k-10")), None)
            .await,
    );
    assert_eq!(agent.runs(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_store_keyed_requests_are_not_affected() {
    let manifest = demo_manifest("http://127.0.0.1/asap");
    let server = AsapServer::builder(manifest.clone())
        .config(ServerConfig::builder().rate_limit(None).build())
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
        .build()
        .expect("builds");
    assert!(server.idempotency_counters().is_none());
    let agent = TestAgent::serve(server).await;
    let client = TestClient::new();
    let url = agent.url("/asap");
    let request = body(ALICE, "echo", "req-1", Some("k-11"));
    let first = client
        .post_json(&url, &request, &[("x-idempotency-key", "k-11")])
        .await;
    let second = client
        .post_json(&url, &request, &[("x-idempotency-key", "other")])
        .await;
    // Two runs (two task ids), and the differing header is ignored.
    assert_ne!(success(&first), success(&second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_required_nonces_an_identical_resend_is_replayed_not_refused() {
    let agent = agent_on(
        Arc::new(MemoryIdempotencyStore::new()),
        IdempotencyConfig::default(),
        ServerConfig::builder()
            .rate_limit(None)
            .require_nonce(true)
            .build(),
    )
    .await;
    let with_nonce = |key: &str, id: &str| {
        let mut body = body(ALICE, "echo", id, Some(key));
        body["params"]["envelope"]["extensions"] = json!({"nonce": "nonce-resent"});
        body
    };
    let first = agent.send(&with_nonce("k-nonce", "r1"), None).await;
    let retry = agent.send(&with_nonce("k-nonce", "r2"), None).await;
    // The stored envelope (its trace ids are those of the request that carries it).
    for member in ["id", "payload", "timestamp"] {
        assert_eq!(
            first.json["result"]["envelope"][member], retry.json["result"]["envelope"][member],
            "the retry gets the first response: {}",
            retry.json
        );
    }
    assert_eq!(retry.json["id"], "r2");
    assert_eq!(agent.runs(), 1);
    // A fresh key does not make a seen nonce new.
    let fresh = agent.send(&with_nonce("k-other", "r3"), None).await;
    assert_eq!(
        fresh.json["error"]["data"]["code"], "asap:protocol/invalid_nonce",
        "{}",
        fresh.json
    );
    assert_eq!(agent.runs(), 1);
}
