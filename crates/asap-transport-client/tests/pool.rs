//! Per-host connection bound and the pool-acquire timeout.

mod common;

use std::time::Duration;

use asap_transport_client::{AsapClient, ClientError};
use common::{Reply, ScriptedServer, small_envelope};
use futures_util::future::join_all;

#[tokio::test(start_paused = true)]
async fn third_concurrent_send_times_out_waiting_for_a_slot() {
    let server = ScriptedServer::start(vec![Reply::echo().delay(Duration::from_millis(500))]).await;
    let client = AsapClient::builder(server.url())
        .max_connections_per_host(2)
        .pool_acquire_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let results = join_all((0..3).map(|_| client.send(small_envelope()))).await;

    let ok = results.iter().filter(|r| r.is_ok()).count();
    let timeouts: Vec<_> = results
        .iter()
        .filter_map(|r| match r {
            Err(e @ ClientError::PoolTimeout { after, .. }) => Some((e.to_string(), *after)),
            _ => None,
        })
        .collect();
    assert_eq!(ok, 2);
    assert_eq!(timeouts.len(), 1, "{results:?}");
    assert_eq!(timeouts[0].1, Duration::from_millis(100));
    assert!(
        timeouts[0].0.contains("connection slot"),
        "{}",
        timeouts[0].0
    );
    assert_eq!(server.request_count(), 2, "a pool timeout is not retried");
    assert!(server.connections() <= 2);
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn waiters_get_a_slot_when_one_frees_in_time() {
    let server = ScriptedServer::start(vec![Reply::echo().delay(Duration::from_millis(50))]).await;
    let client = AsapClient::builder(server.url())
        .max_connections_per_host(2)
        .pool_acquire_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let results = join_all((0..6).map(|_| client.send(small_envelope()))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // With HTTP/1.1 each in-flight request needs its own connection: never more than 2
    // were needed at once.
    let requests = server.requests();
    let mut in_flight: Vec<(tokio::time::Instant, i32)> = requests
        .iter()
        .flat_map(|r| [(r.at, 1), (r.at + Duration::from_millis(50), -1)])
        .collect();
    in_flight.sort_by_key(|&(at, delta)| (at, delta));
    let mut current = 0;
    for (_, delta) in in_flight {
        current += delta;
        assert!(current <= 2);
    }
}

#[tokio::test]
async fn pool_sizes_come_from_the_environment_reader() {
    let config = asap_transport_client::ClientConfig::default()
        .with_env(|name| match name {
            "ASAP_POOL_CONNECTIONS" => Some("3".into()),
            "ASAP_POOL_MAXSIZE" => Some("4".into()),
            _ => None,
        })
        .unwrap();
    let client = AsapClient::builder("http://127.0.0.1:1")
        .config(config)
        .build()
        .unwrap();
    assert_eq!(client.config().pool_max_idle_per_host, 3);
    assert_eq!(client.config().max_connections_per_host, 4);
    // Without the variables set, the builder's reader keeps the defaults.
    if std::env::var_os("ASAP_POOL_CONNECTIONS").is_none()
        && std::env::var_os("ASAP_POOL_MAXSIZE").is_none()
    {
        let client = AsapClient::builder("http://127.0.0.1:1")
            .from_env()
            .build()
            .unwrap();
        assert_eq!(client.config().max_connections_per_host, 100);
    }
}
