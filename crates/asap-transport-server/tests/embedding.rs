//! The server as a plain `tower::Service` inside other servers: the `embed_axum` and
//! `embed_hyper` examples' wiring (their code is compiled into this test; the examples
//! themselves are never run), checked over real connections on 127.0.0.1: the host's own
//! routes with their state behind this crate's body and rate limits (413, 429), and the
//! ASAP agent beside them.

use std::net::SocketAddr;
use std::time::Duration;

use asap_model::payload::TaskResponse;
use asap_model::{JsonObject, TaskId, TaskStatus};
use asap_testing::fixtures::{rpc_request, task_request};
use asap_testing::{TestClient, assert_envelope_valid, assert_task_completed};
use asap_transport_server::echo::demo_manifest;
use asap_transport_server::registry::handler_fn;
use asap_transport_server::{AsapServer, ServerConfig};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[path = "../examples/embed_axum.rs"]
#[allow(dead_code, unreachable_pub)]
mod embed_axum;

#[path = "../examples/embed_hyper.rs"]
#[allow(dead_code, unreachable_pub)]
mod embed_hyper;

const AGENT: &str = "urn:asap:agent:default-server";
const CLIENT: &str = "urn:asap:agent:coordinator";

/// A server whose `task.request` handler answers with the peer address it was given, so the
/// tests can see that the embedding passes it on.
fn peer_reporting_server() -> AsapServer {
    let manifest = demo_manifest("http://127.0.0.1/asap");
    AsapServer::builder(manifest)
        .config(ServerConfig::builder().rate_limit(None).build())
        .handler(
            "task.request",
            handler_fn(|request: asap_transport_server::AsapRequest| async move {
                let mut result = JsonObject::new();
                let peer = request.ctx.peer_addr.map(|p| p.to_string());
                result.insert("peer".into(), json!(peer));
                let mut response = request.envelope.response_to(TaskResponse {
                    task_id: TaskId::generate(),
                    status: TaskStatus::Completed,
                    result: Some(result),
                    final_state: None,
                    metrics: None,
                });
                response.sender = AGENT.parse().unwrap();
                Ok(response)
            }),
        )
        .build()
        .unwrap()
}

/// `POST /asap` works and the handler saw a 127.0.0.1 peer.
async fn assert_asap_works(base: &str) {
    let reply = TestClient::new()
        .send_envelope(base, &task_request(CLIENT, AGENT, json!({})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.content_type(), Some("application/json"));
    let envelope = assert_envelope_valid(reply.envelope());
    let response = assert_task_completed(&envelope, None);
    let peer = response.result.unwrap()["peer"].clone();
    let peer: SocketAddr = peer
        .as_str()
        .unwrap_or_else(|| panic!("no peer address reached the handler: {peer}"))
        .parse()
        .unwrap();
    assert!(peer.ip().is_loopback(), "{peer}");
}

/// `n` requests made by `send`, then the next one: all but the last pass, the last is the
/// rate limit's 429 (JSON-RPC shaped, with `Retry-After`).
async fn assert_rate_limited_after<F, Fut>(n: usize, send: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = asap_testing::HttpReply>,
{
    for i in 0..n {
        let reply = send().await;
        assert_eq!(reply.status, 200, "request {i}: {}", reply.text());
    }
    let reply = send().await;
    assert_eq!(reply.status, 429, "{}", reply.text());
    assert!(reply.header("retry-after").is_some());
    assert_eq!(reply.json["error"]["code"], 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_application_with_its_own_routes_state_and_limits() {
    let server = peer_reporting_server();
    let notes = embed_axum::Notes::default();
    let app = embed_axum::app(&server, notes.clone(), &"3/minute".parse().unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await
    });
    let client = TestClient::new();

    // The application's own routes and state.
    let reply = client.get(&format!("{base}/hello")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "hello from the host application\n");
    let reply = client.post(&format!("{base}/notes"), "buy milk", &[]).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text()),
        (200, "1 notes\n".to_owned())
    );
    // Over the body limit: the layer's 413, before the handler, nothing stored.
    let big = "x".repeat(embed_axum::MAX_NOTE_BYTES + 1);
    let reply = client.post(&format!("{base}/notes"), big, &[]).await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(
        reply.json,
        json!({"detail": format!("Request size ({} bytes) exceeds maximum ({} bytes)", embed_axum::MAX_NOTE_BYTES + 1, embed_axum::MAX_NOTE_BYTES)})
    );
    assert_eq!(notes.count(), 1);
    // The 413 came from the body limit, in front of the rate limit, and was not counted:
    // the third own request this minute passes, the fourth is refused (per client IP).
    let list = format!("{base}/notes");
    assert_rate_limited_after(1, || client.get(&list)).await;

    // The ASAP agent, with its own (unlimited) rate and the peer address.
    assert_asap_works(&base).await;
    assert_asap_works(&base).await;
    let reply = client
        .get(&format!("{base}/.well-known/asap/manifest.json"))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["id"], AGENT);
    assert!(reply.header("etag").is_some());
    let reply = client.get(&format!("{base}/asap")).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));
    // JSON-RPC errors and compressed bodies go through unchanged.
    let reply = client.post(&format!("{base}/asap"), "{", &[]).await;
    assert_eq!(reply.rpc_code(), -32700);
    let body = serde_json::to_vec(&rpc_request(&task_request(CLIENT, AGENT, json!({})))).unwrap();
    let gzipped = asap_testing::fixtures::gzip(&body).await;
    let reply = client
        .post(
            &format!("{base}/asap"),
            gzipped,
            &[("content-encoding", "gzip")],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // Other paths are the application's, under its limits: still refused this minute.
    assert_eq!(client.get(&format!("{base}/nope")).await.status, 429);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("axum stops")
        .unwrap()
        .unwrap();
}

/// Mounting only the JSON-RPC endpoint at a path of the host's choosing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asap_service_as_a_single_axum_route() {
    let server = embed_axum::echo_server(
        ServerConfig::builder().rate_limit(None).build(),
        "http://127.0.0.1/asap",
    );
    let app = axum::Router::new().route_service("/asap", server.service());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = TestClient::new();
    let reply = client
        .send_envelope(&base, &task_request(CLIENT, AGENT, json!({"routed": true})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.envelope()["payload"]["result"],
        json!({"echoed": {"routed": true}})
    );
    // Other paths are the host's (axum's empty 404).
    assert_eq!(client.get(&format!("{base}/health")).await.status, 404);
    serving.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_host_with_its_own_routes_and_limits() {
    let server = peer_reporting_server();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(embed_hyper::serve(
        listener,
        server,
        "3/minute".parse().unwrap(),
        async move {
            let _ = stopped.await;
        },
    ));
    let client = TestClient::new();

    // The host's own routes, behind the body limit and the rate limit.
    let reply = client.post(&format!("{base}/echo"), "hi", &[]).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text()),
        (200, "hi".to_owned())
    );
    let big = "x".repeat(embed_hyper::MAX_ECHO_BYTES + 1);
    let reply = client.post(&format!("{base}/echo"), big, &[]).await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(
        reply.json["detail"],
        format!(
            "Request size ({} bytes) exceeds maximum ({} bytes)",
            embed_hyper::MAX_ECHO_BYTES + 1,
            embed_hyper::MAX_ECHO_BYTES
        )
    );
    // One request counted so far this minute (the body limit, in front, answered the 413):
    // two more pass, the fourth is refused.
    let hello = format!("{base}/hello");
    assert_rate_limited_after(2, || client.get(&hello)).await;

    // The ASAP agent beside them.
    assert_asap_works(&base).await;
    for path in ["/health", "/ready"] {
        let reply = client.get(&format!("{base}{path}")).await;
        assert_eq!(
            (reply.status.as_u16(), reply.json.clone()),
            (200, json!({"status": "ok"})),
            "{path}"
        );
    }
    // The auto builder also speaks h2c.
    let reply = TestClient::http2()
        .send_envelope(&base, &task_request(CLIENT, AGENT, json!({})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.envelope()["payload"]["result"]["peer"].is_string());

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("the accept loop stops")
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// The same server served by [`AsapServer::serve_with_shutdown`] gives the handler the
/// peer address too (the reference point for the embeddings above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_accept_loop_passes_the_peer_address() {
    let agent = asap_testing::TestAgent::serve(peer_reporting_server()).await;
    assert_asap_works(&agent.base_url()).await;
    let value: Value = TestClient::new().get(&agent.url("/ready")).await.json;
    assert_eq!(value, json!({"status": "ok"}));
    agent.shutdown().await;
}
