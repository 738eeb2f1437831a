//! Hostile and unlucky clients: each case checks the specified answer, then that the same
//! server still answers a normal request.
//!
//! Covered: decompression bombs, declared and streamed bodies over the limit, unsupported
//! and corrupt encodings, slow and silent clients, 2,000 concurrent connections, panicking
//! handlers (async and blocking), replayed nonces, stale and future timestamps, bad and
//! missing tokens, sender mismatch, blocking pool exhaustion, request timeouts and graceful
//! shutdown with a request in flight.
//!
//! The allocator of this test binary counts live bytes, so the bomb test can show that the
//! server never holds the inflated body. The bomb and 2,000-connection tests run alone (an
//! exclusive lock); the others share it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use asap_model::AuthScheme;
use asap_testing::fixtures::{self, rpc_request, task_request, timestamp_from_now};
use asap_testing::handlers::{Gate, scripted_builder};
use asap_testing::{HttpReply, RawSender, TestAgent, TestClient, assert_task_completed};
use asap_transport_server::ServerConfig;
use asap_transport_server::layers::auth::StaticTokens;
use serde_json::{Value, json};
use tokio::sync::RwLock;

#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// Heavy tests take it exclusively; the others share it.
static HEAVY: RwLock<()> = RwLock::const_new(());

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const AGENT: &str = "urn:asap:agent:default-server";
const CLIENT: &str = "urn:asap:agent:coordinator";

fn config() -> asap_transport_server::ServerConfigBuilder {
    ServerConfig::builder().rate_limit(None)
}

async fn scripted(config: ServerConfig) -> (TestAgent, Gate) {
    let gate = Gate::new();
    let agent = TestAgent::start(scripted_builder(config, &gate)).await;
    (agent, gate)
}

fn request_for(payload_type: &str, input: Value) -> Value {
    let mut envelope = task_request(CLIENT, AGENT, input);
    envelope["payload_type"] = json!(payload_type);
    envelope
}

fn rpc_body(payload_type: &str, input: Value) -> Vec<u8> {
    serde_json::to_vec(&rpc_request(&request_for(payload_type, input))).unwrap()
}

/// A normal request on a fresh connection gets a completed task echoing its input.
async fn assert_still_serves(agent: &TestAgent) {
    let reply = TestClient::new()
        .with_timeout(Duration::from_secs(10))
        .send_envelope(
            &agent.base_url(),
            &task_request(CLIENT, AGENT, json!({"still": "here"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let envelope = asap_testing::assert_envelope_valid(reply.envelope());
    let response = assert_task_completed(&envelope, None);
    assert_eq!(
        Value::Object(response.result.unwrap()),
        json!({"echoed": {"still": "here"}})
    );
}

fn assert_detail(reply: &HttpReply, status: u16, detail: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.content_type(), Some("application/json"));
    assert_eq!(reply.json, json!({"detail": detail}));
}

fn assert_rpc_error(reply: &HttpReply, code: i64, data: &Value) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.rpc_code(), code, "{}", reply.text());
    assert_eq!(&reply.rpc_error()["data"], data, "{}", reply.text());
    assert_eq!(reply.json["id"], "req-1");
}

// ---------------------------------------------------------------------------------------
// Size limits and encodings
// ---------------------------------------------------------------------------------------

/// Samples the live heap every 200 µs until stopped; returns the peak above the baseline.
fn watch_heap() -> (Arc<AtomicBool>, std::thread::JoinHandle<usize>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let baseline = ALLOCATOR.allocated();
    let peak = Arc::new(AtomicUsize::new(0));
    let handle = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            let above = ALLOCATOR.allocated().saturating_sub(baseline);
            peak.fetch_max(above, Ordering::Relaxed);
            std::thread::sleep(Duration::from_micros(200));
        }
        peak.load(Ordering::Relaxed)
    });
    (stop, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bomb_is_refused_without_inflating_it() {
    let _alone = HEAVY.write().await;
    let limit = 64 * KIB;
    let agent = TestAgent::echo_with(config().max_request_size(limit).build()).await;
    let bomb = fixtures::gzip_bomb(50 * MIB).await;
    assert!(
        bomb.len() < limit,
        "the bomb ({} bytes) passes the size check",
        bomb.len()
    );

    let (stop, watcher) = watch_heap();
    let started = Instant::now();
    let reply = TestClient::new()
        .post(&agent.url("/asap"), bomb, &[("content-encoding", "gzip")])
        .await;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peak = watcher.join().unwrap();
    eprintln!(
        "refusing a 50 MiB gzip bomb took {elapsed:?}; live heap peaked {peak} bytes above its baseline"
    );

    // Decoding stops at the first byte past the limit: the count is limit + 1, not 50 MiB.
    assert_detail(
        &reply,
        413,
        &format!(
            "Decompressed request size ({} bytes) exceeds maximum ({limit} bytes)",
            limit + 1
        ),
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(
        peak < 8 * MIB,
        "the heap grew by {peak} bytes while refusing the bomb"
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_content_length_over_the_limit_is_413_before_the_body() {
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo_with(config().max_request_size(64 * KIB).build()).await;
    let mut raw = RawSender::connect(agent.addr()).await.unwrap();
    // Headers only: the body is never sent, the server must not wait for it.
    raw.send(
        b"POST /asap HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n",
    )
    .await
    .unwrap();
    let reply = raw.read_response(Duration::from_secs(5)).await;
    assert_eq!(
        reply.status(),
        Some(413),
        "{:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(
        reply.json(),
        json!({"detail": "Request size (1000000 bytes) exceeds maximum (65536 bytes)"})
    );
    // Exactly the limit is allowed (strictly greater is refused); a JSON body padded with
    // spaces to the limit is answered normally.
    let mut body = rpc_body("task.request", json!({"padded": true}));
    body.resize(64 * KIB, b' ');
    let reply = TestClient::new().post(&agent.url("/asap"), body, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut body = rpc_body("task.request", json!({"padded": true}));
    body.resize(64 * KIB + 1, b' ');
    let reply = TestClient::new().post(&agent.url("/asap"), body, &[]).await;
    assert_detail(
        &reply,
        413,
        "Request size (65537 bytes) exceeds maximum (65536 bytes)",
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_over_the_limit_is_413() {
    let _shared = HEAVY.read().await;
    let limit = 64 * KIB;
    let agent = TestAgent::echo_with(config().max_request_size(limit).build()).await;
    let mut raw = RawSender::connect(agent.addr()).await.unwrap();
    raw.start_chunked_post("/asap", &[]).await.unwrap();
    // 80 KiB in 16 KiB chunks, no Content-Length; the body is left unfinished so the
    // server's refusal is the only way this ends.
    let chunk = vec![b' '; 16 * KIB];
    for _ in 0..5 {
        raw.send_chunk(&chunk).await.unwrap();
    }
    let reply = raw.read_reply(Duration::from_secs(5)).await;
    assert_eq!(
        reply.status(),
        Some(413),
        "{:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let detail = reply.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let received: usize = detail
        .strip_prefix("Request size (")
        .and_then(|r| r.strip_suffix(" bytes) exceeds maximum (65536 bytes)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("detail {detail:?}"));
    assert!(received > limit && received <= 80 * KIB, "{received}");
    assert!(
        reply.closed,
        "the connection is closed after a refused streamed body"
    );

    // A chunked body within the limit is accepted.
    let mut raw = RawSender::connect(agent.addr()).await.unwrap();
    raw.start_chunked_post("/asap", &[]).await.unwrap();
    let body = rpc_body("task.request", json!({"chunked": true}));
    for piece in body.chunks(100) {
        raw.send_chunk(piece).await.unwrap();
    }
    raw.finish_chunks().await.unwrap();
    let reply = raw.read_reply(Duration::from_secs(5)).await;
    assert_eq!(
        reply.status(),
        Some(200),
        "{:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(
        reply.json()["result"]["envelope"]["payload"]["result"],
        json!({"echoed": {"chunked": true}})
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_content_encoding_is_415() {
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo().await;
    let client = TestClient::new();
    let body = rpc_body("task.request", json!({}));
    for (encoding, shown) in [
        ("deflate", "deflate"),
        ("x-gzip", "x-gzip"),
        ("gzip, br", "gzip, br"),
        ("compress", "compress"),
    ] {
        let reply = client
            .post(
                &agent.url("/asap"),
                body.clone(),
                &[("content-encoding", encoding)],
            )
            .await;
        assert_detail(
            &reply,
            415,
            &format!("Unsupported Content-Encoding: {shown}. Supported: br, gzip"),
        );
    }
    // Case and whitespace are normalised; identity is no encoding.
    for encoding in ["identity", " GZIP "] {
        let body = if encoding == "identity" {
            body.clone()
        } else {
            fixtures::gzip(&body).await
        };
        let reply = client
            .post(&agent.url("/asap"), body, &[("content-encoding", encoding)])
            .await;
        assert_eq!(reply.status, 200, "{encoding:?}: {}", reply.text());
    }
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_compressed_bodies_are_400() {
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo().await;
    let client = TestClient::new();
    let gzipped = fixtures::gzip(&rpc_body("task.request", json!({}))).await;
    let truncated = gzipped[..gzipped.len() / 2].to_vec();
    let mut trailing = gzipped.clone();
    trailing.extend_from_slice(b"garbage");
    for (name, body, encoding) in [
        ("not gzip", b"not gzip".to_vec(), "gzip"),
        ("truncated", truncated, "gzip"),
        ("trailing garbage", trailing, "gzip"),
        ("not brotli", b"\xff\xff\xff\xff not brotli".to_vec(), "br"),
    ] {
        let reply = client
            .post(&agent.url("/asap"), body, &[("content-encoding", encoding)])
            .await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
        let detail = reply.json["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with("Invalid compressed data: "),
            "{name}: {detail:?}"
        );
    }
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Slow clients and many connections
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_client_is_cut_off_and_others_are_served_meanwhile() {
    let _shared = HEAVY.read().await;
    let timeout = Duration::from_millis(500);
    let agent = TestAgent::echo_with(config().header_read_timeout(timeout).build()).await;

    // Half a request head, then silence.
    let mut slow = RawSender::connect(agent.addr()).await.unwrap();
    slow.send(b"POST /asap HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: appl")
        .await
        .unwrap();
    let started = Instant::now();
    // Another client is served while the slow one holds its connection.
    let reply = TestClient::new()
        .send_envelope(&agent.base_url(), &task_request(CLIENT, AGENT, json!({})))
        .await;
    assert_eq!(reply.status, 200);
    assert!(
        started.elapsed() < timeout,
        "served only after {:?}",
        started.elapsed()
    );

    let reply = slow.read_reply(Duration::from_secs(5)).await;
    let waited = started.elapsed();
    assert!(reply.closed, "the slow connection is closed");
    assert!(
        reply.bytes.is_empty() || reply.status() == Some(408),
        "closed, or 408: {:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert!(
        waited >= timeout - Duration::from_millis(100),
        "closed after {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "closed only after {waited:?}"
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_after_the_header_timeout() {
    let _shared = HEAVY.read().await;
    let timeout = Duration::from_millis(500);
    let agent = TestAgent::echo_with(config().header_read_timeout(timeout).build()).await;
    // Nothing at all, and a single byte (too little to tell HTTP/1.1 from h2c).
    let mut silent = RawSender::connect(agent.addr()).await.unwrap();
    let mut one_byte = RawSender::connect(agent.addr()).await.unwrap();
    one_byte.send(b"P").await.unwrap();
    let started = Instant::now();
    for (name, raw) in [("silent", &mut silent), ("one byte", &mut one_byte)] {
        let reply = raw.read_reply(Duration::from_secs(5)).await;
        assert!(
            reply.closed,
            "{name}: still open after {:?}",
            started.elapsed()
        );
    }
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(3),
        "closed only after {waited:?}"
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

/// Raises the soft `RLIMIT_NOFILE` to at least `needed` when the hard limit allows.
fn enough_file_descriptors(needed: u64) -> Result<u64, String> {
    let (soft, hard) = rlimit::Resource::NOFILE.get().map_err(|e| e.to_string())?;
    if soft >= needed {
        return Ok(soft);
    }
    let raised = rlimit::increase_nofile_limit(needed.max(soft)).map_err(|e| e.to_string())?;
    if raised >= needed {
        Ok(raised)
    } else {
        Err(format!(
            "soft limit {soft}, hard limit {hard}, raised to {raised} < {needed}"
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_connections_are_all_served() {
    const CONNECTIONS: usize = 2_000;
    const WAVE: usize = 500;
    let _alone = HEAVY.write().await;
    // Two descriptors per connection in this process (client and server side), plus slack.
    if let Err(why) = enough_file_descriptors(4_200) {
        eprintln!("SKIPPED two_thousand_concurrent_connections_are_all_served: {why}");
        return;
    }
    let agent = TestAgent::echo().await;
    let addr = agent.addr();
    let started = Instant::now();

    // Open every connection first, in waves of 500 simultaneous connects so that the
    // kernel's listen queue never overflows into SYN cookies (which may reset connections:
    // a property of the host, not of the server).
    let mut connections = Vec::with_capacity(CONNECTIONS);
    for wave in 0..CONNECTIONS / WAVE {
        let mut connecting = tokio::task::JoinSet::new();
        for i in wave * WAVE..(wave + 1) * WAVE {
            connecting.spawn(async move { (i, RawSender::connect(addr).await) });
        }
        while let Some(joined) = connecting.join_next().await {
            let (i, connected) = joined.unwrap();
            connections.push((i, connected.unwrap_or_else(|e| panic!("{i}: connect: {e}"))));
        }
    }
    let connected_in = started.elapsed();

    // Then one request on each, all at once.
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut raw) in connections {
        tasks.spawn(async move {
            let body = rpc_body("task.request", json!({"n": i}));
            raw.post_asap(&body, &[])
                .await
                .map_err(|e| format!("{i}: send: {e}"))?;
            let reply = raw.read_reply(Duration::from_secs(30)).await;
            if reply.status() != Some(200) {
                return Err(format!(
                    "{i}: {:?} (closed: {}, error: {:?})",
                    String::from_utf8_lossy(&reply.bytes),
                    reply.closed,
                    reply.error
                ));
            }
            let echoed =
                reply.json()["result"]["envelope"]["payload"]["result"]["echoed"]["n"].clone();
            if echoed != json!(i) {
                return Err(format!("{i}: echoed {echoed}"));
            }
            Ok::<_, String>(())
        });
    }
    let mut failures = Vec::new();
    let all = async {
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined.unwrap() {
                failures.push(e);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(45), all)
        .await
        .expect("2,000 connections served within 45 s");
    assert!(
        failures.is_empty(),
        "{} of {CONNECTIONS} failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    eprintln!(
        "{CONNECTIONS} connections opened in {connected_in:?}, all served after {:?}",
        started.elapsed()
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Handlers that misbehave
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_handlers_answer_32603_and_keep_the_connection() {
    let _shared = HEAVY.read().await;
    let (agent, _gate) = scripted(config().max_threads(1).build()).await;
    let mut raw = RawSender::connect(agent.addr()).await.unwrap();
    let internal = json!({"error": "Internal server error"});
    for payload_type in ["task.request", "task.blocking"] {
        raw.post_asap_keep_alive(&rpc_body(payload_type, json!({"panic": "boom"})), &[])
            .await
            .unwrap();
        let reply = raw.read_response(Duration::from_secs(5)).await;
        assert_eq!(reply.status(), Some(200), "{payload_type}");
        assert!(!reply.closed, "{payload_type}: the connection was dropped");
        let body = reply.json();
        assert_eq!(body["error"]["code"], -32603, "{payload_type}: {body}");
        assert_eq!(body["error"]["message"], "Internal error");
        assert_eq!(
            body["error"]["data"], internal,
            "no panic text in production"
        );
        assert_eq!(body["id"], "req-1");

        // The same connection serves the next request; for the blocking handler this also
        // shows the only pool slot was released by the panic.
        raw.post_asap_keep_alive(&rpc_body(payload_type, json!({"after": "panic"})), &[])
            .await
            .unwrap();
        let reply = raw.read_response(Duration::from_secs(5)).await;
        assert_eq!(
            reply.status(),
            Some(200),
            "{payload_type}: {}",
            reply.body()
        );
        assert_eq!(
            reply.json()["result"]["envelope"]["payload"]["result"],
            json!({"echoed": {"after": "panic"}}),
            "{payload_type}"
        );
    }
    // A handler error is the same -32603.
    let reply = TestClient::new()
        .send_envelope(
            &agent.base_url(),
            &request_for("task.request", json!({"fail": "nope"})),
        )
        .await;
    assert_rpc_error(&reply, -32603, &internal);
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_blocking_pool_answers_503_and_recovers() {
    let _shared = HEAVY.read().await;
    let (agent, gate) = scripted(config().max_threads(1).build()).await;
    let base = agent.base_url();
    let holder = {
        let base = base.clone();
        tokio::spawn(async move {
            TestClient::new()
                .send_envelope(&base, &request_for("task.blocking", json!({"wait": true})))
                .await
        })
    };
    tokio::time::timeout(Duration::from_secs(5), gate.entered(1))
        .await
        .expect("the first blocking request runs");

    let client = TestClient::new();
    let reply = client
        .send_envelope(&base, &request_for("task.blocking", json!({})))
        .await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.content_type(), Some("application/json"));
    assert_eq!(
        reply.json,
        json!({
            "error": "Service Temporarily Unavailable",
            "code": "asap:transport/thread_pool_exhausted",
            "message": "Thread pool exhausted: 1/1 threads in use. Service temporarily unavailable.",
            "details": {"max_threads": 1, "active_threads": 1},
        })
    );
    // Async handlers are never bounded by the pool.
    assert_still_serves(&agent).await;

    gate.open();
    let held = holder.await.unwrap();
    assert_eq!(held.status, 200, "{}", held.text());
    let reply = client
        .send_envelope(&base, &request_for("task.blocking", json!({"free": true})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_answers_408() {
    let _shared = HEAVY.read().await;
    let timeout = Duration::from_millis(300);
    let (agent, _gate) = scripted(config().request_timeout(timeout).build()).await;
    let started = Instant::now();
    let reply = TestClient::new()
        .send_envelope(
            &agent.base_url(),
            &request_for("task.request", json!({"sleep_ms": 5000})),
        )
        .await;
    let elapsed = started.elapsed();
    assert_detail(&reply, 408, "Request timed out");
    assert!(
        elapsed >= timeout && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    // A request that finishes within the limit is unaffected.
    let reply = TestClient::new()
        .send_envelope(
            &agent.base_url(),
            &request_for("task.request", json!({"sleep_ms": 10})),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_drains_the_request_in_flight() {
    let _shared = HEAVY.read().await;
    let (mut agent, gate) = scripted(config().build()).await;
    let addr = agent.addr();
    let base = agent.base_url();
    let in_flight = tokio::spawn(async move {
        TestClient::new()
            .send_envelope(&base, &request_for("task.request", json!({"wait": true})))
            .await
    });
    tokio::time::timeout(Duration::from_secs(5), gate.entered(1))
        .await
        .expect("the request reaches its handler");

    agent.begin_shutdown();
    // The listener closes: new connections are refused while the request is still running.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ if Instant::now() > deadline => panic!("still accepting connections after shutdown"),
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    assert!(!in_flight.is_finished());
    assert!(
        !agent.is_finished(),
        "the server waits for the request in flight"
    );

    gate.open();
    let reply = tokio::time::timeout(Duration::from_secs(5), in_flight)
        .await
        .expect("the drained request completes")
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.envelope()["payload"]["status"], "completed");
    tokio::time::timeout(Duration::from_secs(5), agent.shutdown())
        .await
        .expect("the server stops once drained");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

// ---------------------------------------------------------------------------------------
// Envelope-level refusals
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_nonce_is_refused() {
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo_with(config().require_nonce(true).build()).await;
    let client = TestClient::new();
    let mut envelope = task_request(CLIENT, AGENT, json!({}));
    envelope["id"] = json!("env-nonce-1");
    envelope["extensions"] = json!({"nonce": "n-3f9a1c"});
    let first = client.send_envelope(&agent.base_url(), &envelope).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(first.envelope().is_object());
    let second = client.send_envelope(&agent.base_url(), &envelope).await;
    assert_rpc_error(
        &second,
        -32602,
        &json!({
            "error": "Invalid envelope nonce",
            "code": "asap:protocol/invalid_nonce",
            "message": "Duplicate nonce detected: n-3f9a1c",
            "details": {"nonce": "n-3f9a1c", "envelope_id": "env-nonce-1"},
        }),
    );
    // Another nonce passes.
    envelope["extensions"] = json!({"nonce": "n-3f9a1d"});
    assert_eq!(
        client
            .send_envelope(&agent.base_url(), &envelope)
            .await
            .status,
        200
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_future_timestamps_are_refused() {
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo().await;
    let client = TestClient::new();
    for (offset, prefix, suffix) in [
        (
            -301.0,
            "Envelope timestamp is too old: ",
            " seconds (max: 300 seconds)",
        ),
        (
            -86_400.0,
            "Envelope timestamp is too old: ",
            " seconds (max: 300 seconds)",
        ),
        (
            31.0,
            "Envelope timestamp is too far in the future: ",
            " seconds (max tolerance: 30 seconds)",
        ),
        (
            3_600.0,
            "Envelope timestamp is too far in the future: ",
            " seconds (max tolerance: 30 seconds)",
        ),
    ] {
        let mut envelope = task_request(CLIENT, AGENT, json!({}));
        envelope["id"] = json!("env-ts");
        envelope["timestamp"] = json!(timestamp_from_now(offset));
        let reply = client.send_envelope(&agent.base_url(), &envelope).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.rpc_code(), -32602, "{offset}: {}", reply.text());
        let data = &reply.rpc_error()["data"];
        assert_eq!(data["error"], "Invalid envelope timestamp");
        assert_eq!(data["code"], "asap:protocol/invalid_timestamp");
        let message = data["message"].as_str().unwrap();
        assert!(
            message.starts_with(prefix) && message.ends_with(suffix),
            "{offset}: {message}"
        );
        assert_eq!(data["details"]["envelope_id"], "env-ts");
    }
    // Inside the window both ways.
    for offset in [-290.0, 25.0] {
        let mut envelope = task_request(CLIENT, AGENT, json!({}));
        envelope["timestamp"] = json!(timestamp_from_now(offset));
        let reply = client.send_envelope(&agent.base_url(), &envelope).await;
        assert_eq!(reply.status, 200);
        assert!(reply.envelope().is_object(), "{offset}: {}", reply.text());
    }
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

async fn auth_agent() -> TestAgent {
    // The demo manifest, declaring bearer auth; `s3cret` authenticates the coordinator.
    let mut manifest = asap_transport_server::echo::demo_manifest("http://127.0.0.1/asap");
    manifest.auth = Some(AuthScheme {
        schemes: vec!["bearer".into()],
        oauth2: None,
    });
    let echo = asap_transport_server::echo::EchoHandler::new(manifest.id.clone());
    TestAgent::start(
        asap_transport_server::AsapServer::builder(manifest)
            .config(config().build())
            .handler("task.request", echo)
            .token_validator(StaticTokens::new().with("s3cret", CLIENT.parse().unwrap())),
    )
    .await
}

async fn send_with_auth(agent: &TestAgent, sender: &str, authorization: Option<&str>) -> HttpReply {
    let body = serde_json::to_vec(&rpc_request(&task_request(sender, AGENT, json!({})))).unwrap();
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| ("authorization", a))
        .into_iter()
        .collect();
    TestClient::new()
        .post(&agent.url("/asap"), body, &headers)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_and_missing_tokens_are_401_semantics() {
    let _shared = HEAVY.read().await;
    let agent = auth_agent().await;
    let invalid = json!({"error": "Invalid authentication token", "status_code": 401});
    let required = json!({"error": "Authentication required", "status_code": 401});
    for (authorization, data) in [
        (Some("Bearer wrong"), &invalid),
        (Some("bearer S3CRET"), &invalid),
        (None, &required),
        (Some("Bearer "), &required),
        (Some("Basic czNjcmV0"), &required),
        (Some("s3cret"), &required),
    ] {
        let reply = send_with_auth(&agent, CLIENT, authorization).await;
        assert_rpc_error(&reply, -32600, data);
    }
    // The right token, in any scheme case.
    for authorization in ["Bearer s3cret", "bearer s3cret"] {
        let reply = send_with_auth(&agent, CLIENT, Some(authorization)).await;
        assert_eq!(reply.status, 200);
        assert!(reply.envelope().is_object(), "{}", reply.text());
    }
    // Routes other than POST /asap are never authenticated.
    assert_eq!(
        TestClient::new().get(&agent.url("/health")).await.status,
        200
    );
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_mismatch_is_403_semantics() {
    let _shared = HEAVY.read().await;
    let agent = auth_agent().await;
    let reply = send_with_auth(&agent, "urn:asap:agent:someone-else", Some("Bearer s3cret")).await;
    assert_rpc_error(
        &reply,
        -32602,
        &json!({"error": "Sender does not match authenticated identity", "status_code": 403}),
    );
    let reply = send_with_auth(&agent, CLIENT, Some("Bearer s3cret")).await;
    assert_eq!(reply.status, 200);
    let envelope = asap_testing::assert_envelope_valid(reply.envelope());
    assert_task_completed(&envelope, None);
    agent.shutdown().await;
}
