//! The access log: one `tracing` span per HTTP request and one info line when it is answered.
//!
//! Each request runs inside a span named `request` (target [`ACCESS_TARGET`]) with the
//! fields `method` and `path`, and `payload_type`, `sender` and `envelope_id`, which the
//! `POST /asap` endpoint records once it has decoded the envelope. When the response head is
//! ready the layer logs the event `http.request` with `status` and `duration_ms` (from the
//! call to the response head, two decimals). A subscriber writes the span's fields with the
//! event: in JSON lines they are members of the line, on the console the span prefix,
//! e.g.
//!
//! ```text
//! INFO request{method=POST path=/asap payload_type="task.request" sender=urn:asap:agent:client envelope_id=01KB…}: asap::access: http.request status=200 duration_ms=0.41
//! ```
//!
//! With OpenTelemetry (feature `otel` and asap-observability's layer installed) the span is
//! the request's server span, named `POST /asap` (the method alone off this crate's routes)
//! and continuing the `traceparent` header; its `otel.*` fields are left out of JSON lines.
//!
//! Every other event logged while the request runs (a refusal, a handler's own events) is
//! inside the span too, so it carries the same context.
//!
//! Only the path is logged, never the query string or a header, so no credential reaches
//! the line. Silence the line and keep the span with the filter directive
//! `asap::access=off`; without any subscriber, or with the target filtered out, the layer
//! costs one interest check per request.
//!
//! The layer is generic over request and response bodies, so it can wrap an axum `Router`
//! or any hyper service:
//!
//! ```
//! use asap_transport_server::layers::access_log::AccessLogLayer;
//! use tower::{ServiceBuilder, service_fn};
//!
//! let service = ServiceBuilder::new()
//!     .layer(AccessLogLayer::new())
//!     .service(service_fn(|_: http::Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//!     }));
//! # let _ = service;
//! ```
//!
//! Hand-written rather than tower-http's `TraceLayer`: the line must carry the envelope's
//! fields, recorded deep inside the stack, and this layer leaves the response body as it
//! is (TraceLayer wraps it in a type of its own to observe the end of the stream).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Span;
use tracing::field::Empty;

/// `tracing` target of the request span and of the access line.
pub const ACCESS_TARGET: &str = "asap::access";

/// The `event` of the access line.
pub const ACCESS_EVENT: &str = "http.request";

/// Wraps a service in [`AccessLog`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLogLayer {
    _priv: (),
}

impl AccessLogLayer {
    /// The layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> AccessLog<S> {
        AccessLog::new(inner)
    }
}

/// Runs each request in a span and logs one line per response; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct AccessLog<S> {
    inner: S,
}

impl<S> AccessLog<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, B, ResBody> Service<Request<B>> for AccessLog<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = AccessLogFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let path = request.uri().path();
        let span = tracing::info_span!(
            target: ACCESS_TARGET,
            "request",
            method = %request.method(),
            path,
            payload_type = Empty,
            sender = Empty,
            envelope_id = Empty,
            otel.name = %SpanName(request.method(), path),
            otel.kind = "server",
        );
        crate::otel::set_http_parent(&span, request.headers());
        let started = (!span.is_disabled()).then(Instant::now);
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        AccessLogFuture {
            inner,
            span: RequestSpan(span),
            started,
        }
    }
}

/// The OpenTelemetry name of a request span: `POST /asap` for the routes of this crate,
/// the method alone for any other path (a name per path would let clients create names
/// without bound).
struct SpanName<'a>(&'a http::Method, &'a str);

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::routes::{
            AGENT_HEALTH_PATH, ASAP_PATH, HEALTH_PATH, MANIFEST_PATH, METRICS_PATH, READY_PATH,
        };
        let known = [
            ASAP_PATH,
            MANIFEST_PATH,
            AGENT_HEALTH_PATH,
            HEALTH_PATH,
            READY_PATH,
            METRICS_PATH,
        ];
        if known.contains(&self.1) {
            write!(f, "{} {}", self.0, self.1)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// The request's span. A `tracing::Span` is a handle to the subscriber, which must stay
/// consistent across any panic of the code that records into it (tracing's own contract);
/// asserting unwind safety keeps the future as unwind-safe as the one it wraps.
#[derive(Debug)]
struct RequestSpan(Span);

impl std::panic::UnwindSafe for RequestSpan {}
impl std::panic::RefUnwindSafe for RequestSpan {}

pin_project_lite::pin_project! {
    /// Response future of [`AccessLog`].
    #[derive(Debug)]
    pub struct AccessLogFuture<F> {
        #[pin]
        inner: F,
        span: RequestSpan,
        started: Option<Instant>,
    }
}

impl<F, ResBody, E> Future for AccessLogFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.0.enter();
        let result = ready!(this.inner.poll(cx));
        if let (Some(started), Ok(response)) = (this.started.take(), &result) {
            let millis = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
            tracing::info!(
                target: ACCESS_TARGET,
                event = ACCESS_EVENT,
                status = response.status().as_u16(),
                duration_ms = millis,
            );
        }
        Poll::Ready(result)
    }
}
