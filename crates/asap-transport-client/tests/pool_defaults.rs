//! The default pool is the one docs/adr/0004-client-pool-size.md recommends: 100 requests in
//! flight per host (HTTP/1.1: 100 connections; h2: the streams a default server allows on one
//! connection), 100 idle connections kept, and `send_batch` as wide as the pool.

use std::time::Duration;

use asap_transport_client::{AsapClient, ClientConfig};

#[test]
fn a_built_client_uses_the_recommended_pool() {
    let client = AsapClient::builder("http://127.0.0.1:8000")
        .build()
        .unwrap();
    let config = client.config();
    assert_eq!(config.max_connections_per_host, 100);
    assert_eq!(config.pool_max_idle_per_host, 100);
    assert_eq!(config.pool_idle_timeout, Some(Duration::from_secs(5)));
    assert_eq!(config.pool_acquire_timeout, Duration::from_secs(5));
    assert_eq!(
        config.batch_concurrency, None,
        "a batch is as wide as the pool"
    );
    assert_eq!(config, &ClientConfig::default());
}

#[test]
fn the_pool_can_be_sized_for_a_wider_batch() {
    let client = AsapClient::builder("http://127.0.0.1:8000")
        .max_connections_per_host(1_000)
        .pool_max_idle_per_host(1_000)
        .build()
        .unwrap();
    assert_eq!(client.config().max_connections_per_host, 1_000);
    assert_eq!(client.config().pool_max_idle_per_host, 1_000);
}
