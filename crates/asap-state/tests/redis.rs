//! The Redis backend against the conformance suite, shared between two store instances (the
//! replica case), and unreachable. Needs `ASAP_TEST_REDIS_URL` (`.ci/run` starts a
//! server): skipped without it, failed under `CI=true`.
#![cfg(all(feature = "redis", feature = "conformance"))]

use std::time::Duration;

use asap_state::redis::{RedisOptions, RedisStore};
use asap_state::{ErrorKind, NonceStore, Ping, conformance};

/// A store under a prefix of its own, so runs never see each other's keys.
fn store(url: &str, prefix: &str) -> RedisStore {
    RedisOptions::new(url)
        .prefix(prefix)
        .open()
        .expect("open the Redis store")
}

fn fresh_prefix() -> String {
    format!("asap-test:{}:", asap_model::ids::new_ulid())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_passes_the_conformance_suite() {
    let Some(url) = asap_testing::services::require_redis() else {
        return;
    };
    let store = store(&url, &fresh_prefix());
    conformance::ping(&store).await;
    conformance::nonce_store(&store).await;
    conformance::rate_limit_store(&store).await;
    conformance::idempotency_store(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_marked_through_one_instance_is_refused_through_another() {
    let Some(url) = asap_testing::services::require_redis() else {
        return;
    };
    let prefix = fresh_prefix();
    let (first, second) = (store(&url, &prefix), store(&url, &prefix));
    let ttl = Duration::from_secs(60);
    assert!(first.check_and_mark("n-1", ttl).await.expect("first"));
    assert!(!second.check_and_mark("n-1", ttl).await.expect("second"));
    assert!(
        second
            .check_and_mark("n-2", ttl)
            .await
            .expect("second, new")
    );
    assert!(
        !first
            .check_and_mark("n-2", ttl)
            .await
            .expect("first, replay")
    );
    // Another prefix is another store.
    let other = store(&url, &fresh_prefix());
    assert!(
        other
            .check_and_mark("n-1", ttl)
            .await
            .expect("other prefix")
    );
}

#[tokio::test]
async fn ping_reports_unavailable_when_the_server_is_unreachable() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let store = RedisOptions::new(format!("redis://127.0.0.1:{port}/"))
        .timeout(Duration::from_millis(500))
        .open()
        .expect("a store opens while the server is down");
    let err = store.ping().await.expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let err = store
        .check_and_mark("n", Duration::from_secs(1))
        .await
        .expect_err("a nonce is never let through unchecked");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}

#[test]
fn a_malformed_url_is_refused() {
    let err = RedisStore::open("http://nowhere").expect_err("not a Redis URL");
    assert_eq!(err.kind(), ErrorKind::Other);
}
