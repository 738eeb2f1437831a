//! One trace across three agents over real HTTP (PROTOCOL §14.3), exported over OTLP gRPC
//! and OTLP HTTP/protobuf to a receiver that decodes the protobuf: a root span sends to
//! `hop-1`, whose handler sends to `hop-2`, whose handler sends to `hop-3`, which echoes.
//! Every span must reach the receiver with its parent: root → send → attempt → server
//! request → handler → send → attempt → … — the client's `traceparent` header and envelope
//! fields carrying the trace, the servers continuing it.
#![cfg(feature = "otel")]

use std::time::Duration;

use asap_model::payload::{TaskRequest, TaskResponse};
use asap_model::{AgentUrn, Envelope, JsonObject, TaskId, TaskStatus};
use asap_observability::otel::{OtelConfig, OtlpProtocol, Telemetry};
use asap_testing::TestAgent;
use asap_testing::otlp::{OtlpReceiver, ReceivedSpan, Transport};
use asap_transport_client::AsapClient;
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::{AsapRequest, AsapServer, HandlerError, ServerConfig, handler_fn};
use serde_json::json;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

fn urn(name: &str) -> AgentUrn {
    format!("urn:asap:agent:{name}").parse().expect("urn")
}

fn request(sender: &AgentUrn, recipient: &AgentUrn, hops: u64) -> Envelope {
    serde_json::from_value(json!({
        "asap_version": "0.1",
        "sender": sender.to_string(),
        "recipient": recipient.to_string(),
        "payload_type": "task.request",
        "payload": {"conversation_id": "conv_chain", "skill_id": "echo", "input": {"hops": hops}},
    }))
    .expect("envelope")
}

/// An agent whose `task.request` handler asks `next` (at `next_url`) and answers with its
/// answer.
async fn forwarder(me: &str, next: AgentUrn, next_url: String) -> TestAgent {
    let me = urn(me);
    let client = AsapClient::builder(next_url)
        .max_retries(1)
        .build()
        .expect("client");
    let mut manifest = demo_manifest("http://127.0.0.1/asap");
    manifest.id = me.clone();
    let handler = handler_fn(move |request: AsapRequest| {
        let (client, me, next) = (client.clone(), me.clone(), next.clone());
        async move {
            let mut envelope = request.envelope;
            let task: TaskRequest = envelope.take_payload_as().map_err(HandlerError::from)?;
            let hops = task.input.get("hops").and_then(|h| h.as_u64()).unwrap_or(0);
            let reply = client
                .send(request_of(&me, &next, hops + 1))
                .await
                .map_err(HandlerError::internal)?;
            let mut result = JsonObject::new();
            result.insert(
                "downstream".into(),
                serde_json::to_value(&reply.payload).unwrap(),
            );
            let mut response = envelope.response_to(TaskResponse {
                task_id: TaskId::generate(),
                status: TaskStatus::Completed,
                result: Some(result),
                final_state: None,
                metrics: None,
            });
            response.sender = me;
            Ok(response)
        }
    });
    TestAgent::start(
        AsapServer::builder(manifest)
            .config(ServerConfig::builder().rate_limit(None).build())
            .handler("task.request", handler),
    )
    .await
}

fn request_of(me: &AgentUrn, next: &AgentUrn, hops: u64) -> Envelope {
    request(me, next, hops)
}

/// A receiver on a runtime of its own, a provider exporting to it over `protocol`, this
/// thread's subscriber with its layer, and the current-thread runtime every agent and client
/// of a test runs on (so that they all see that subscriber).
struct Traced {
    receiver_runtime: tokio::runtime::Runtime,
    receiver: OtlpReceiver,
    telemetry: Telemetry,
    guard: tracing::subscriber::DefaultGuard,
    runtime: tokio::runtime::Runtime,
}

fn traced(protocol: OtlpProtocol, service_name: Option<&str>) -> Traced {
    let receiver_runtime = tokio::runtime::Runtime::new().expect("runtime");
    let receiver = receiver_runtime
        .block_on(OtlpReceiver::start())
        .expect("receiver");
    let endpoint = match protocol {
        OtlpProtocol::Grpc => receiver.grpc_endpoint(),
        OtlpProtocol::HttpProtobuf => receiver.http_traces_url(),
    };
    let mut config = OtelConfig::otlp(protocol, endpoint);
    if let Some(name) = service_name {
        config = config.with_service_name(name);
    }
    let telemetry = Telemetry::start(&config)
        .expect("telemetry")
        .expect("an exporter");
    let guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(telemetry.layer()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    Traced {
        receiver_runtime,
        receiver,
        telemetry,
        guard,
        runtime,
    }
}

/// Runs the chain with spans exported over `protocol`; the spans the receiver decoded.
fn run_chain(protocol: OtlpProtocol) -> Vec<ReceivedSpan> {
    let Traced {
        receiver_runtime,
        receiver,
        telemetry,
        guard,
        runtime,
    } = traced(protocol, Some("chain"));
    let reply = runtime.block_on(async {
        let mut manifest = demo_manifest("http://127.0.0.1/asap");
        manifest.id = urn("hop-3");
        let last = TestAgent::start(
            AsapServer::builder(manifest)
                .config(ServerConfig::builder().rate_limit(None).build())
                .handler("task.request", EchoHandler::new(urn("hop-3"))),
        )
        .await;
        let second = forwarder("hop-2", urn("hop-3"), last.base_url()).await;
        let first = forwarder("hop-1", urn("hop-2"), second.base_url()).await;
        let client = AsapClient::builder(first.base_url())
            .max_retries(1)
            .build()
            .expect("client");
        let root = tracing::info_span!("test.root");
        client
            .send(request(&urn("origin"), &urn("hop-1"), 0))
            .instrument(root)
            .await
            .expect("the chain answers")
    });
    drop(runtime);
    drop(guard);
    telemetry.flush().expect("flush");
    let expected = 13;
    let spans = receiver_runtime
        .block_on(receiver.wait_for(Duration::from_secs(20), |spans| spans.len() >= expected));
    // The whole chain answered, and hop-3's echo came back through both forwarders.
    let payload = serde_json::to_value(&reply.payload).expect("payload");
    let downstream = &payload["result"]["downstream"]["result"]["downstream"];
    assert_eq!(downstream["result"]["echoed"]["hops"], 2, "{reply:?}");
    assert!(receiver.requests(transport_of(protocol)) > 0);
    telemetry.shutdown().expect("shutdown");
    spans
}

fn transport_of(protocol: OtlpProtocol) -> Transport {
    match protocol {
        OtlpProtocol::Grpc => Transport::Grpc,
        OtlpProtocol::HttpProtobuf => Transport::HttpProtobuf,
    }
}

/// The spans form exactly the chain, in one trace.
fn assert_chain(spans: &[ReceivedSpan]) {
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(spans.len(), 13, "{names:?}");
    let root = spans
        .iter()
        .find(|s| s.name == "test.root")
        .unwrap_or_else(|| panic!("no root in {names:?}"));
    assert_eq!(root.parent_span_id, None);
    for span in spans {
        assert_eq!(span.trace_id, root.trace_id, "{span:?}");
        assert_eq!(span.service_name.as_deref(), Some("chain"));
        assert_eq!(span.scope, "asap.protocol");
    }
    let child_of = |parent: &ReceivedSpan, name: &str| -> ReceivedSpan {
        let children: Vec<_> = spans
            .iter()
            .filter(|s| s.parent_span_id.as_deref() == Some(parent.span_id.as_str()))
            .filter(|s| s.name == name)
            .collect();
        assert_eq!(
            children.len(),
            1,
            "one {name} under {parent:?} in {spans:#?}"
        );
        children[0].clone()
    };
    let mut parent = root.clone();
    for hop in ["hop-1", "hop-2", "hop-3"] {
        let send = child_of(&parent, "asap.send");
        assert_eq!(
            send.attributes.get("asap.recipient").map(String::as_str),
            Some(format!("urn:asap:agent:{hop}").as_str())
        );
        let attempt = child_of(&send, "asap.send.attempt");
        assert_eq!(attempt.kind, 3, "client kind: {attempt:?}");
        assert_eq!(
            attempt
                .attributes
                .get("http.response.status_code")
                .map(String::as_str),
            Some("200")
        );
        let server = child_of(&attempt, "POST /asap");
        assert_eq!(server.kind, 2, "server kind: {server:?}");
        let handler = child_of(&server, "asap.handler.execute");
        assert_eq!(
            handler.attributes.get("asap.agent.urn").map(String::as_str),
            Some(format!("urn:asap:agent:{hop}").as_str())
        );
        assert_eq!(
            handler
                .attributes
                .get("asap.payload_type")
                .map(String::as_str),
            Some("task.request")
        );
        parent = handler;
    }
}

#[test]
fn a_three_agent_chain_is_one_trace_over_grpc() {
    assert_chain(&run_chain(OtlpProtocol::Grpc));
}

#[test]
fn a_three_agent_chain_is_one_trace_over_http_protobuf() {
    assert_chain(&run_chain(OtlpProtocol::HttpProtobuf));
}

/// The envelope's own W3C fields parent the handler span when no `traceparent` header
/// carries the trace; a response to a request without trace fields carries the ids of the
/// server span that was exported.
#[test]
fn envelope_fields_parent_the_handler_and_responses_name_the_exported_span() {
    let Traced {
        receiver_runtime,
        receiver,
        telemetry,
        guard,
        runtime,
    } = traced(OtlpProtocol::HttpProtobuf, None);
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";
    let (continued, fresh) = runtime.block_on(async {
        let agent = TestAgent::echo().await;
        let client = asap_testing::TestClient::new();
        let mut envelope = asap_testing::fixtures::task_request(
            "urn:asap:agent:client",
            "urn:asap:agent:default-server",
            json!({}),
        );
        envelope["trace_id"] = json!(TRACE);
        envelope["extensions"] = json!({"span_id": PARENT});
        let continued = client
            .send_envelope(&agent.base_url(), &envelope)
            .await
            .json;
        envelope.as_object_mut().unwrap().remove("trace_id");
        envelope.as_object_mut().unwrap().remove("extensions");
        let fresh = client
            .send_envelope(&agent.base_url(), &envelope)
            .await
            .json;
        (continued, fresh)
    });
    drop(runtime);
    drop(guard);
    telemetry.flush().expect("flush");
    let spans = receiver_runtime
        .block_on(receiver.wait_for(Duration::from_secs(20), |spans| spans.len() >= 4));
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let handlers: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "asap.handler.execute")
        .collect();
    // The first handler continues the envelope's trace under its span id.
    let continued_handler = handlers
        .iter()
        .find(|s| s.trace_id == TRACE)
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(continued_handler.parent_span_id.as_deref(), Some(PARENT));
    // Continuing the envelope's trace, the response's extensions are left alone (§14.3).
    let response = &continued["result"]["envelope"];
    assert_eq!(response["trace_id"], TRACE, "{continued}");
    assert!(
        response["extensions"].get("span_id").is_none(),
        "{continued}"
    );
    // Without trace fields, the response names the exported server span.
    let response = &fresh["result"]["envelope"];
    let trace_id = response["extensions"]["trace_id"]
        .as_str()
        .expect("trace id");
    let span_id = response["extensions"]["span_id"].as_str().expect("span id");
    assert_eq!(response["trace_id"], trace_id, "{fresh}");
    let server = spans
        .iter()
        .find(|s| s.span_id == span_id)
        .unwrap_or_else(|| panic!("span {span_id} not exported: {spans:#?}"));
    assert_eq!(server.name, "POST /asap");
    assert_eq!(server.trace_id, trace_id);
    assert_eq!(server.parent_span_id, None);
    telemetry.shutdown().expect("shutdown");
}

/// The caller's `tracestate` travels with the trace: the agent that continues it passes it
/// on to the next one in the `tracestate` header of its own send.
#[test]
fn tracestate_is_passed_along_the_chain() {
    use std::sync::{Arc, Mutex};
    // The receiver (driven by its runtime) only needs to be there: nothing is asked of it.
    let Traced {
        receiver_runtime: _receiver_runtime,
        receiver: _receiver,
        telemetry,
        guard,
        runtime,
    } = traced(OtlpProtocol::HttpProtobuf, None);
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let recorded = seen.clone();
    runtime.block_on(async move {
        let mut manifest = demo_manifest("http://127.0.0.1/asap");
        manifest.id = urn("hop-2");
        let last = AsapServer::builder(manifest)
            .config(ServerConfig::builder().rate_limit(None).build())
            .handler("task.request", EchoHandler::new(urn("hop-2")))
            .layer(tower::util::MapRequestLayer::new(
                move |request: http::Request<hyper::body::Incoming>| {
                    let state = request
                        .headers()
                        .get("tracestate")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    recorded.lock().unwrap().push(state);
                    request
                },
            ))
            .build()
            .expect("the agent builds");
        let listener =
            asap_transport_server::serve::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let last_url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(last.serve_with_shutdown(listener, std::future::pending()));
        let first = forwarder("hop-1", urn("hop-2"), last_url).await;
        let body = serde_json::to_vec(&asap_testing::fixtures::rpc_request(
            &serde_json::to_value(request(&urn("origin"), &urn("hop-1"), 0)).unwrap(),
        ))
        .unwrap();
        let reply = asap_testing::TestClient::new()
            .post(
                &format!("{}/asap", first.base_url()),
                body,
                &[
                    (
                        "traceparent",
                        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    ),
                    ("tracestate", "vendor=abc"),
                ],
            )
            .await;
        assert!(reply.json.get("result").is_some(), "{}", reply.text());
    });
    drop(runtime);
    drop(guard);
    assert_eq!(*seen.lock().unwrap(), [Some("vendor=abc".to_owned())]);
    telemetry.shutdown().expect("shutdown");
}
