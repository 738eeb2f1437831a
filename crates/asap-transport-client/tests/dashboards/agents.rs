//! Two agents with metrics whose traffic gives every series the dashboards read: the
//! `caller` answers requests of every outcome (handler errors, unknown payload types,
//! refused envelopes, idempotent replays, a compressed request and reply), runs
//! long-running tasks that complete and fail on timed stores whose tasks it counts, and
//! sends with two clients, to the `callee` (manifest cache included) and to a peer that is
//! down (its breaker opens); the `callee` echoes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use asap_model::payload::{TaskCancel, TaskRequest};
use asap_model::{Envelope, TaskId};
use asap_observability::metrics::{Format, Metrics};
use asap_state::Stores;
use asap_state::memory::MemoryIdempotencyStore;
use asap_testing::fixtures::task_request;
use asap_testing::{TestAgent, TestClient};
use asap_transport_client::{AsapClient, BreakerConfig};
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::idempotency::IdempotencyConfig;
use asap_transport_server::long_running::{TaskRun, TaskRuntime, countdown, job_fn};
use asap_transport_server::{AsapRequest, AsapServer, HandlerError, ServerConfig, handler_fn};
use serde_json::{Value, json};

const SENDER: &str = "urn:asap:agent:client";
const AGENT: &str = "urn:asap:agent:default-server";

/// The running agents and the caller's clients.
pub(crate) struct Agents {
    caller: TestAgent,
    callee: TestAgent,
    /// The caller's registry, shared by its server and both clients.
    metrics: Arc<Metrics>,
    http: TestClient,
    to_callee: AsapClient,
    to_down: AsapClient,
    /// The caller's stores, timed into its metrics.
    stores: Stores,
}

/// Reports the caller's store calls to its metrics, as `asap serve` does.
struct StoreMetrics(Arc<Metrics>);

impl asap_state::timed::StoreObserver for StoreMetrics {
    fn on_store_call(&self, call: &asap_state::timed::StoreCall) {
        self.0
            .store_call(call.store, call.operation, call.duration, call.ok);
    }
}

/// A `task.request` for the echo handler.
fn echo_envelope(n: u64) -> Envelope {
    Envelope::new(
        SENDER.parse().unwrap(),
        AGENT.parse().unwrap(),
        TaskRequest {
            conversation_id: "conv_dashboards".into(),
            parent_task_id: None,
            skill_id: "echo".into(),
            input: json!({ "n": n }).as_object().cloned().unwrap_or_default(),
            config: None,
        },
    )
}

/// A 127.0.0.1 address nothing listens on (bound, then released).
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn rpc(envelope: Value, key: Option<&str>) -> Value {
    let mut params = json!({ "envelope": envelope });
    if let Some(key) = key {
        params["idempotency_key"] = json!(key);
    }
    json!({"jsonrpc": "2.0", "method": "asap.send", "params": params, "id": 1})
}

impl Agents {
    pub(crate) async fn start() -> Self {
        let callee_metrics = Arc::new(Metrics::new());
        let manifest = demo_manifest("http://127.0.0.1/asap");
        let callee = TestAgent::start(
            AsapServer::builder(manifest.clone())
                .config(ServerConfig::builder().rate_limit(None).build())
                .handler("task.request", EchoHandler::new(manifest.id.clone()))
                .metrics(callee_metrics),
        )
        .await;

        let metrics = Arc::new(Metrics::new());
        let stores = Stores::memory().timed(Arc::new(StoreMetrics(metrics.clone())));
        let runtime = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
            .job("countdown", countdown())
            .job(
                "broken",
                job_fn(|_run: TaskRun| async move { Err("out of paper".into()) }),
            )
            .build();
        let caller = TestAgent::start(
            AsapServer::builder(manifest.clone())
                .config(ServerConfig::builder().rate_limit(None).build())
                .handler("task.request", EchoHandler::new(manifest.id.clone()))
                .handler(
                    "task.cancel",
                    handler_fn(|_request: AsapRequest| async {
                        Err(HandlerError::internal("nothing to cancel"))
                    }),
                )
                .idempotency(
                    Arc::new(MemoryIdempotencyStore::new()),
                    IdempotencyConfig::default(),
                )
                .task_runtime(runtime)
                .metrics(metrics.clone()),
        )
        .await;

        let to_callee = AsapClient::builder(callee.base_url())
            .circuit_breaker(BreakerConfig {
                threshold: 5,
                timeout: Duration::from_secs(30),
                half_open_max_probes: 1,
            })
            .metrics(metrics.clone())
            .build()
            .unwrap();
        // Opens at the first failed send and stays open for the rest of the test.
        let to_down = AsapClient::builder(format!("http://{}", closed_port()))
            .max_retries(2)
            .base_delay(Duration::from_millis(10))
            .circuit_breaker(BreakerConfig {
                threshold: 1,
                timeout: Duration::from_secs(600),
                half_open_max_probes: 1,
            })
            .metrics(metrics.clone())
            .build()
            .unwrap();
        Self {
            caller,
            callee,
            metrics,
            http: TestClient::new(),
            to_callee,
            to_down,
            stores,
        }
    }

    /// The caller's exposition in the 0.0.4 text format.
    pub(crate) fn exposition(&self) -> String {
        self.metrics.encode(Format::Prometheus)
    }

    async fn post(&self, body: &Value) -> Value {
        self.http
            .post_json(&self.caller.url("/asap"), body, &[])
            .await
            .json
    }

    /// Every kind of request once, and the long-running tasks run to their end.
    pub(crate) async fn traffic(&self) {
        // Server side: successes, a failing handler, an unknown payload type, a refused
        // envelope, a body that is not JSON, and a keyed request sent twice (one run, one
        // replay).
        for n in 0..3 {
            self.steady(n).await;
        }
        let mut cancel = task_request(SENDER, AGENT, json!({}));
        cancel["payload_type"] = json!("task.cancel");
        cancel["payload"] = json!({ "task_id": "task-1" });
        let mut unknown = task_request(SENDER, AGENT, json!({}));
        unknown["payload_type"] = json!("made.up");
        let mut invalid = task_request(SENDER, AGENT, json!({}));
        invalid["sender"] = json!("not a urn");
        for (envelope, code) in [(cancel, -32603), (unknown, -32601), (invalid, -32602)] {
            let reply = self.post(&rpc(envelope, None)).await;
            assert_eq!(reply["error"]["code"], code, "{reply}");
        }
        let reply = self
            .http
            .post(&self.caller.url("/asap"), "{not json", &[])
            .await;
        assert_eq!(reply.rpc_code(), -32700);
        let keyed = rpc(
            task_request(SENDER, AGENT, json!({ "once": true })),
            Some("key-1"),
        );
        for _ in 0..2 {
            let reply = self.post(&keyed).await;
            assert!(reply.get("result").is_some(), "{reply}");
        }

        // Long-running tasks: one completes, one fails.
        let mut started = Vec::new();
        for (skill, input) in [
            ("countdown", json!({ "steps": 1, "step_ms": 1 })),
            ("broken", json!({})),
        ] {
            let mut envelope = task_request(SENDER, AGENT, input);
            envelope["payload"]["skill_id"] = json!(skill);
            let reply = self.post(&rpc(envelope, None)).await;
            let payload = &reply["result"]["envelope"]["payload"];
            assert_eq!(payload["status"], "working", "{reply}");
            started.push(TaskId::new(payload["task_id"].as_str().unwrap()));
        }
        self.until(|text| {
            text.contains(r#"to_status="completed""#) && text.contains(r#"to_status="failed""#)
        })
        .await;
        // A store call that fails (no such task), for the store-failure series.
        let unknown = TaskId::new("task-nowhere");
        let refused = self
            .stores
            .tasks
            .transition(&unknown, asap_model::TaskStatus::Working, None);
        assert!(refused.await.is_err());
        // The stored tasks counted by status, as `asap serve` does every few seconds.
        let counts = self.stores.tasks.count_by_status().await.expect("count");
        for status in asap_model::TaskStatus::ALL {
            let n = counts.iter().find(|(s, _)| *s == status).map_or(0, |c| c.1);
            self.metrics.tasks_in_status(status.as_str(), n);
        }

        // A gzip request answered in gzip.
        let text = "lorem ipsum dolor sit amet ".repeat(100);
        let big = rpc(task_request(SENDER, AGENT, json!({ "text": text })), None);
        let gzipped = asap_testing::fixtures::gzip(big.to_string().as_bytes()).await;
        let reply = self
            .http
            .post(
                &self.caller.url("/asap"),
                gzipped,
                &[("content-encoding", "gzip"), ("accept-encoding", "gzip")],
            )
            .await;
        assert_eq!(reply.header("content-encoding"), Some("gzip"));

        // The callee's manifest: loaded once, then from the cache.
        for _ in 0..2 {
            self.to_callee.get_manifest().await.expect("manifest");
        }

        // Client side: a JSON-RPC error reply from the callee (it has no `task.cancel`
        // handler), then the peer that is down: a failed send with retries opens its
        // breaker, which refuses the next one.
        let cancel = Envelope::new(
            SENDER.parse().unwrap(),
            AGENT.parse().unwrap(),
            TaskCancel {
                task_id: started[0].clone(),
                reason: None,
            },
        );
        let remote = self.to_callee.send(cancel).await.unwrap_err();
        assert_eq!(remote.rpc_code(), Some(-32601), "{remote:?}");
        for _ in 0..2 {
            self.to_down.send(echo_envelope(0)).await.unwrap_err();
        }
        self.until(|text| text.contains(r#"reason="circuit_open""#))
            .await;
    }

    /// One success on each path: a request to the caller and a send to the callee.
    pub(crate) async fn steady(&self, n: u64) {
        let reply = self
            .post(&rpc(task_request(SENDER, AGENT, json!({ "n": n })), None))
            .await;
        assert!(reply.get("result").is_some(), "{reply}");
        self.to_callee
            .send(echo_envelope(n))
            .await
            .expect("the callee answers");
    }

    /// Waits (at most 10 s) until the caller's exposition satisfies `done`.
    async fn until(&self, done: impl Fn(&str) -> bool) {
        for _ in 0..200 {
            if done(&self.exposition()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the exposition never got there:\n{}", self.exposition());
    }

    /// The scrape targets: the caller, then the callee.
    pub(crate) fn targets(&self) -> [SocketAddr; 2] {
        [self.caller.addr(), self.callee.addr()]
    }
}
