//! Retries and backoff (PROTOCOL §12.2), in paused time: sleeps cost nothing and the
//! server's arrival times are exact.

mod common;

use std::time::Duration;

use asap_transport_client::{AsapClient, ClientError};
use common::{Reply, ScriptedServer, small_envelope};
use tokio::net::TcpListener;

fn client(url: &str, attempts: u32) -> AsapClient {
    AsapClient::builder(url)
        .max_retries(attempts)
        .base_delay(Duration::from_secs(1))
        .max_delay(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Asserts `gap` ∈ [base·2^a, 1.1·base·2^a] (base 1 s).
fn assert_backoff(gap: Duration, attempt: u32) {
    let low = Duration::from_secs(1 << attempt);
    let high = low.mul_f64(1.1);
    assert!(
        gap >= low && gap <= high + Duration::from_millis(1),
        "gap after attempt {attempt} was {gap:?}, expected within [{low:?}, {high:?}]"
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_with_exponential_backoff() {
    let server = ScriptedServer::start(vec![
        Reply::status(503, "busy"),
        Reply::status(500, "oops"),
        Reply::status(502, "bad gateway"),
        Reply::echo(),
    ])
    .await;
    let reply = client(&server.url(), 4)
        .send(small_envelope())
        .await
        .unwrap();
    assert_eq!(reply.payload_type, "task.request");

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    for (attempt, pair) in requests.windows(2).enumerate() {
        assert_backoff(pair[1].at - pair[0].at, attempt as u32);
    }
    // The same JSON-RPC id and idempotency key on every attempt, in header and params.
    let key = requests[0].idempotency_key().expect("X-Idempotency-Key");
    assert_eq!(key.len(), 26, "a ULID");
    for request in &requests {
        assert_eq!(request.idempotency_key().as_deref(), Some(key.as_str()));
        assert_eq!(request.json()["params"]["idempotency_key"], key.as_str());
        assert_eq!(request.rpc_id(), "req-1");
        assert_eq!(request.path, "/asap");
        assert_eq!(request.header("content-type"), Some("application/json"));
    }
}

#[tokio::test(start_paused = true)]
async fn max_retries_counts_total_attempts() {
    let server = ScriptedServer::start(vec![Reply::status(503, &"x".repeat(500))]).await;
    let start = tokio::time::Instant::now();
    let error = client(&server.url(), 3)
        .send(small_envelope())
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 3);
    match &error {
        ClientError::Connection {
            message,
            status,
            retry_after,
            ..
        } => {
            assert_eq!(*status, Some(503));
            assert_eq!(*retry_after, None);
            assert!(message.starts_with("HTTP error 503: "), "{message}");
            assert_eq!(
                message.len(),
                "HTTP error 503: ".len() + 200,
                "≤ 200 chars of body"
            );
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    // Two backoffs (1–1.1 s, 2–2.2 s), no sleep after the last attempt.
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(3) && elapsed <= Duration::from_millis(3301));
}

#[tokio::test(start_paused = true)]
async fn ids_increase_per_send_and_keys_differ() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    let client = client(&server.url(), 3);
    client.send(small_envelope()).await.unwrap();
    client.clone().send(small_envelope()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests[0].rpc_id(), "req-1");
    assert_eq!(requests[1].rpc_id(), "req-2", "clones share the counter");
    assert_ne!(requests[0].idempotency_key(), requests[1].idempotency_key());
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_not_retried() {
    for status in [400u16, 401, 403, 404, 413] {
        let server =
            ScriptedServer::start(vec![Reply::status(status, "{\"detail\":\"no\"}")]).await;
        let error = client(&server.url(), 3)
            .send(small_envelope())
            .await
            .unwrap_err();
        assert_eq!(
            server.request_count(),
            1,
            "HTTP {status} must not be retried"
        );
        assert_eq!(error.status(), Some(status));
    }
}

#[tokio::test(start_paused = true)]
async fn connect_errors_are_retried_then_reported() {
    // A port with nothing listening.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let start = tokio::time::Instant::now();
    let error = client(&url, 3).send(small_envelope()).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Connection { status: None, .. }),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("Connection error"), "{error}");
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_secs(3),
        "two backoffs, got {elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_retried_then_reported() {
    let server = ScriptedServer::start(vec![
        Reply::echo().delay(Duration::from_secs(30)),
        Reply::echo(),
    ])
    .await;
    let client = AsapClient::builder(server.url())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    client
        .send(small_envelope())
        .await
        .expect("second attempt succeeds");
    assert_eq!(server.request_count(), 2);

    server.set_script(vec![Reply::echo().delay(Duration::from_secs(30))]);
    let error = client.send(small_envelope()).await.unwrap_err();
    assert_eq!(
        error,
        ClientError::Timeout {
            after: Duration::from_secs(5)
        }
    );
    assert_eq!(error.to_string(), "Request timeout after 5s");
    assert_eq!(server.request_count(), 2 + 3);
}

#[tokio::test(start_paused = true)]
async fn zero_attempts_fail_immediately() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    let error = client(&server.url(), 0)
        .send(small_envelope())
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "Max retries (0) exceeded");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn remote_errors_are_returned_without_retry() {
    let server = ScriptedServer::start(vec![Reply::rpc_error(-32601, "Method not found")]).await;
    let error = client(&server.url(), 3)
        .send(small_envelope())
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 1);
    match error {
        ClientError::Remote {
            code,
            message,
            data,
        } => {
            assert_eq!(code, -32601);
            assert_eq!(message, "Method not found");
            assert_eq!(data.unwrap()["error"], "scripted");
        }
        other => panic!("expected a remote error, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn unusable_bodies_become_remote_errors() {
    let server = ScriptedServer::start(vec![
        Reply::status(200, "<html>proxy error</html>"),
        Reply::json(
            200,
            serde_json::json!({"jsonrpc": "2.0", "result": {}, "id": "req-2"}),
        ),
    ])
    .await;
    let client = client(&server.url(), 3);
    let error = client.send(small_envelope()).await.unwrap_err();
    assert_eq!(error.rpc_code(), Some(-32700));
    assert!(
        error.to_string().contains("Invalid JSON response: "),
        "{error}"
    );
    let error = client.send(small_envelope()).await.unwrap_err();
    assert_eq!(
        error,
        ClientError::Remote {
            code: -32603,
            message: "Missing envelope in response".into(),
            data: None
        }
    );
    assert_eq!(server.request_count(), 2, "neither is retried");
}

#[tokio::test(start_paused = true)]
async fn jitter_off_gives_exact_delays() {
    let server = ScriptedServer::start(vec![
        Reply::status(500, ""),
        Reply::status(500, ""),
        Reply::status(500, ""),
        Reply::echo(),
    ])
    .await;
    let client = AsapClient::builder(server.url())
        .max_retries(4)
        .base_delay(Duration::from_millis(500))
        .max_delay(Duration::from_millis(1500))
        .jitter(false)
        .build()
        .unwrap();
    client.send(small_envelope()).await.unwrap();
    let r = server.requests();
    assert_eq!(r[1].at - r[0].at, Duration::from_millis(500));
    assert_eq!(r[2].at - r[1].at, Duration::from_millis(1000));
    assert_eq!(
        r[3].at - r[2].at,
        Duration::from_millis(1500),
        "capped at max_delay"
    );
}
