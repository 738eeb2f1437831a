//! The OTLP receiver decodes real OTLP protobuf from both transports, built by hand here
//! (no OpenTelemetry SDK): a generated tonic client for gRPC, prost-encoded bytes over HTTP.

#![cfg(feature = "otlp")]

use std::collections::BTreeMap;
use std::time::Duration;

use asap_codec::compression::{Encoding, compress};
use asap_testing::TestClient;
use asap_testing::otlp::{OtlpReceiver, ReceivedSpan, Transport};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use tonic::codec::CompressionEncoding;

const TRACE_ID: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];
const SPAN_ID: [u8; 8] = [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7];
const PARENT_ID: [u8; 8] = [0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8];
/// `SPAN_KIND_SERVER`.
const KIND_SERVER: i32 = 2;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// One span of `service` under the scope `asap-test`, named `name`.
fn export_request(service: &str, name: &str) -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        parent_span_id: PARENT_ID.to_vec(),
        name: name.to_owned(),
        kind: KIND_SERVER,
        attributes: vec![
            kv("asap.method", Value::StringValue("asap.send".to_owned())),
            kv("http.response.status_code", Value::IntValue(200)),
        ],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", Value::StringValue(service.to_owned()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "asap-test".to_owned(),
                    ..Default::default()
                }),
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn assert_span(span: &ReceivedSpan, transport: Transport, service: &str, name: &str) {
    assert_eq!(span.transport, transport);
    assert_eq!(span.service_name.as_deref(), Some(service));
    assert_eq!(span.scope, "asap-test");
    assert_eq!(span.name, name);
    assert_eq!(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(span.span_id, "00f067aa0ba902b7");
    assert_eq!(span.parent_span_id.as_deref(), Some("53995c3f42cd8ad8"));
    assert_eq!(span.kind, KIND_SERVER);
    let expected: BTreeMap<String, String> = [
        ("asap.method", "asap.send"),
        ("http.response.status_code", "200"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(span.attributes, expected);
}

fn post(url: &str, content_type: &str, body: Vec<u8>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::POST)
        .uri(url)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("valid request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decodes_otlp_from_grpc_and_http() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    assert!(receiver.grpc_endpoint().starts_with("http://127.0.0.1:"));
    assert_eq!(
        receiver.http_traces_url(),
        format!("{}/v1/traces", receiver.http_endpoint())
    );

    // gRPC, through the generated tonic client.
    let mut grpc = TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects");
    grpc.export(export_request("grpc-svc", "grpc-span"))
        .await
        .expect("gRPC export accepted");
    let spans = receiver
        .wait_for(Duration::from_secs(10), |spans| !spans.is_empty())
        .await;
    assert_eq!(spans.len(), 1);
    assert_span(&spans[0], Transport::Grpc, "grpc-svc", "grpc-span");
    assert_eq!(receiver.requests(Transport::Grpc), 1);
    assert_eq!(receiver.requests(Transport::HttpProtobuf), 0);

    // HTTP/protobuf, prost-encoded bytes.
    let client = TestClient::new();
    let body = export_request("http-svc", "http-span").encode_to_vec();
    let reply = client
        .try_request(post(
            &receiver.http_traces_url(),
            "application/x-protobuf",
            body.clone(),
        ))
        .await
        .expect("HTTP export answered");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.content_type(), Some("application/x-protobuf"));
    ExportTraceServiceResponse::decode(reply.body.clone()).expect("an encoded export response");
    let spans = receiver
        .wait_for(Duration::from_secs(10), |spans| spans.len() >= 2)
        .await;
    assert_eq!(spans.len(), 2);
    assert_span(&spans[0], Transport::Grpc, "grpc-svc", "grpc-span");
    assert_span(&spans[1], Transport::HttpProtobuf, "http-svc", "http-span");
    assert_eq!(receiver.requests(Transport::HttpProtobuf), 1);

    // Rejections: wrong content type, undecodable bytes, unknown path.
    let reply = client
        .try_request(post(&receiver.http_traces_url(), "application/json", body))
        .await
        .expect("answered");
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let garbage = vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0x01];
    let reply = client
        .try_request(post(
            &receiver.http_traces_url(),
            "application/x-protobuf",
            garbage,
        ))
        .await
        .expect("answered");
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    let reply = client
        .try_request(post(
            &format!("{}/v1/metrics", receiver.http_endpoint()),
            "application/x-protobuf",
            Vec::new(),
        ))
        .await
        .expect("answered");
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    assert_eq!(receiver.requests(Transport::HttpProtobuf), 1);
    assert_eq!(receiver.requests(Transport::Grpc), 1);
    assert_eq!(receiver.spans().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_gzip_on_both_transports() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let mut grpc = TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects")
        .send_compressed(CompressionEncoding::Gzip);
    grpc.export(export_request("grpc-svc", "grpc-gzip"))
        .await
        .expect("gzip gRPC export accepted");

    let body = export_request("http-svc", "http-gzip").encode_to_vec();
    let gzipped = compress(Encoding::Gzip, &body).await.expect("gzip");
    let mut request = post(
        &receiver.http_traces_url(),
        "application/x-protobuf",
        gzipped,
    );
    request
        .headers_mut()
        .insert("content-encoding", http::HeaderValue::from_static("gzip"));
    let reply = TestClient::new()
        .try_request(request)
        .await
        .expect("answered");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    let spans = receiver
        .wait_for(Duration::from_secs(10), |spans| spans.len() >= 2)
        .await;
    assert_eq!(spans.len(), 2);
    assert_span(&spans[0], Transport::Grpc, "grpc-svc", "grpc-gzip");
    assert_span(&spans[1], Transport::HttpProtobuf, "http-svc", "http-gzip");
}

#[tokio::test]
async fn wait_for_returns_what_it_has_after_the_timeout() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let spans = receiver
        .wait_for(Duration::from_millis(50), |spans| !spans.is_empty())
        .await;
    assert!(spans.is_empty());
}

#[tokio::test]
async fn stops_serving_when_dropped() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let url = receiver.http_traces_url();
    let grpc_endpoint = receiver.grpc_endpoint();
    drop(receiver);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let grpc = TraceServiceClient::connect(grpc_endpoint).await;
    assert!(grpc.is_err(), "gRPC still served after drop");
    let result = TestClient::new()
        .with_timeout(Duration::from_secs(2))
        .try_request(post(&url, "application/x-protobuf", Vec::new()))
        .await;
    assert!(result.is_err(), "still served after drop: {result:?}");
}
