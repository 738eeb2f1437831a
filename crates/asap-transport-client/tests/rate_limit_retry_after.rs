//! HTTP 429, 503 and `Retry-After` (PROTOCOL §12.2) and its cap, in paused time.

mod common;

use std::time::{Duration, SystemTime};

use asap_transport_client::{AsapClient, ClientError};
use common::{Reply, ScriptedServer, small_envelope};
use serde_json::json;

fn rate_limited() -> Reply {
    Reply::json(
        429,
        json!({"jsonrpc": "2.0", "error": {"code": 429, "message": "Rate limit exceeded",
               "data": {"retry_after": 60, "limit": "10 per 1 second"}}, "id": null}),
    )
}

fn client(url: &str) -> AsapClient {
    AsapClient::builder(url)
        .max_retries(3)
        .base_delay(Duration::from_secs(1))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let server = ScriptedServer::start(vec![
        rate_limited().header("retry-after", "7"),
        Reply::echo(),
    ])
    .await;
    client(&server.url()).send(small_envelope()).await.unwrap();
    let r = server.requests();
    assert_eq!(r.len(), 2);
    assert_eq!(
        r[1].at - r[0].at,
        Duration::from_secs(7),
        "not the 1 s backoff"
    );
    assert_eq!(r[0].idempotency_key(), r[1].idempotency_key());
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_honoured() {
    // HTTP-dates have one-second resolution and are compared with the wall clock.
    let at = SystemTime::now() + Duration::from_secs(6);
    let date = httpdate::fmt_http_date(at);
    let server = ScriptedServer::start(vec![
        rate_limited().header("retry-after", &date),
        Reply::echo(),
    ])
    .await;
    client(&server.url()).send(small_envelope()).await.unwrap();
    let r = server.requests();
    let gap = r[1].at - r[0].at;
    assert!(
        gap > Duration::from_secs(4) && gap <= Duration::from_secs(6),
        "waited {gap:?} for {date}"
    );
}

#[tokio::test(start_paused = true)]
async fn missing_or_unusable_retry_after_falls_back_to_backoff() {
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
    let server = ScriptedServer::start(vec![
        rate_limited(),
        rate_limited().header("retry-after", &past),
        Reply::echo(),
    ])
    .await;
    client(&server.url()).send(small_envelope()).await.unwrap();
    let r = server.requests();
    let first = r[1].at - r[0].at;
    let second = r[2].at - r[1].at;
    assert!(
        first >= Duration::from_secs(1) && first <= Duration::from_millis(1100),
        "{first:?}"
    );
    assert!(
        second >= Duration::from_secs(2) && second <= Duration::from_millis(2200),
        "{second:?}"
    );

    for garbage in ["soon", "0", "-5"] {
        let server = ScriptedServer::start(vec![
            rate_limited().header("retry-after", garbage),
            Reply::echo(),
        ])
        .await;
        client(&server.url()).send(small_envelope()).await.unwrap();
        let r = server.requests();
        let gap = r[1].at - r[0].at;
        assert!(
            gap >= Duration::from_secs(1) && gap <= Duration::from_millis(1100),
            "{garbage}: {gap:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limit_on_the_last_attempt_is_a_connection_error() {
    let server = ScriptedServer::start(vec![rate_limited().header("retry-after", "2")]).await;
    let start = tokio::time::Instant::now();
    let error = client(&server.url())
        .send(small_envelope())
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 3);
    assert!(
        matches!(
            error,
            ClientError::Connection {
                status: Some(429),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("Rate limit exceeded"), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    assert!(
        error
            .to_string()
            .ends_with("(the server asked to retry after 2s)"),
        "{error}"
    );
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(4),
        "two waits of 2 s, none after the last"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_on_503_is_honoured_too() {
    let server = ScriptedServer::start(vec![
        Reply::status(503, "maintenance").header("retry-after", "5"),
        Reply::echo(),
    ])
    .await;
    client(&server.url()).send(small_envelope()).await.unwrap();
    let r = server.requests();
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].at - r[0].at, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn the_cap_follows_max_delay_and_can_be_raised() {
    let server = ScriptedServer::start(vec![
        rate_limited().header("retry-after", "7"),
        Reply::echo(),
    ])
    .await;
    // A 5 s max_delay caps Retry-After at 5 s: a 7 s hint ends the send at once.
    let start = tokio::time::Instant::now();
    let error = AsapClient::builder(server.url())
        .max_delay(Duration::from_secs(5))
        .build()
        .unwrap()
        .send(small_envelope())
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO, "no wait at all");
    assert_eq!(server.request_count(), 1);
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert!(
        error.to_string().ends_with(
            "(the server asked to retry after 7s, longer than max_retry_after 5s: not retried)"
        ),
        "{error}"
    );

    // Raised to 10 s, the same hint is waited for.
    server.set_script(vec![
        rate_limited().header("retry-after", "7"),
        Reply::echo(),
    ]);
    AsapClient::builder(server.url())
        .max_delay(Duration::from_secs(5))
        .max_retry_after(Duration::from_secs(10))
        .build()
        .unwrap()
        .send(small_envelope())
        .await
        .unwrap();
    let r = server.requests();
    assert_eq!(r.len(), 3);
    assert_eq!(r[2].at - r[1].at, Duration::from_secs(7));
}
