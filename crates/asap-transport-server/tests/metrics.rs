//! `GET /asap/metrics` of a server built with `.metrics(…)` (PROTOCOL §14.1): what each
//! kind of request counts, the format negotiation, the idempotency counters, and a real
//! Prometheus server scraping the agent in OpenMetrics.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asap_observability::metrics::{
    Format, Metrics, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE,
};
use asap_testing::TestClient;
use asap_testing::fixtures::{echo_agent_manifest, task_request};
use asap_testing::prometheus::sample;
use asap_transport_server::echo::EchoHandler;
use asap_transport_server::{AsapRequest, AsapServer, HandlerError, ServerConfig, handler_fn};
use serde_json::json;

const SENDER: &str = "urn:asap:agent:client";

/// A running agent and the `Accept` header of every metrics request it was sent.
struct Agent {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    accepts: Arc<Mutex<Vec<String>>>,
}

impl Agent {
    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn shutdown(self) {
        self.task.abort();
    }
}

/// An agent with metrics: `task.request` echoes, `task.cancel` always fails.
async fn agent(metrics: Arc<Metrics>) -> Agent {
    let manifest = echo_agent_manifest();
    let echo = EchoHandler::new(manifest.id.clone());
    let accepts = Arc::new(Mutex::new(Vec::new()));
    let seen = accepts.clone();
    let builder = AsapServer::builder(manifest)
        .config(ServerConfig::builder().rate_limit(None).build())
        .handler("task.request", echo)
        .handler(
            "task.cancel",
            handler_fn(|_request: AsapRequest| async {
                Err(HandlerError::internal("no cancel here"))
            }),
        )
        .metrics(metrics)
        .layer(tower::util::MapRequestLayer::new(
            move |request: http::Request<hyper::body::Incoming>| {
                if request.uri().path() == "/asap/metrics" {
                    let accept = request
                        .headers()
                        .get(http::header::ACCEPT)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    seen.lock().unwrap().push(accept);
                }
                request
            },
        ));
    let server = builder.build().expect("server builds");
    let listener = asap_transport_server::serve::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    Agent {
        addr,
        task,
        accepts,
    }
}

/// Three successes, a handler failure, an unknown payload type, an invalid envelope and a
/// parse error.
async fn traffic(agent: &Agent, client: &TestClient) {
    let recipient = echo_agent_manifest().id.to_string();
    for i in 0..3 {
        let reply = client
            .send_envelope(
                &agent.base_url(),
                &task_request(SENDER, &recipient, json!({ "n": i })),
            )
            .await;
        assert!(reply.json.get("result").is_some(), "{}", reply.text());
    }
    let mut cancel = task_request(SENDER, &recipient, json!({}));
    cancel["payload_type"] = json!("task.cancel");
    cancel["payload"] = json!({"task_id": "task-1"});
    assert_eq!(
        client
            .send_envelope(&agent.base_url(), &cancel)
            .await
            .rpc_code(),
        -32603
    );
    let mut unknown = task_request(SENDER, &recipient, json!({}));
    unknown["payload_type"] = json!("made.up");
    assert_eq!(
        client
            .send_envelope(&agent.base_url(), &unknown)
            .await
            .rpc_code(),
        -32601
    );
    let mut invalid = task_request(SENDER, &recipient, json!({}));
    invalid["sender"] = json!("not a urn");
    assert_eq!(
        client
            .send_envelope(&agent.base_url(), &invalid)
            .await
            .rpc_code(),
        -32602
    );
    let reply = client.post(&agent.url("/asap"), "{not json", &[]).await;
    assert_eq!(reply.rpc_code(), -32700);
}

#[tokio::test]
async fn each_request_counts_once_under_its_label() {
    let metrics = Arc::new(Metrics::new());
    let agent = agent(metrics.clone()).await;
    let client = TestClient::new();
    traffic(&agent, &client).await;

    let reply = client.get(&agent.url("/asap/metrics")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), Some(PROMETHEUS_CONTENT_TYPE));
    let text = reply.text();
    let expect = [
        (
            r#"asap_requests_total{payload_type="task.request",status="success"}"#,
            3.0,
        ),
        (
            r#"asap_requests_total{payload_type="task.cancel",status="error"}"#,
            1.0,
        ),
        // An unregistered type, an envelope that failed validation and a body that is not
        // JSON are all `other`: peers cannot add label values.
        (
            r#"asap_requests_total{payload_type="other",status="error"}"#,
            3.0,
        ),
        (
            r#"asap_requests_error_total{error_type="internal_error",payload_type="task.cancel"}"#,
            1.0,
        ),
        (
            r#"asap_requests_error_total{error_type="handler_not_found",payload_type="other"}"#,
            1.0,
        ),
        (
            r#"asap_requests_error_total{error_type="invalid_envelope",payload_type="other"}"#,
            1.0,
        ),
        (
            r#"asap_requests_error_total{error_type="parse_error",payload_type="other"}"#,
            1.0,
        ),
        (
            r#"asap_handler_executions_total{payload_type="task.request"}"#,
            3.0,
        ),
        (
            r#"asap_handler_executions_total{payload_type="task.cancel"}"#,
            1.0,
        ),
        (
            r#"asap_handler_errors_total{payload_type="task.cancel"}"#,
            1.0,
        ),
        (
            r#"asap_handler_duration_seconds_count{payload_type="task.request"}"#,
            3.0,
        ),
        ("asap_parse_errors_total", 1.0),
        (
            r#"asap_validation_errors_total{reason="invalid_envelope"}"#,
            1.0,
        ),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    assert!(!text.contains("made.up"), "{text}");

    // The scrape itself is not a `POST /asap` request: the counts stay as they were.
    let again = client.get(&agent.url("/asap/metrics")).await.text();
    assert_eq!(
        sample(
            &again,
            r#"asap_requests_total{payload_type="task.request",status="success"}"#
        ),
        Some(3.0)
    );
    agent.shutdown();
}

#[tokio::test]
async fn accept_selects_openmetrics_and_head_has_no_body() {
    let agent = agent(Arc::new(Metrics::new())).await;
    let client = TestClient::new();
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let reply = client
        .get_with(&agent.url("/asap/metrics"), &[("accept", accept)])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), Some(OPENMETRICS_CONTENT_TYPE));
    assert_eq!(reply.header("vary"), Some("accept"));
    assert!(reply.text().ends_with("# EOF\n"));

    let head = client.head(&agent.url("/asap/metrics")).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let post = client.post(&agent.url("/asap/metrics"), "{}", &[]).await;
    assert_eq!(post.status, 405);
    agent.shutdown();
}

/// A Prometheus server scrapes the agent (it asks for OpenMetrics first) and its query API
/// returns the agent's counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_agent() {
    let Some(prometheus) = asap_testing::services::require_tool("prometheus") else {
        return;
    };
    let agent = agent(Arc::new(Metrics::new())).await;
    let client = TestClient::new();
    traffic(&agent, &client).await;

    let prometheus = asap_testing::prometheus::Prometheus::start(&prometheus, &[agent.addr]);
    prometheus.wait_for_scrapes(1, 2).await;
    let series = prometheus
        .query(r#"asap_requests_total{payload_type="task.request",status="success"}"#)
        .await
        .unwrap_or_else(|e| panic!("{e}\nprometheus log:\n{}", prometheus.log()));
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0]["value"][1], "3", "{series:?}");

    let targets = prometheus.targets().await.expect("targets");
    let target = &targets[0];
    assert_eq!(target["health"], "up", "{target}");
    assert_eq!(target["lastError"], "", "{target}");
    let accepts = agent.accepts.lock().unwrap().clone();
    assert!(
        accepts
            .iter()
            .any(|a| a.starts_with("application/openmetrics-text")),
        "{accepts:?}"
    );
    prometheus.stop().await;
    agent.shutdown();
}

/// A request waiting in its handler is in flight; answered, or dropped by its client, it
/// is not. Body sizes are observed per answered request.
#[tokio::test]
async fn requests_in_flight_and_body_sizes() {
    use asap_testing::handlers::{Gate, scripted_builder};
    let metrics = Arc::new(Metrics::new());
    let gate = Gate::new();
    let server = scripted_builder(ServerConfig::builder().rate_limit(None).build(), &gate)
        .metrics(metrics.clone())
        .build()
        .expect("server");
    let agent = asap_testing::TestAgent::serve(server).await;
    let client = TestClient::new();
    let active = || sample(&metrics.encode(Format::Prometheus), "asap_active_requests");
    let wait_until = |want: f64| {
        let active = &active;
        async move {
            for _ in 0..500 {
                if active() == Some(want) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("asap_active_requests never became {want}: {:?}", active());
        }
    };
    assert_eq!(active(), Some(0.0));

    let recipient = echo_agent_manifest().id.to_string();
    let waiting = task_request(SENDER, &recipient, json!({"wait": true}));
    let base = agent.base_url();
    let answered = {
        let (client, base, waiting) = (client.clone(), base.clone(), waiting.clone());
        tokio::spawn(async move { client.send_envelope(&base, &waiting).await })
    };
    wait_until(1.0).await;
    gate.open();
    let reply = answered.await.expect("joined");
    assert!(reply.json.get("result").is_some(), "{}", reply.text());
    wait_until(0.0).await;

    // A client that goes away while its request waits: the request is over all the same.
    let gate = Gate::new();
    let server = scripted_builder(ServerConfig::builder().rate_limit(None).build(), &gate)
        .metrics(metrics.clone())
        .build()
        .expect("server");
    let second = asap_testing::TestAgent::serve(server).await;
    let abandoned = {
        let (client, base, waiting) = (client.clone(), second.base_url(), waiting.clone());
        tokio::spawn(async move { client.send_envelope(&base, &waiting).await })
    };
    wait_until(1.0).await;
    abandoned.abort();
    wait_until(0.0).await;
    gate.open();

    let text = metrics.encode(Format::Prometheus);
    assert_eq!(
        sample(&text, "asap_request_size_bytes_count"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "asap_response_size_bytes_count"),
        Some(1.0),
        "{text}"
    );
    let body = serde_json::to_vec(&asap_testing::fixtures::rpc_request(&waiting)).unwrap();
    assert_eq!(
        sample(&text, "asap_request_size_bytes_sum"),
        Some(body.len() as f64),
        "{text}"
    );
}

/// A request refused by the per-IP rate limit, before the endpoint, is counted and logged
/// like any other refusal.
#[tokio::test]
async fn per_ip_rate_limit_refusals_are_counted() {
    let metrics = Arc::new(Metrics::new());
    let manifest = echo_agent_manifest();
    let server = AsapServer::builder(manifest.clone())
        .config(
            ServerConfig::builder()
                .rate_limit(Some("2/minute".parse().expect("spec")))
                .build(),
        )
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
        .metrics(metrics.clone())
        .build()
        .expect("server");
    let agent = asap_testing::TestAgent::serve(server).await;
    let client = TestClient::new();
    let recipient = manifest.id.to_string();
    let envelope = task_request(SENDER, &recipient, json!({}));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            client
                .send_envelope(&agent.base_url(), &envelope)
                .await
                .status,
        );
    }
    assert_eq!(statuses, [200, 200, 429]);
    let text = metrics.encode(Format::Prometheus);
    let expect = [
        ("asap_rate_limited_total", 1.0),
        (
            r#"asap_requests_error_total{error_type="rate_limited",payload_type="other"}"#,
            1.0,
        ),
        (
            r#"asap_requests_total{payload_type="task.request",status="success"}"#,
            2.0,
        ),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
}

/// A gzip request inflated and a reply compressed are counted with their sizes on the wire
/// and uncompressed; bodies sent as they are are not.
#[tokio::test]
async fn compressed_bodies_are_counted_both_ways() {
    use asap_codec::compression::{DEFAULT_MAX_REQUEST_SIZE, Encoding, compress, decompress_slice};
    let metrics = Arc::new(Metrics::new());
    let agent = agent(metrics.clone()).await;
    let client = TestClient::new();
    let recipient = echo_agent_manifest().id.to_string();
    let text = "lorem ipsum dolor sit amet ".repeat(100);
    let envelope = task_request(SENDER, &recipient, json!({ "text": text }));
    let plain = serde_json::to_vec(&asap_testing::fixtures::rpc_request(&envelope)).unwrap();
    let gzipped = compress(Encoding::Gzip, &plain).await.expect("gzip");

    // Sent and answered without any coding: nothing to count.
    let reply = client.post(&agent.url("/asap"), plain.clone(), &[]).await;
    assert!(reply.json.get("result").is_some(), "{}", reply.text());
    let text = metrics.encode(Format::Prometheus);
    assert!(
        !text.contains("asap_compressed_size_bytes_count{"),
        "{text}"
    );

    let reply = client
        .post(
            &agent.url("/asap"),
            gzipped.clone(),
            &[("content-encoding", "gzip"), ("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let answer = decompress_slice(Encoding::Gzip, &reply.body, DEFAULT_MAX_REQUEST_SIZE)
        .await
        .expect("gunzip");
    let text = metrics.encode(Format::Prometheus);
    let request = r#"{body="request",encoding="gzip"}"#;
    let response = r#"{body="response",encoding="gzip"}"#;
    let value = |name: &str, labels: &str| sample(&text, &format!("{name}{labels}"));
    assert_eq!(
        value("asap_compressed_size_bytes_count", request),
        Some(1.0)
    );
    assert_eq!(
        value("asap_compressed_size_bytes_sum", request),
        Some(gzipped.len() as f64),
        "{text}"
    );
    assert_eq!(
        value("asap_compressed_plain_bytes_total", request),
        Some(plain.len() as f64),
        "{text}"
    );
    assert_eq!(
        value("asap_compressed_size_bytes_count", response),
        Some(1.0)
    );
    assert_eq!(
        value("asap_compressed_size_bytes_sum", response),
        Some(reply.body.len() as f64),
        "{text}"
    );
    assert_eq!(
        value("asap_compressed_plain_bytes_total", response),
        Some(answer.len() as f64),
        "{text}"
    );
    // The reply's size before compression is also the one the endpoint reported.
    assert_eq!(
        sample(&text, "asap_response_size_bytes_sum").map(|sum| sum > answer.len() as f64),
        Some(true),
        "{text}"
    );
    agent.shutdown();
}
