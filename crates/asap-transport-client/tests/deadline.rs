//! The overall deadline of a send and the cap on `Retry-After`.
//!
//! Against servers on 127.0.0.1 in real time, the bounds are generous: each send must end
//! long before [`BOUND`], where the behaviour before the deadline existed would have held
//! it for minutes or an hour. The paused-time tests measure exact waits against the
//! scripted server.

mod common;

use std::time::{Duration, Instant};

use asap_transport_client::{AsapClient, BatchMode, ClientError};
use common::{Reply, ScriptedServer, SilentServer, small_envelope};
use serde_json::json;

/// Upper bound on how long any real-time send here may take.
const BOUND: Duration = Duration::from_secs(5);

fn busy(status: u16, retry_after: &str) -> Reply {
    Reply::json(
        status,
        json!({"jsonrpc": "2.0", "error": {"code": status, "message": "Come back later"}, "id": null}),
    )
    .header("retry-after", retry_after)
}

/// Runs `send`, asserting it ends within [`BOUND`]; returns its result and duration.
async fn timed<T>(send: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let result = tokio::time::timeout(BOUND, send)
        .await
        .expect("the send ended within the bound");
    (result, start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_beyond_the_cap_ends_the_send_with_the_hint() {
    for status in [429u16, 503] {
        let server = ScriptedServer::start(vec![busy(status, "3600")]).await;
        // Default cap: max_delay (60 s); default deadline 60 s.
        let client = AsapClient::builder(server.url()).build().unwrap();
        let (result, _) = timed(client.send(small_envelope())).await;
        let error = result.unwrap_err();
        assert_eq!(server.request_count(), 1, "HTTP {status}: not retried");
        assert!(
            matches!(
                &error,
                ClientError::Connection { status: Some(s), retry_after: Some(hint), .. }
                    if *s == status && *hint == Duration::from_secs(3600)
            ),
            "{error:?}"
        );
        assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("HTTP error {status}: ")),
            "{message}"
        );
        assert!(
            message
                .contains("the server asked to retry after 3600s, longer than max_retry_after 60s"),
            "{message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_past_the_deadline_is_not_started() {
    // Retry-After under the cap (60 s) but past the deadline.
    let server = ScriptedServer::start(vec![busy(429, "40")]).await;
    let client = AsapClient::builder(server.url())
        .deadline(Duration::from_secs(30))
        .build()
        .unwrap();
    let (result, elapsed) = timed(client.send(small_envelope())).await;
    let error = result.unwrap_err();
    assert_eq!(server.request_count(), 1);
    let ClientError::DeadlineExceeded {
        deadline,
        elapsed: reported,
        attempts,
        retry_after,
        last_error,
    } = &error
    else {
        panic!("expected the deadline error, got {error:?}");
    };
    assert_eq!(*deadline, Duration::from_secs(30));
    assert!(*reported <= elapsed);
    assert_eq!(*attempts, 1);
    assert_eq!(*retry_after, Some(Duration::from_secs(40)));
    let last = last_error.as_deref().expect("the 429 is kept");
    assert_eq!(last.status(), Some(429));
    assert_eq!(last.retry_after(), Some(Duration::from_secs(40)));
    let message = error.to_string();
    assert!(
        message.starts_with("Send deadline of 30s ran out after 1 attempt ("),
        "{message}"
    );
    assert!(
        message.ends_with("no time left for the next one); the server asked to retry after 40s"),
        "{message}"
    );

    // The same for a backoff longer than what is left.
    let server = ScriptedServer::start(vec![Reply::status(502, "bad gateway")]).await;
    let client = AsapClient::builder(server.url())
        .base_delay(Duration::from_secs(20))
        .deadline(Duration::from_secs(10))
        .build()
        .unwrap();
    let (result, _) = timed(client.send(small_envelope())).await;
    let error = result.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::DeadlineExceeded { attempts: 1, retry_after: None, last_error: Some(last), .. }
                if last.status() == Some(502)
        ),
        "{error:?}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_costs_the_deadline() {
    let server = SilentServer::start().await;
    // Per-attempt timeout 60 s and 3 attempts: minutes without the deadline.
    let client = AsapClient::builder(server.url())
        .deadline(Duration::from_millis(500))
        .build()
        .unwrap();
    let (result, elapsed) = timed(client.send(small_envelope())).await;
    let error = result.unwrap_err();
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    assert!(
        matches!(
            &error,
            ClientError::DeadlineExceeded {
                deadline,
                attempts: 1,
                retry_after: None,
                last_error: None,
                ..
            } if *deadline == Duration::from_millis(500)
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("Send deadline of 0.5s ran out after 1 attempt ("),
        "{error}"
    );
    assert!(std::error::Error::source(&error).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_that_time_out_are_retried_within_the_deadline() {
    let server = SilentServer::start().await;
    let client = AsapClient::builder(server.url())
        .timeout(Duration::from_millis(100))
        .base_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(50))
        .jitter(false)
        .max_retries(1000)
        .deadline(Duration::from_millis(1500))
        .build()
        .unwrap();
    let (result, elapsed) = timed(client.send(small_envelope())).await;
    let error = result.unwrap_err();
    assert!(elapsed >= Duration::from_millis(1400), "{elapsed:?}");
    match &error {
        ClientError::DeadlineExceeded {
            attempts,
            last_error,
            ..
        } => {
            // At most one attempt per 150 ms fits; at least the first one timed out.
            assert!((2..=10).contains(attempts), "{attempts} attempts");
            assert_eq!(
                last_error.as_deref(),
                Some(&ClientError::Timeout {
                    after: Duration::from_millis(100)
                })
            );
        }
        other => panic!("expected the deadline error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_envelope_of_a_batch_has_its_own_deadline() {
    let server = SilentServer::start().await;
    let client = AsapClient::builder(server.url())
        .deadline(Duration::from_millis(400))
        .batch_concurrency(2)
        .build()
        .unwrap();
    let batch = vec![small_envelope(); 4];
    let (results, elapsed) = timed(client.send_batch(batch.clone(), BatchMode::CollectAll)).await;
    let results = results.unwrap();
    assert_eq!(results.len(), 4);
    for result in &results {
        assert!(
            matches!(
                result,
                Err(ClientError::DeadlineExceeded { attempts: 1, .. })
            ),
            "{result:?}"
        );
    }
    // Two rounds of two: the queued sends' deadlines start when they do.
    assert!(elapsed >= Duration::from_millis(800), "{elapsed:?}");

    let (result, _) = timed(client.send_batch(batch, BatchMode::FailFast)).await;
    assert!(
        matches!(result, Err(ClientError::DeadlineExceeded { .. })),
        "{result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_cuts_retries_and_no_deadline_lifts_it() {
    let hanging = || Reply::echo().delay(Duration::from_secs(120));
    let server = ScriptedServer::start(vec![hanging()]).await;
    let builder = || {
        AsapClient::builder(server.url())
            .timeout(Duration::from_secs(30))
            .jitter(false)
    };

    // Default deadline 60 s: the first attempt times out at 30 s, the second starts after
    // the 1 s backoff and is cut at 60 s.
    let start = tokio::time::Instant::now();
    let error = builder()
        .build()
        .unwrap()
        .send(small_envelope())
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert_eq!(
        error,
        ClientError::DeadlineExceeded {
            deadline: Duration::from_secs(60),
            elapsed: Duration::from_secs(60),
            attempts: 2,
            retry_after: None,
            last_error: Some(Box::new(ClientError::Timeout {
                after: Duration::from_secs(30)
            })),
        }
    );
    assert_eq!(server.request_count(), 2);

    // Without a deadline: three attempts of 30 s and backoffs of 1 s and 2 s.
    let start = tokio::time::Instant::now();
    let error = builder()
        .no_deadline()
        .build()
        .unwrap()
        .send(small_envelope())
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(93));
    assert_eq!(
        error,
        ClientError::Timeout {
            after: Duration::from_secs(30)
        }
    );
    assert_eq!(server.request_count(), 2 + 3);
}

#[test]
fn a_zero_deadline_is_refused() {
    let error = AsapClient::builder("http://127.0.0.1:9")
        .deadline(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid client configuration: deadline must be positive"
    );
}
