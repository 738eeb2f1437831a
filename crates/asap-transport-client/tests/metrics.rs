//! Client metrics (feature `metrics`): sends, errors, retries, the circuit breaker and
//! connection slots counted by peer, as a scrape of the agent's `Metrics` shows them.
#![cfg(feature = "metrics")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use asap_observability::metrics::{Format, Metrics};
use asap_testing::prometheus::sample;
use asap_transport_client::{AsapClient, BreakerConfig, ClientError};
use common::{Reply, ScriptedServer, small_envelope};

#[tokio::test(start_paused = true)]
async fn sends_retries_breaker_and_slots_are_counted_by_peer() {
    let server = ScriptedServer::start(vec![
        Reply::echo(),
        Reply::echo(),
        Reply::status(503, "busy"),
        Reply::status(503, "busy"),
    ])
    .await;
    let metrics = Arc::new(Metrics::new());
    let client = AsapClient::builder(server.url())
        .max_retries(2)
        .base_delay(Duration::from_millis(10))
        .circuit_breaker(BreakerConfig {
            threshold: 1,
            timeout: Duration::from_secs(60),
            half_open_max_probes: 1,
        })
        .metrics(metrics.clone())
        .build()
        .unwrap();
    client.send(small_envelope()).await.expect("first");
    client.send(small_envelope()).await.expect("second");
    // Two 503s: one retry, then the send fails and opens the breaker…
    let failed = client.send(small_envelope()).await.unwrap_err();
    assert!(failed.is_status(), "{failed:?}");
    // …which refuses the next send without sending it.
    let refused = client.send(small_envelope()).await.unwrap_err();
    assert!(
        matches!(refused, ClientError::CircuitOpen { .. }),
        "{refused:?}"
    );
    assert_eq!(server.request_count(), 4);

    let text = metrics.encode(Format::Prometheus);
    let peer = format!("127.0.0.1:{}", server.addr().port());
    let expect = [
        (
            format!(r#"asap_client_sends_total{{peer="{peer}",status="success"}}"#),
            2.0,
        ),
        (
            format!(r#"asap_client_sends_total{{peer="{peer}",status="error"}}"#),
            2.0,
        ),
        (
            r#"asap_transport_send_total{status="success"}"#.to_owned(),
            2.0,
        ),
        (
            r#"asap_transport_send_total{status="error"}"#.to_owned(),
            2.0,
        ),
        (
            r#"asap_transport_send_errors_total{reason="connection"}"#.to_owned(),
            1.0,
        ),
        (
            r#"asap_transport_send_errors_total{reason="circuit_open"}"#.to_owned(),
            1.0,
        ),
        ("asap_transport_retries_total".to_owned(), 1.0),
        (
            format!(r#"asap_client_retries_total{{peer="{peer}"}}"#),
            1.0,
        ),
        (
            format!(r#"asap_circuit_breaker_state{{peer="{peer}"}}"#),
            2.0,
        ),
        (
            format!(r#"asap_circuit_breaker_transitions_total{{peer="{peer}",state="open"}}"#),
            1.0,
        ),
        // Four attempts took a slot, and every slot was given back.
        (
            format!(r#"asap_client_pool_acquire_duration_seconds_count{{peer="{peer}"}}"#),
            4.0,
        ),
        (format!(r#"asap_client_pool_in_use{{peer="{peer}"}}"#), 0.0),
        (
            format!(r#"asap_client_send_duration_seconds_count{{peer="{peer}"}}"#),
            4.0,
        ),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, &series), Some(value), "{series} in\n{text}");
    }
}

/// The manifest cache's counts are read at each scrape, by peer, while the client lives.
#[tokio::test]
async fn manifest_cache_counts_follow_the_client() {
    let agent = asap_testing::TestAgent::echo().await;
    let metrics = Arc::new(Metrics::new());
    let client = AsapClient::builder(agent.base_url())
        .metrics(metrics.clone())
        .build()
        .unwrap();
    client.get_manifest().await.expect("fetched");
    client.get_manifest().await.expect("cached");
    let peer = format!("127.0.0.1:{}", agent.addr().port());
    let text = metrics.encode(Format::OpenMetrics);
    let hits = format!(r#"asap_manifest_cache_hits_total{{peer="{peer}"}}"#);
    let misses = format!(r#"asap_manifest_cache_misses_total{{peer="{peer}"}}"#);
    assert_eq!(sample(&text, &hits), Some(1.0), "{text}");
    assert_eq!(sample(&text, &misses), Some(1.0), "{text}");
    // A second client of the same peer adds to the same series.
    let second = AsapClient::builder(agent.base_url())
        .metrics(metrics.clone())
        .build()
        .unwrap();
    second.get_manifest().await.expect("fetched");
    let text = metrics.encode(Format::Prometheus);
    assert_eq!(sample(&text, &misses), Some(2.0), "{text}");
    drop(client);
    drop(second);
    let text = metrics.encode(Format::Prometheus);
    assert_eq!(sample(&text, &hits), None, "{text}");
    assert!(
        text.contains("# TYPE asap_manifest_cache_hits_total counter"),
        "{text}"
    );
}

/// Connections are counted as they open and as the idle timeout closes them.
#[tokio::test]
async fn open_connections_follow_the_pool() {
    let server = ScriptedServer::start(vec![
        Reply::echo().delay(Duration::from_millis(300)),
        Reply::echo().delay(Duration::from_millis(300)),
    ])
    .await;
    let metrics = Arc::new(Metrics::new());
    let client = AsapClient::builder(server.url())
        .pool_idle_timeout(Some(Duration::from_millis(500)))
        .metrics(metrics.clone())
        .build()
        .unwrap();
    let series = format!(
        r#"asap_client_connections_open{{peer="127.0.0.1:{}"}}"#,
        server.addr().port()
    );
    let open = || sample(&metrics.encode(Format::Prometheus), &series);
    assert_eq!(open(), None, "nothing opened yet");
    // Two sends at once over HTTP/1.1: two connections, idle once answered.
    let (a, b) = tokio::join!(client.send(small_envelope()), client.send(small_envelope()));
    a.expect("first");
    b.expect("second");
    assert_eq!(server.connections(), 2);
    assert_eq!(open(), Some(2.0));
    for _ in 0..100 {
        if open() == Some(0.0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("idle connections never closed: {:?}", open());
}
