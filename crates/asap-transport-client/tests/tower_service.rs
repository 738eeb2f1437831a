//! The client as a `tower::Service<Envelope>`, wrapped by tower middleware.

mod common;

use std::time::Duration;

use asap_testing::TestAgent;
use asap_transport_client::{AsapClient, ClientError};
use common::{Reply, ScriptedServer, SilentServer, echoed, envelope, small_envelope};
use futures_util::future::join_all;
use serde_json::json;
use tower::{BoxError, ServiceBuilder, ServiceExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_and_concurrency_limit_wrap_the_client() {
    let agent = TestAgent::echo().await;
    let client = AsapClient::builder(agent.base_url()).build().unwrap();
    let service = ServiceBuilder::new()
        .timeout(Duration::from_secs(10))
        .concurrency_limit(4)
        .service(client);
    let calls = (0..12).map(|i| service.clone().oneshot(envelope(json!({"i": i}))));
    for (i, result) in join_all(calls).await.into_iter().enumerate() {
        let reply = result.unwrap();
        assert_eq!(echoed(&reply)["i"], i);
    }
}

#[tokio::test(start_paused = true)]
async fn tower_timeout_cuts_a_slow_send() {
    let server = ScriptedServer::start(vec![Reply::echo().delay(Duration::from_secs(30))]).await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let service = ServiceBuilder::new()
        .timeout(Duration::from_secs(1))
        .service(client);
    let error: BoxError = service.oneshot(small_envelope()).await.unwrap_err();
    assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
}

#[tokio::test(start_paused = true)]
async fn client_errors_come_through_unchanged() {
    let server = ScriptedServer::start(vec![Reply::rpc_error(-32601, "Method not found")]).await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let error = ServiceBuilder::new()
        .concurrency_limit(1)
        .service(client.clone())
        .oneshot(small_envelope())
        .await
        .unwrap_err();
    assert_eq!(error.rpc_code(), Some(-32601));

    // Unwrapped, the error type is ClientError itself.
    let error: ClientError = client.oneshot(small_envelope()).await.unwrap_err();
    assert_eq!(error.rpc_code(), Some(-32601));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_deadline_holds_for_service_calls() {
    let server = SilentServer::start().await;
    let client = AsapClient::builder(server.url())
        .deadline(Duration::from_millis(300))
        .build()
        .unwrap();
    let call = client.oneshot(small_envelope());
    let error = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ended within the bound")
        .unwrap_err();
    assert!(
        matches!(error, ClientError::DeadlineExceeded { attempts: 1, .. }),
        "{error:?}"
    );
}
