//! An OpenTelemetry OTLP trace receiver for tests (feature `otlp`).
//!
//! [`OtlpReceiver`] listens on two ephemeral 127.0.0.1 ports, one for OTLP/gRPC and one for
//! OTLP/HTTP with protobuf bodies, decodes every export request with the generated OTLP
//! protobuf types and keeps the spans as flat [`ReceivedSpan`]s, so a test can point an
//! exporter at it and assert what was exported.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use asap_testing::otlp::OtlpReceiver;
//!
//! # #[tokio::main]
//! # async fn main() -> std::io::Result<()> {
//! let receiver = OtlpReceiver::start().await?;
//! // Configure the code under test with `receiver.grpc_endpoint()` or
//! // `receiver.http_endpoint()`, make it export, then:
//! let spans = receiver
//!     .wait_for(Duration::from_secs(5), |spans| !spans.is_empty())
//!     .await;
//! assert!(spans.iter().any(|span| span.name == "work"));
//! # Ok(())
//! # }
//! ```

mod grpc;
mod http;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// Which OTLP transport delivered a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`.
    Grpc,
    /// OTLP/HTTP with a protobuf body: `POST /v1/traces`.
    HttpProtobuf,
}

/// One span as received, decoded from real OTLP protobuf.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The transport of the export request that carried the span.
    pub transport: Transport,
    /// The `service.name` attribute of the span's resource, when it has one.
    pub service_name: Option<String>,
    /// The instrumentation scope name (empty when the request names no scope).
    pub scope: String,
    /// The span name.
    pub name: String,
    /// The trace id as lowercase hex (32 digits for a well-formed id).
    pub trace_id: String,
    /// The span id as lowercase hex (16 digits for a well-formed id).
    pub span_id: String,
    /// The parent span id as lowercase hex; `None` for a root span (empty parent id).
    pub parent_span_id: Option<String>,
    /// The protobuf `SpanKind` number (0 unspecified, 1 internal, 2 server, 3 client,
    /// 4 producer, 5 consumer).
    pub kind: i32,
    /// The span attributes with their values as text: strings as they are, integers,
    /// booleans and doubles through `to_string`, anything else in its `Debug` form.
    pub attributes: BTreeMap<String, String>,
}

/// What both servers share: the spans received so far and the request counters.
#[derive(Debug, Default)]
struct Received {
    spans: Mutex<Vec<ReceivedSpan>>,
    grpc_requests: AtomicUsize,
    http_requests: AtomicUsize,
    arrived: Notify,
}

impl Received {
    /// Stores the spans of one decoded export request and wakes [`OtlpReceiver::wait_for`].
    fn record(&self, transport: Transport, request: ExportTraceServiceRequest) {
        let mut flat = Vec::new();
        for resource_spans in request.resource_spans {
            let service_name = resource_spans.resource.and_then(|resource| {
                resource
                    .attributes
                    .into_iter()
                    .find(|kv| kv.key == "service.name")
                    .map(|kv| render(kv.value))
            });
            for scope_spans in resource_spans.scope_spans {
                let scope = scope_spans.scope.map(|s| s.name).unwrap_or_default();
                flat.extend(scope_spans.spans.into_iter().map(|span| ReceivedSpan {
                    transport,
                    service_name: service_name.clone(),
                    scope: scope.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id:
                        (!span.parent_span_id.is_empty()).then(|| hex(&span.parent_span_id)),
                    kind: span.kind,
                    attributes: attributes(span.attributes),
                }));
            }
        }
        {
            // Counted under the lock, so spans and counts are never seen out of step.
            let mut spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
            spans.extend(flat);
            self.counter(transport).fetch_add(1, Ordering::SeqCst);
        }
        self.arrived.notify_waiters();
    }

    fn counter(&self, transport: Transport) -> &AtomicUsize {
        match transport {
            Transport::Grpc => &self.grpc_requests,
            Transport::HttpProtobuf => &self.http_requests,
        }
    }

    fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

fn attributes(list: Vec<KeyValue>) -> BTreeMap<String, String> {
    list.into_iter()
        .map(|kv| (kv.key, render(kv.value)))
        .collect()
}

fn render(value: Option<AnyValue>) -> String {
    match value.and_then(|v| v.value) {
        Some(Value::StringValue(s)) => s,
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// An OTLP trace receiver on 127.0.0.1, for tests.
///
/// OTLP/gRPC (`TraceService/Export`, gzip-compressed messages accepted) listens on one
/// ephemeral port and OTLP/HTTP on another: `POST /v1/traces` with
/// `Content-Type: application/x-protobuf` (optionally `Content-Encoding: gzip`) is answered
/// with an encoded `ExportTraceServiceResponse`; another content type gets 415, a body that
/// does not decode 400, another path 404 and another method on `/v1/traces` 405.
///
/// [`OtlpReceiver::start`] serves on spawned tasks of the current tokio runtime; both servers
/// stop when the receiver is dropped.
#[derive(Debug)]
pub struct OtlpReceiver {
    received: Arc<Received>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    stop_grpc: Option<oneshot::Sender<()>>,
    http_task: JoinHandle<()>,
}

impl OtlpReceiver {
    /// Binds both ports and starts serving.
    ///
    /// Must be called inside a tokio runtime; fails only when a port cannot be bound.
    pub async fn start() -> std::io::Result<Self> {
        let received = Arc::new(Received::default());
        let grpc_listener = TcpListener::bind("127.0.0.1:0").await?;
        let http_listener = TcpListener::bind("127.0.0.1:0").await?;
        let grpc_addr = grpc_listener.local_addr()?;
        let http_addr = http_listener.local_addr()?;
        let (stop_grpc, stopped) = oneshot::channel();
        tokio::spawn(grpc::serve(grpc_listener, Arc::clone(&received), stopped));
        let http_task = tokio::spawn(http::serve(http_listener, Arc::clone(&received)));
        Ok(Self {
            received,
            grpc_addr,
            http_addr,
            stop_grpc: Some(stop_grpc),
            http_task,
        })
    }

    /// The OTLP/gRPC endpoint, `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The OTLP/HTTP base URL, `http://127.0.0.1:PORT` (exporters append `/v1/traces`).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The OTLP/HTTP traces URL, `http://127.0.0.1:PORT/v1/traces`.
    pub fn http_traces_url(&self) -> String {
        format!("{}/v1/traces", self.http_endpoint())
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.spans()
    }

    /// How many export requests `transport` has delivered and the receiver decoded
    /// (rejected requests are not counted).
    pub fn requests(&self, transport: Transport) -> usize {
        self.received.counter(transport).load(Ordering::SeqCst)
    }

    /// Waits until `done(&spans)` holds for the spans received so far or `timeout` passes,
    /// and returns the spans either way.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before the check, so spans arriving in between still wake us.
            let arrived = self.received.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.spans();
            }
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop_grpc.take() {
            let _ = stop.send(());
        }
        self.http_task.abort();
    }
}
