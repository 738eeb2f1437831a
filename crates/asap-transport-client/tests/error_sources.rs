//! What a failed send says about itself: the kind queries (`is_connect`, `is_timeout`,
//! `is_status`, `is_remote`, `is_decode`) and the underlying error as the source.

mod common;

use std::error::Error;
use std::io;
use std::time::Duration;

use asap_transport_client::{AsapClient, ClientError};
use common::{Reply, ScriptedServer, SilentServer, large_envelope, small_envelope};
use tokio::net::TcpListener;

/// Client errors can be stored, cloned and sent across threads.
const _: () = {
    const fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<ClientError>();
};

/// The error's sources, in order.
fn chain(error: &ClientError) -> Vec<&(dyn Error + 'static)> {
    std::iter::successors(error.source(), |&e| e.source()).collect()
}

fn single_attempt(url: &str) -> AsapClient {
    AsapClient::builder(url).max_retries(1).build().unwrap()
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_with_its_io_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);

    let error = single_attempt(&url)
        .send(small_envelope())
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(!error.is_timeout() && !error.is_status() && !error.is_remote());
    assert_eq!(error.status(), None);
    assert!(error.to_string().starts_with("Connection error"), "{error}");

    let sources = chain(&error);
    let first = sources.first().expect("a source");
    let hyper_error = first
        .downcast_ref::<hyper_util::client::legacy::Error>()
        .expect("the first source is hyper-util's error itself, not a wrapper");
    assert!(hyper_error.is_connect());
    let refused = sources
        .iter()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::ConnectionRefused);
    assert!(refused, "an io::Error ConnectionRefused in {sources:?}");

    // Clones share the source and compare equal.
    let clone = error.clone();
    assert_eq!(clone, error);
    assert!(clone.is_connect());
    let from_thread = std::thread::spawn(move || clone.to_string())
        .join()
        .unwrap();
    assert_eq!(from_thread, error.to_string());
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    let server = SilentServer::start().await;
    let client = AsapClient::builder(server.url())
        .timeout(Duration::from_millis(100))
        .max_retries(1)
        .build()
        .unwrap();
    let error = client.send(small_envelope()).await.unwrap_err();
    assert_eq!(
        error,
        ClientError::Timeout {
            after: Duration::from_millis(100)
        }
    );
    assert!(error.is_timeout());
    assert!(!error.is_connect(), "the connection was established");
    assert!(error.source().is_none());

    // The overall deadline running out is a timeout too; its source is the last attempt's
    // error.
    let client = AsapClient::builder(server.url())
        .timeout(Duration::from_millis(100))
        .base_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(10))
        .max_retries(100)
        .deadline(Duration::from_millis(250))
        .build()
        .unwrap();
    let error = client.send(small_envelope()).await.unwrap_err();
    assert!(
        matches!(error, ClientError::DeadlineExceeded { .. }),
        "{error:?}"
    );
    assert!(error.is_timeout());
    let last = error.source().expect("the last attempt's error");
    let last = last.downcast_ref::<ClientError>().expect("a ClientError");
    assert!(last.is_timeout(), "{last:?}");
}

#[tokio::test(start_paused = true)]
async fn an_http_error_status_is_a_status_error_without_source() {
    let server = ScriptedServer::start(vec![Reply::status(500, "boom")]).await;
    let error = single_attempt(&server.url())
        .send(small_envelope())
        .await
        .unwrap_err();
    assert!(error.is_status(), "{error:?}");
    assert_eq!(error.status(), Some(500));
    assert!(!error.is_connect() && !error.is_timeout() && !error.is_remote());
    assert_eq!(error.to_string(), "HTTP error 500: boom");
    assert!(
        error.source().is_none(),
        "the server answered: nothing underneath"
    );
}

#[tokio::test(start_paused = true)]
async fn a_json_rpc_error_is_remote() {
    let server = ScriptedServer::start(vec![Reply::rpc_error(-32601, "Method not found")]).await;
    let error = single_attempt(&server.url())
        .send(small_envelope())
        .await
        .unwrap_err();
    assert!(error.is_remote(), "{error:?}");
    assert_eq!(error.rpc_code(), Some(-32601));
    assert!(!error.is_status() && !error.is_connect() && !error.is_decode());
    assert_eq!(error.to_string(), "JSON-RPC error -32601: Method not found");
}

#[tokio::test(start_paused = true)]
async fn an_oversized_body_is_a_decode_error_with_the_limit_as_source() {
    let server = ScriptedServer::start(vec![Reply::echo()]).await;
    let client = AsapClient::builder(server.url())
        .max_response_size(512)
        .max_retries(1)
        .build()
        .unwrap();
    let error = client.send(large_envelope()).await.unwrap_err();
    assert!(error.is_decode(), "{error:?}");
    assert!(!error.is_connect() && !error.is_remote());
    let limit = chain(&error).iter().any(|e| {
        e.downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
    });
    assert!(limit, "{error:?}");
}

#[test]
fn an_unparsable_url_keeps_the_parser_error() {
    let error = AsapClient::builder("http://exa mple").build().unwrap_err();
    assert!(error.is_builder(), "{error:?}");
    assert!(
        error
            .source()
            .is_some_and(|e| e.downcast_ref::<http::uri::InvalidUri>().is_some()),
        "{error:?}"
    );
}
