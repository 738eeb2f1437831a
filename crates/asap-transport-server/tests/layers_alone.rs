//! Each layer works on its own, around a trivial inner service, driven with
//! `tower::ServiceExt::oneshot` (no server, no sockets): body limit, decompression,
//! authentication, sender match, dispatch, the JSON-RPC endpoint, and a hand-made stack.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use asap_codec::rpc::RpcError;
use asap_model::payload::TaskResponse;
use asap_model::{AgentUrn, AuthScheme, Envelope, JsonObject, TaskId, TaskStatus};
use asap_testing::fixtures::{gzip, gzip_bomb, rpc_request, task_request};
use asap_transport_server::layers::auth::{AuthLayer, SenderMatchLayer, StaticTokens};
use asap_transport_server::layers::body_limit::{BodyLimit, BodyLimitLayer, BodyTooLarge};
use asap_transport_server::layers::decompression::DecompressionLayer;
use asap_transport_server::registry::{BlockingPool, BoxError, HandlerRegistry, handler_fn};
use asap_transport_server::{
    AsapRequest, Dispatch, Envelopes, HandlerError, Rejection, RequestContext, RpcCall,
    RpcEndpoint, response,
};
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody};
use serde_json::{Value, json};
use tower::{Layer, ServiceBuilder, ServiceExt, service_fn};

type Reply = Response<response::Body>;

async fn body_of<B>(response: Response<B>) -> (StatusCode, Value)
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn post(body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let body = body.into();
    Request::post("/asap")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Full::new(body))
        .unwrap()
}

/// An inner service that reads its whole body and answers `{"len": n}`, or the body error.
async fn read_body<B>(request: Request<B>) -> Result<Reply, Infallible>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    match request.into_body().collect().await {
        Ok(collected) => {
            let len = collected.to_bytes().len();
            Ok(response::json(
                StatusCode::OK,
                json!({"len": len}).to_string(),
            ))
        }
        Err(error) => {
            let error: BoxError = error.into();
            let too_large = error.downcast_ref::<BodyTooLarge>().copied();
            Ok(response::json(
                StatusCode::IM_A_TEAPOT,
                json!({"too_large": too_large.map(|t| (t.received, t.limit))}).to_string(),
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn body_limit_alone() {
    let called = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&called);
    let limited = BodyLimit::new(
        service_fn(move |request| {
            seen.store(true, Ordering::SeqCst);
            read_body(request)
        }),
        10,
    );

    // Declared over the limit: 413 at once, the inner service never runs.
    let response = limited.clone().oneshot(post("12345678901")).await.unwrap();
    assert_eq!(
        body_of(response).await,
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"detail": "Request size (11 bytes) exceeds maximum (10 bytes)"})
        )
    );
    assert!(!called.load(Ordering::SeqCst));

    // Exactly the limit passes.
    let response = limited.clone().oneshot(post("1234567890")).await.unwrap();
    assert_eq!(
        body_of(response).await,
        (StatusCode::OK, json!({"len": 10}))
    );
    assert!(called.load(Ordering::SeqCst));

    // A streamed body without Content-Length fails while being read, past the limit.
    let chunks = futures_util::stream::iter(
        ["12345", "67890", "12345"]
            .map(|c| Ok::<_, Infallible>(http_body::Frame::data(Bytes::from(c)))),
    );
    let request = Request::post("/asap")
        .body(StreamBody::new(chunks))
        .unwrap();
    let response = BodyLimit::new(service_fn(read_body), 10)
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(
        body_of(response).await,
        (StatusCode::IM_A_TEAPOT, json!({"too_large": [15, 10]}))
    );
    // Its display is the 413 detail.
    assert_eq!(
        BodyTooLarge {
            received: 15,
            limit: 10
        }
        .to_string(),
        "Request size (15 bytes) exceeds maximum (10 bytes)"
    );
}

/// An inner service that reads its body as the endpoint does: the plain bytes, or the
/// answer [`Rejection::from_body_error`] gives to the body's error.
async fn read_plain<B>(request: Request<B>) -> Result<Reply, Infallible>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let encoding = request.headers().get(header::CONTENT_ENCODING).cloned();
    let length = request.headers().get(header::CONTENT_LENGTH).cloned();
    match request.into_body().collect().await {
        Ok(collected) => Ok(response::json(
            StatusCode::OK,
            json!({
                "encoding": encoding.map(|e| e.to_str().unwrap().to_owned()),
                "length": length.map(|l| l.to_str().unwrap().to_owned()),
                "body": String::from_utf8_lossy(&collected.to_bytes()),
            })
            .to_string(),
        )),
        Err(error) => Ok(Rejection::from_body_error(error.into()).into_response(None)),
    }
}

#[tokio::test]
async fn decompression_alone() {
    // The inner service reads the plain body; Content-Encoding and the (compressed)
    // Content-Length are gone.
    let limit = 64 * 1024;
    let service = DecompressionLayer::new(limit).layer(service_fn(read_plain));
    let with_encoding = |body: Vec<u8>, encoding: &str| {
        Request::post("/asap")
            .header(header::CONTENT_ENCODING, encoding)
            .header(header::CONTENT_LENGTH, body.len())
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };

    let plain = br#"{"hello":"world"}"#.to_vec();
    let response = service
        .clone()
        .oneshot(with_encoding(gzip(&plain).await, "gzip"))
        .await
        .unwrap();
    assert_eq!(
        body_of(response).await,
        (
            StatusCode::OK,
            json!({"encoding": null, "length": null, "body": r#"{"hello":"world"}"#})
        )
    );

    // identity: passed through, length kept.
    let response = service
        .clone()
        .oneshot(with_encoding(plain.clone(), "identity"))
        .await
        .unwrap();
    assert_eq!(
        body_of(response).await,
        (
            StatusCode::OK,
            json!({"encoding": null, "length": plain.len().to_string(), "body": r#"{"hello":"world"}"#})
        )
    );

    // An unknown coding is refused by the layer itself, before the inner service.
    let response = service
        .clone()
        .oneshot(with_encoding(plain.clone(), "deflate"))
        .await
        .unwrap();
    assert_eq!(
        body_of(response).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"detail": "Unsupported Content-Encoding: deflate. Supported: br, gzip"})
        )
    );

    // Corrupt data and bombs are errors of the body stream, answered by its reader.
    let response = service
        .clone()
        .oneshot(with_encoding(plain.clone(), "gzip"))
        .await
        .unwrap();
    let (status, body) = body_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Invalid compressed data: ")
    );

    let bomb = gzip_bomb(8 * 1024 * 1024).await;
    let response = service.oneshot(with_encoding(bomb, "gzip")).await.unwrap();
    assert_eq!(
        body_of(response).await,
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"detail": format!("Decompressed request size ({} bytes) exceeds maximum ({limit} bytes)", limit + 1)})
        )
    );
}

/// The received size answers before the decoding (PROTOCOL §10.3): a streamed body that is
/// both corrupt from its first bytes and longer than the limit gets the body limit's 413,
/// not the decoder's 400, though the decoder failed first.
#[tokio::test]
async fn received_size_answers_before_corrupt_data() {
    let stack = ServiceBuilder::new()
        .layer(BodyLimitLayer::new(1024))
        .layer(DecompressionLayer::new(1024))
        .service(service_fn(read_plain));
    let streamed = |chunks: usize| {
        let frames =
            futures_util::stream::iter((0..chunks).map(|_| {
                Ok::<_, Infallible>(http_body::Frame::data(Bytes::from(vec![b'x'; 512])))
            }));
        Request::post("/asap")
            .header(header::CONTENT_ENCODING, "gzip")
            .body(StreamBody::new(frames))
            .unwrap()
    };
    let (status, body) = body_of(stack.clone().oneshot(streamed(4)).await.unwrap()).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"detail": "Request size (1536 bytes) exceeds maximum (1024 bytes)"})
        )
    );
    // Within the limit, the corrupt data are what is wrong.
    let (status, body) = body_of(stack.oneshot(streamed(2)).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn auth_alone_refuses_or_records_the_identity() {
    let client: AgentUrn = "urn:asap:agent:client".parse().unwrap();
    let bearer = AuthScheme {
        schemes: vec!["bearer".into()],
        oauth2: None,
    };
    // An RPC-level inner service that reports the identity it was given.
    let report = service_fn(|call: RpcCall| async move {
        Ok::<_, Rejection>(call.ctx.identity.map(|agent| agent.to_string()))
    });
    let service =
        AuthLayer::new(StaticTokens::new().with("s3cret", client.clone()), &bearer).layer(report);
    let with_auth = |value: Option<&str>| {
        let mut headers = http::HeaderMap::new();
        if let Some(value) = value {
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        }
        RpcCall::new(
            Ok(task("urn:asap:agent:client")),
            RequestContext::new(headers),
        )
    };
    let reply = service
        .clone()
        .oneshot(with_auth(Some("Bearer s3cret")))
        .await
        .unwrap();
    assert_eq!(reply.as_deref(), Some("urn:asap:agent:client"));
    let cases = [
        (Some("Bearer nope"), RpcError::invalid_token()),
        (None, RpcError::authentication_required()),
        (Some("Basic czNjcmV0"), RpcError::authentication_required()),
    ];
    for (authorization, expected) in cases {
        let refused = service
            .clone()
            .oneshot(with_auth(authorization))
            .await
            .unwrap_err();
        assert_eq!(refused, Rejection::Rpc(expected), "{authorization:?}");
    }
    // The refusal's wire form: -32600 with status_code 401.
    let refused = service.clone().oneshot(with_auth(None)).await.unwrap_err();
    let (_, body) = body_of(refused.into_response(None)).await;
    assert_eq!(
        body["error"]["data"],
        json!({"error": "Authentication required", "status_code": 401})
    );
    assert_eq!(body["error"]["code"], -32600);

    // A manifest declaring only `basic` refuses every bearer token.
    let basic = AuthScheme {
        schemes: vec!["basic".into()],
        oauth2: None,
    };
    let refused = AuthLayer::new(StaticTokens::new().with("s3cret", client), &basic)
        .layer(report)
        .oneshot(with_auth(Some("Bearer s3cret")))
        .await
        .unwrap_err();
    assert_eq!(refused, Rejection::Rpc(RpcError::invalid_token()));
}

fn envelope(sender: &str, payload_type: &str, payload: Value) -> Envelope {
    let mut value = task_request(sender, "urn:asap:agent:server", json!({}));
    value["payload_type"] = json!(payload_type);
    value["payload"] = payload;
    serde_json::from_value(value).unwrap()
}

fn task(sender: &str) -> Envelope {
    envelope(
        sender,
        "task.request",
        json!({"conversation_id": "c1", "skill_id": "echo", "input": {"x": 1}}),
    )
}

fn request_as(envelope: Envelope, identity: Option<&str>) -> AsapRequest {
    let mut ctx = RequestContext::default();
    ctx.identity = identity.map(|i| i.parse().unwrap());
    AsapRequest::new(envelope, ctx)
}

#[tokio::test]
async fn sender_match_alone() {
    let service = SenderMatchLayer.layer(service_fn(|request: AsapRequest| async move {
        Ok::<_, Rejection>(request.envelope)
    }));
    let alice = "urn:asap:agent:alice";
    let passed = service
        .clone()
        .oneshot(request_as(task(alice), Some(alice)))
        .await
        .unwrap();
    assert_eq!(passed.sender, alice);
    // No identity: authentication is off, anything passes.
    assert!(
        service
            .clone()
            .oneshot(request_as(task(alice), None))
            .await
            .is_ok()
    );
    let refused = service
        .oneshot(request_as(task(alice), Some("urn:asap:agent:mallory")))
        .await
        .unwrap_err();
    assert_eq!(refused, Rejection::Rpc(RpcError::sender_mismatch()));
    let (status, body) = body_of(refused.into_response(None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["error"],
        json!({
            "code": -32602,
            "message": "Invalid params",
            "data": {"error": "Sender does not match authenticated identity", "status_code": 403},
        })
    );
}

fn completed(request: &AsapRequest, result: Value) -> Envelope {
    let Value::Object(result) = result else {
        panic!("object")
    };
    request.envelope.response_to(TaskResponse {
        task_id: TaskId::generate(),
        status: TaskStatus::Completed,
        result: Some(result as JsonObject),
        final_state: None,
        metrics: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_alone() {
    let mut registry = HandlerRegistry::new();
    registry.register(
        "task.request",
        handler_fn(|request: AsapRequest| async move {
            Ok(completed(&request, json!({"async": true})))
        }),
    );
    registry.register(
        "custom.fail",
        handler_fn(|_request: AsapRequest| async move {
            Err(HandlerError::internal("database unreachable"))
        }),
    );
    let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let entered_tx = std::sync::Mutex::new(entered_tx);
    registry.register_blocking("custom.blocking", move |request: AsapRequest| {
        entered_tx.lock().unwrap().send(()).unwrap();
        release_rx.lock().unwrap().recv().unwrap();
        Ok(completed(&request, json!({"blocking": true})))
    });
    let dispatch = Dispatch::new(registry).with_pool(BlockingPool::new(1));
    let sender = "urn:asap:agent:alice";

    let reply = dispatch
        .clone()
        .oneshot(request_as(task(sender), None))
        .await
        .unwrap();
    assert_eq!(
        reply.payload_as::<TaskResponse>().unwrap().result.unwrap()["async"],
        true
    );

    let missing = dispatch
        .clone()
        .oneshot(request_as(envelope(sender, "TaskRequest", json!({})), None))
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        Rejection::Rpc(RpcError::handler_not_found("TaskRequest"))
    );

    // A known payload type is validated before its handler runs.
    let invalid = dispatch
        .clone()
        .oneshot(request_as(
            envelope(
                sender,
                "task.request",
                json!({"conversation_id": "c1", "input": {}}),
            ),
            None,
        ))
        .await
        .unwrap_err();
    let Rejection::Rpc(error) = invalid else {
        panic!("{invalid:?}")
    };
    assert_eq!(error.code, -32602);
    assert_eq!(error.data_error(), Some("Invalid envelope structure"));
    assert_eq!(
        error.data.unwrap()["validation_errors"][0]["loc"][0],
        "payload"
    );

    let failed = dispatch
        .clone()
        .oneshot(request_as(envelope(sender, "custom.fail", json!({})), None))
        .await
        .unwrap_err();
    assert_eq!(failed, Rejection::Rpc(RpcError::internal()));

    // One blocking slot: while it is taken, the next blocking request is refused (503).
    let holder = tokio::spawn(dispatch.clone().oneshot(request_as(
        envelope(sender, "custom.blocking", json!({})),
        None,
    )));
    tokio::task::spawn_blocking(move || entered_rx.recv().unwrap())
        .await
        .unwrap();
    let busy = dispatch
        .clone()
        .oneshot(request_as(
            envelope(sender, "custom.blocking", json!({})),
            None,
        ))
        .await
        .unwrap_err();
    let Rejection::Unavailable(error) = &busy else {
        panic!("{busy:?}")
    };
    assert_eq!(error.code.as_str(), "asap:transport/thread_pool_exhausted");
    assert_eq!(
        body_of(busy.into_response(None)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    release_tx.send(()).unwrap();
    let held = holder.await.unwrap().unwrap();
    assert_eq!(
        held.payload_as::<TaskResponse>().unwrap().result.unwrap()["blocking"],
        true
    );
}

#[tokio::test]
async fn rpc_endpoint_alone() {
    // The endpoint around an envelope-level echo: JSON-RPC framing in, framing out.
    let endpoint = RpcEndpoint::new(service_fn(|request: AsapRequest| async move {
        Ok::<_, Rejection>(completed(
            &request,
            json!({"seen": request.envelope.sender.as_str()}),
        ))
    }));
    let envelope = task_request("urn:asap:agent:alice", "urn:asap:agent:server", json!({}));
    let body = serde_json::to_vec(&rpc_request(&envelope)).unwrap();
    let (status, reply) = body_of(endpoint.clone().oneshot(post(body)).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["id"], "req-1");
    assert_eq!(
        reply["result"]["envelope"]["payload"]["result"],
        json!({"seen": "urn:asap:agent:alice"})
    );
    // Trace ids are injected into the response (no trace in the request).
    let extensions = &reply["result"]["envelope"]["extensions"];
    assert_eq!(
        reply["result"]["envelope"]["trace_id"],
        extensions["trace_id"]
    );

    let (_, reply) = body_of(endpoint.oneshot(post("[]")).await.unwrap()).await;
    assert_eq!(
        reply["error"]["data"],
        json!({"error": "JSON-RPC request must be an object", "received_type": "list"})
    );
}

/// The HTTP-level layers composed by hand with `ServiceBuilder`, in the protocol's order,
/// around the endpoint: the same answers as the full server for these cases.
#[tokio::test]
async fn hand_made_stack() {
    let endpoint = RpcEndpoint::new(service_fn(|request: AsapRequest| async move {
        Ok::<_, Rejection>(completed(&request, json!({})))
    }));
    let stack = ServiceBuilder::new()
        .layer(BodyLimitLayer::new(4096))
        .layer(DecompressionLayer::new(4096))
        .service(endpoint);
    let envelope = task_request("urn:asap:agent:alice", "urn:asap:agent:server", json!({}));
    let body = serde_json::to_vec(&rpc_request(&envelope)).unwrap();

    let gzipped = gzip(&body).await;
    let request = Request::post("/asap")
        .header(header::CONTENT_ENCODING, "gzip")
        .header(header::CONTENT_LENGTH, gzipped.len())
        .body(Full::new(Bytes::from(gzipped)))
        .unwrap();
    let (status, reply) = body_of(stack.clone().oneshot(request).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply["result"]["envelope"].is_object(), "{reply}");

    let (status, reply) = body_of(stack.oneshot(post(vec![b' '; 5000])).await.unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply,
        json!({"detail": "Request size (5000 bytes) exceeds maximum (4096 bytes)"})
    );
}

/// The processing order around authentication, with the RPC-level layer composed by hand:
/// framing errors answer before authentication, authentication before the envelope.
#[tokio::test]
async fn authentication_sits_between_framing_and_envelope() {
    let bearer = AuthScheme {
        schemes: vec!["bearer".into()],
        oauth2: None,
    };
    let envelopes = Envelopes::new(service_fn(|request: AsapRequest| async move {
        Ok::<_, Rejection>(completed(&request, json!({})))
    }));
    let tokens = StaticTokens::new().with("s3cret", "urn:asap:agent:alice".parse().unwrap());
    let endpoint = RpcEndpoint::from_rpc(AuthLayer::new(tokens, &bearer).layer(envelopes));
    let send = |body: Vec<u8>, token: Option<&str>| {
        let mut request = post(body);
        if let Some(token) = token {
            request
                .headers_mut()
                .insert(header::AUTHORIZATION, token.parse().unwrap());
        }
        endpoint.clone().oneshot(request)
    };

    // No token and no valid JSON: the parse error.
    let (_, reply) = body_of(send(b"{".to_vec(), None).await.unwrap()).await;
    assert_eq!(reply["error"]["code"], -32700);
    // No token, a call without an envelope: authentication answers first.
    let no_envelope = json!({"jsonrpc": "2.0", "method": "asap.send", "params": {}, "id": 7});
    let body = serde_json::to_vec(&no_envelope).unwrap();
    let (_, reply) = body_of(send(body.clone(), None).await.unwrap()).await;
    assert_eq!(reply["id"], 7);
    assert_eq!(
        reply["error"]["data"],
        json!({"error": "Authentication required", "status_code": 401})
    );
    // With the token, the missing envelope is what is wrong.
    let (_, reply) = body_of(send(body, Some("Bearer s3cret")).await.unwrap()).await;
    assert_eq!(reply["error"]["code"], -32602, "{reply}");
    // Everything right: the envelope reaches the envelope level.
    let envelope = task_request("urn:asap:agent:alice", "urn:asap:agent:server", json!({}));
    let body = serde_json::to_vec(&rpc_request(&envelope)).unwrap();
    let (_, reply) = body_of(send(body, Some("Bearer s3cret")).await.unwrap()).await;
    assert!(reply["result"]["envelope"].is_object(), "{reply}");
}

/// Records the coding events it is told of.
#[derive(Default)]
struct Codings(std::sync::Mutex<Vec<(&'static str, String, usize, usize)>>);

impl asap_observability::observe::Observer for Codings {
    fn on_coding(&self, event: &asap_observability::observe::CodingEvent<'_>) {
        self.0.lock().unwrap().push((
            event.body.as_str(),
            event.encoding.to_owned(),
            event.encoded_bytes,
            event.plain_bytes,
        ));
    }
}

#[tokio::test]
async fn coding_layers_report_to_their_observer() {
    use asap_transport_server::layers::compression::ResponseCompression;
    use asap_transport_server::layers::decompression::Decompression;
    let codings = Arc::new(Codings::default());
    let plain = format!(r#"{{"text":"{}"}}"#, "abc ".repeat(500)).into_bytes();
    let gzipped = gzip(&plain).await;

    let inflating =
        Decompression::new(service_fn(read_plain), 64 * 1024).with_observer(codings.clone());
    let request = Request::post("/asap")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Full::new(Bytes::from(gzipped.clone())))
        .unwrap();
    let (status, _) = body_of(inflating.oneshot(request).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        codings.0.lock().unwrap().as_slice(),
        [("request", "gzip".to_owned(), gzipped.len(), plain.len())]
    );

    let reply = plain.clone();
    let compressing = ResponseCompression::new(
        service_fn(move |_: Request<Full<Bytes>>| {
            let reply = reply.clone();
            async move { Ok::<_, Infallible>(response::json(StatusCode::OK, reply)) }
        }),
        Some(1024),
    )
    .with_observer(codings.clone());
    let request = Request::post("/asap")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = compressing.oneshot(request).await.unwrap();
    let sent = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        codings.0.lock().unwrap()[1],
        ("response", "gzip".to_owned(), sent.len(), plain.len())
    );
}
