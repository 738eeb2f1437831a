//! Circuit breaker (PROTOCOL §12.3, with a half-open probe limit), in paused time.

mod common;

use std::time::Duration;

use asap_transport_client::{AsapClient, BreakerConfig, BreakerState, ClientError};
use common::{Reply, ScriptedServer, small_envelope};
use futures_util::future::join_all;

fn client(url: &str, breaker: BreakerConfig, attempts: u32) -> AsapClient {
    AsapClient::builder(url)
        .max_retries(attempts)
        .base_delay(Duration::from_millis(100))
        .circuit_breaker(breaker)
        .build()
        .unwrap()
}

fn breaker(threshold: u32, timeout_secs: u64, probes: u32) -> BreakerConfig {
    BreakerConfig {
        threshold,
        timeout: Duration::from_secs(timeout_secs),
        half_open_max_probes: probes,
    }
}

#[tokio::test(start_paused = true)]
async fn off_by_default() {
    let client = AsapClient::builder("http://127.0.0.1:1").build().unwrap();
    assert_eq!(client.breaker_state(), None);
    assert_eq!(client.consecutive_failures(), None);
}

#[tokio::test(start_paused = true)]
async fn opens_after_threshold_failed_sends_and_rejects_without_a_request() {
    let server = ScriptedServer::start(vec![Reply::status(500, "down")]).await;
    let client = client(&server.url(), breaker(3, 60, 1), 2);
    assert_eq!(client.breaker_state(), Some(BreakerState::Closed));

    for failures in 1..=2 {
        client.send(small_envelope()).await.unwrap_err();
        assert_eq!(client.breaker_state(), Some(BreakerState::Closed));
        assert_eq!(
            client.consecutive_failures(),
            Some(failures),
            "one failure per send"
        );
    }
    client.send(small_envelope()).await.unwrap_err();
    assert_eq!(client.breaker_state(), Some(BreakerState::Open));
    assert_eq!(server.request_count(), 6, "3 sends × 2 attempts");

    let error = client.send(small_envelope()).await.unwrap_err();
    assert_eq!(server.request_count(), 6, "rejected without a request");
    assert_eq!(
        error,
        ClientError::CircuitOpen {
            base_url: server.url(),
            consecutive_failures: 3
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "Circuit breaker is OPEN for {}. Too many consecutive failures (3). Service temporarily unavailable.",
            server.url()
        )
    );
    assert_eq!(
        error.to_asap_error().unwrap().code.as_str(),
        "asap:transport/circuit_open"
    );
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_exactly_the_probe_limit_and_success_closes() {
    let server = ScriptedServer::start(vec![Reply::status(503, "down")]).await;
    let client = client(&server.url(), breaker(1, 30, 2), 1);
    client.send(small_envelope()).await.unwrap_err();
    assert_eq!(client.breaker_state(), Some(BreakerState::Open));

    tokio::time::sleep(Duration::from_secs(29)).await;
    assert!(matches!(
        client.send(small_envelope()).await,
        Err(ClientError::CircuitOpen { .. })
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;

    server.set_script(vec![Reply::echo().delay(Duration::from_secs(1))]);
    let before = server.request_count();
    let sends = (0..4).map(|_| client.send(small_envelope()));
    let (results, ()) = tokio::join!(join_all(sends), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(client.breaker_state(), Some(BreakerState::HalfOpen));
    });
    let admitted = results.iter().filter(|r| r.is_ok()).count();
    let rejected = results
        .iter()
        .filter(|r| matches!(r, Err(ClientError::CircuitOpen { .. })))
        .count();
    assert_eq!((admitted, rejected), (2, 2));
    assert_eq!(
        server.request_count() - before,
        2,
        "only the probes reached the server"
    );
    assert_eq!(client.breaker_state(), Some(BreakerState::Closed));
    assert_eq!(client.consecutive_failures(), Some(0));

    // Closed again: everything flows.
    let results = join_all((0..4).map(|_| client.send(small_envelope()))).await;
    assert!(results.iter().all(Result::is_ok));
}

#[tokio::test(start_paused = true)]
async fn failed_probe_reopens() {
    let server = ScriptedServer::start(vec![Reply::status(500, "down")]).await;
    let client = client(&server.url(), breaker(1, 10, 1), 1);
    client.send(small_envelope()).await.unwrap_err();
    tokio::time::sleep(Duration::from_secs(10)).await;

    client.send(small_envelope()).await.unwrap_err();
    assert_eq!(client.breaker_state(), Some(BreakerState::Open));
    assert_eq!(client.consecutive_failures(), Some(2));
    let count = server.request_count();
    assert!(matches!(
        client.send(small_envelope()).await,
        Err(ClientError::CircuitOpen {
            consecutive_failures: 2,
            ..
        })
    ));
    assert_eq!(server.request_count(), count);

    tokio::time::sleep(Duration::from_secs(10)).await;
    server.set_script(vec![Reply::echo()]);
    client.send(small_envelope()).await.unwrap();
    assert_eq!(client.breaker_state(), Some(BreakerState::Closed));
}

#[tokio::test(start_paused = true)]
async fn remote_errors_count_as_successes_and_client_errors_as_failures() {
    let server = ScriptedServer::start(vec![Reply::rpc_error(-32602, "Invalid params")]).await;
    let client = client(&server.url(), breaker(1, 60, 1), 1);
    for _ in 0..3 {
        let error = client.send(small_envelope()).await.unwrap_err();
        assert_eq!(error.rpc_code(), Some(-32602));
    }
    assert_eq!(client.breaker_state(), Some(BreakerState::Closed));
    assert_eq!(client.consecutive_failures(), Some(0));

    server.set_script(vec![Reply::status(404, "not found")]);
    client.send(small_envelope()).await.unwrap_err();
    assert_eq!(client.breaker_state(), Some(BreakerState::Open));
}

#[tokio::test(start_paused = true)]
async fn clones_share_the_breaker() {
    let server = ScriptedServer::start(vec![Reply::status(500, "down")]).await;
    let client = client(&server.url(), breaker(1, 60, 1), 1);
    let clone = client.clone();
    client.send(small_envelope()).await.unwrap_err();
    assert_eq!(clone.breaker_state(), Some(BreakerState::Open));
    assert!(matches!(
        clone.send(small_envelope()).await,
        Err(ClientError::CircuitOpen { .. })
    ));
}
