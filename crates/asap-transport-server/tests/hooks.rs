//! Builder hooks: user middleware at the HTTP level and at the envelope level, in process.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use asap_model::Envelope;
use asap_testing::fixtures::{rpc_request, task_request};
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::{
    AsapRequest, AsapServer, AsapServerBuilder, Rejection, ServerBody, ServerConfig,
};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tower::util::MapResponseLayer;
use tower::{Service, ServiceExt};

const AGENT: &str = "urn:asap:agent:default-server";

fn builder() -> AsapServerBuilder {
    let manifest = demo_manifest("http://127.0.0.1/asap");
    AsapServer::builder(manifest.clone())
        .config(ServerConfig::builder().rate_limit(None).build())
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
}

fn post(envelope: &Value) -> Request<Full<Bytes>> {
    let body = serde_json::to_vec(&rpc_request(envelope)).unwrap();
    Request::post("/asap")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn json_of(response: Response<ServerBody>) -> Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// Records the sender of every envelope it passes on.
#[derive(Clone)]
struct Recorder<S> {
    inner: S,
    seen: Arc<Mutex<Vec<String>>>,
}

impl<S> Service<AsapRequest> for Recorder<S>
where
    S: Service<AsapRequest, Response = Envelope, Error = Rejection>,
{
    type Response = Envelope;
    type Error = Rejection;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: AsapRequest) -> Self::Future {
        self.seen
            .lock()
            .unwrap()
            .push(request.envelope.sender.to_string());
        self.inner.call(request)
    }
}

#[tokio::test]
async fn envelope_hook_sees_accepted_envelopes_only() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let server = builder()
        .envelope_layer(tower::layer::layer_fn(move |inner| Recorder {
            inner,
            seen: Arc::clone(&recorded),
        }))
        .build()
        .unwrap();
    let service = server.service();

    let reply = json_of(
        service
            .clone()
            .oneshot(post(&task_request(
                "urn:asap:agent:alice",
                AGENT,
                json!({}),
            )))
            .await
            .unwrap(),
    )
    .await;
    assert!(reply["result"]["envelope"].is_object(), "{reply}");

    // Refused by the timestamp window, before the hook.
    let mut stale = task_request("urn:asap:agent:bob", AGENT, json!({}));
    stale["timestamp"] = json!("2020-01-01T00:00:00Z");
    let reply = json_of(service.oneshot(post(&stale)).await.unwrap()).await;
    assert_eq!(reply["error"]["code"], -32602, "{reply}");

    assert_eq!(*seen.lock().unwrap(), ["urn:asap:agent:alice"]);
}

/// A hook may answer instead of the handler (what an idempotency cache does).
#[tokio::test]
async fn envelope_hook_can_answer_by_itself() {
    let server = builder()
        .envelope_layer(tower::layer::layer_fn(|_inner| {
            tower::service_fn(|request: AsapRequest| async move {
                let _ = request;
                Err::<Envelope, _>(Rejection::http(StatusCode::CONFLICT, "seen before"))
            })
        }))
        .build()
        .unwrap();
    let response = server
        .service()
        .oneshot(post(&task_request(
            "urn:asap:agent:alice",
            AGENT,
            json!({}),
        )))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(json_of(response).await, json!({"detail": "seen before"}));
}

#[tokio::test]
async fn http_hooks_wrap_every_route_in_order() {
    let tag = |value: &'static str| {
        MapResponseLayer::new(move |mut response: Response<ServerBody>| {
            response
                .headers_mut()
                .append("x-layers", HeaderValue::from_static(value));
            response
        })
    };
    // The later layer wraps the earlier one, so its header is appended last.
    let server = builder()
        .layer(tag("first"))
        .layer(tag("second"))
        .build()
        .unwrap();
    let service = server.service();
    for request in [
        Request::get("/health").body(Full::default()).unwrap(),
        post(&task_request("urn:asap:agent:alice", AGENT, json!({}))),
    ] {
        let response = service.clone().oneshot(request).await.unwrap();
        let layers: Vec<_> = response
            .headers()
            .get_all("x-layers")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(layers, ["first", "second"]);
    }
    // The readiness handle is the server's, whatever wraps the service.
    assert!(!server.readiness().is_ready());
}

/// The router delegates `poll_ready` down to the envelope level: a hook that is not ready
/// makes the whole service not ready.
#[tokio::test]
async fn readiness_of_an_envelope_hook_reaches_the_top() {
    #[derive(Clone)]
    struct NeverReady;
    impl Service<AsapRequest> for NeverReady {
        type Response = Envelope;
        type Error = Rejection;
        type Future = std::future::Ready<Result<Envelope, Rejection>>;
        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
            Poll::Pending
        }
        fn call(&mut self, _request: AsapRequest) -> Self::Future {
            unreachable!("never ready")
        }
    }
    let server = builder()
        .envelope_layer(tower::layer::layer_fn(|_inner| NeverReady))
        .build()
        .unwrap();
    let mut service = server.service();
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(<_ as Service<Request<Full<Bytes>>>>::poll_ready(&mut service, &mut cx).is_pending());
    let mut plain = builder().build().unwrap().service();
    assert!(<_ as Service<Request<Full<Bytes>>>>::poll_ready(&mut plain, &mut cx).is_ready());
}
