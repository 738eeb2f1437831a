//! Server micro-benchmarks: validation, each layer alone, registry dispatch, the whole
//! service in process.
//!
//! Every async call runs on a current-thread Tokio runtime with `block_on`, so each figure
//! includes the same `block_on` + `oneshot` overhead; `layer/baseline` measures exactly that
//! overhead around a service that does nothing, and is the baseline to subtract.
//!
//! * `validation/*` — envelope payload typing (`Envelope::type_payload`, what dispatch does),
//!   `AgentUrn` parsing, embedded-part checks.
//! * `layer/*` — one layer around a trivial inner service: body limit, decompression
//!   (identity), per-IP rate limit (limit never reached) at the HTTP level; bearer auth (RPC
//!   level, with the headers cloned into the call's context), sender match, timestamp window,
//!   nonce (in-memory store, a fresh nonce each call) at the envelope level.
//! * `dispatch/echo` — [`Dispatch`] with the echo handler (payload validation included).
//! * `service/full` — the complete `AsapServer` service (every default layer, echo handler)
//!   for one `POST /asap` with the small fixture, no network.
//!
//! * `service/envelope_hook` — the same with one envelope-level hook that does nothing: the
//!   price of the hook's box.
//! * `service/metrics` — `service/full` with `.metrics(…)`: every request and handler run
//!   counted, the price of the metrics (the goal: under 3 %).
//! * `idempotency/keyed_off`, `idempotency/keyed_memory` — `service/full` with a fresh
//!   `X-Idempotency-Key` per request, without and with the in-memory idempotency store: the
//!   cost of a first run (claim, fingerprint, stored response).
//!
//! With `ASAP_BENCH_CALLS=<n>` set, the binary skips criterion and makes `n` `service/full`
//! calls (`service/envelope_hook` calls with `ASAP_BENCH_HOOKED` set too, `service/metrics`
//! calls with `ASAP_BENCH_METRICS`), for instruction
//! counts that do not depend on load: run it under `valgrind --tool=callgrind` with two
//! values of `n`; the difference of the totals divided by the difference of the `n`s is the
//! cost of one call.

use std::convert::Infallible;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use asap_benches::{Size, envelope, request_body};
use asap_model::{AgentUrn, Envelope, Payload};
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::auth::{AuthLayer, SenderMatchLayer, StaticTokens};
use asap_transport_server::layers::body_limit::BodyLimitLayer;
use asap_transport_server::layers::decompression::DecompressionLayer;
use asap_transport_server::layers::nonce::NonceLayer;
use asap_transport_server::layers::ratelimit::RateLimitLayer;
use asap_transport_server::layers::timestamp::TimestampWindowLayer;
use asap_transport_server::registry::{Dispatch, HandlerRegistry};
use asap_transport_server::response::{self, Body};
use asap_transport_server::{
    AsapRequest, AsapServer, PeerAddr, Rejection, RequestContext, RpcCall, ServerConfig,
};
use bytes::Bytes;
use criterion::Criterion;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{Layer, ServiceExt, service_fn};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn small_envelope() -> Envelope {
    let mut e = envelope(Size::Small);
    e.timestamp = asap_model::Timestamp::now();
    e
}

/// The `small` request without its envelope `timestamp`, so that the server stamps it and
/// the request passes the timestamp window whenever the bench runs (the example's fixed
/// time is far outside it: with it, every `service/*` call measured a rejection).
fn current_body() -> Vec<u8> {
    let mut request: serde_json::Value =
        serde_json::from_slice(&request_body(Size::Small)).expect("fixture JSON");
    request["params"]["envelope"]
        .as_object_mut()
        .expect("fixture envelope")
        .remove("timestamp");
    serde_json::to_vec(&request).expect("a Value always serializes")
}

/// Panics unless `reply` is a JSON-RPC result carrying a completed `task.response`.
fn assert_completed<B>(rt: &tokio::runtime::Runtime, reply: Response<B>)
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    assert_eq!(reply.status(), StatusCode::OK);
    let bytes = rt
        .block_on(http_body_util::BodyExt::collect(reply.into_body()))
        .expect("body")
        .to_bytes();
    let reply: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON reply");
    assert_eq!(
        reply["result"]["envelope"]["payload"]["status"], "completed",
        "{reply}"
    );
}

fn http_request(body: &[u8]) -> Request<Full<Bytes>> {
    let mut request = Request::post("/asap")
        .header("content-type", "application/json")
        .header("authorization", "Bearer bench-token")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request");
    request.extensions_mut().insert(PeerAddr(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        40000,
    )));
    request
}

async fn ok_http<B>(_: Request<B>) -> Result<Response<Body>, Infallible> {
    Ok(response::json(StatusCode::OK, Bytes::from_static(b"{}")))
}

async fn ok_envelope(request: AsapRequest) -> Result<Envelope, Rejection> {
    Ok(request.envelope)
}

async fn ok_call(call: RpcCall) -> Result<Envelope, Rejection> {
    call.envelope.map_err(Rejection::Rpc)
}

fn validation(c: &mut Criterion) {
    let mut group = c.benchmark_group("validation");
    // The payload as the exact path leaves it (raw): the fast path decodes it typed.
    let mut raw = small_envelope();
    raw.payload = Payload::Raw(raw.payload.to_object());
    group.bench_function("type_payload", |b| {
        b.iter_batched(
            || raw.clone(),
            |mut e| {
                e.type_payload().expect("valid");
                e
            },
            criterion::BatchSize::SmallInput,
        );
    });
    group.bench_function("agent_urn", |b| {
        b.iter(|| AgentUrn::parse(black_box("urn:asap:agent:research-v1:v2")));
    });
    let Payload::Raw(object) = &raw.payload else {
        panic!("made raw above");
    };
    group.bench_function("embedded_checks", |b| {
        b.iter(|| asap_model::embedded::check_embedded(black_box(object)));
    });
    group.finish();
}

fn layers(c: &mut Criterion) {
    let rt = runtime();
    let body = current_body();
    let mut group = c.benchmark_group("layer");

    group.bench_function("baseline", |b| {
        let svc = service_fn(ok_http);
        b.iter(|| rt.block_on(svc.oneshot(http_request(&body))));
    });
    group.bench_function("body_limit", |b| {
        let svc = BodyLimitLayer::new(10 << 20).layer(service_fn(ok_http));
        b.iter(|| rt.block_on(svc.clone().oneshot(http_request(&body))));
    });
    group.bench_function("decompression_identity", |b| {
        let svc = DecompressionLayer::new(10 << 20).layer(service_fn(ok_http));
        b.iter(|| rt.block_on(svc.clone().oneshot(http_request(&body))));
    });
    group.bench_function("rate_limit_ip", |b| {
        let spec = "1000000000/second".parse().expect("spec");
        let svc = RateLimitLayer::new(&spec).layer(service_fn(ok_http));
        b.iter(|| rt.block_on(svc.clone().oneshot(http_request(&body))));
    });
    let envelope = small_envelope();
    let request = || AsapRequest::new(envelope.clone(), RequestContext::default());
    group.bench_function("envelope_baseline", |b| {
        let svc = service_fn(ok_envelope);
        b.iter(|| rt.block_on(svc.oneshot(request())));
    });
    group.bench_function("auth_bearer", |b| {
        let tokens = StaticTokens::new().with(
            "bench-token",
            AgentUrn::from_static("urn:asap:agent:coordinator"),
        );
        let schemes = asap_model::AuthScheme {
            schemes: vec!["bearer".into()],
            oauth2: None,
        };
        let svc = AuthLayer::new(tokens, &schemes).layer(service_fn(ok_call));
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer bench-token"),
        );
        b.iter(|| {
            let call = RpcCall::new(Ok(envelope.clone()), RequestContext::new(headers.clone()));
            rt.block_on(svc.clone().oneshot(call))
        });
    });
    group.bench_function("sender_match", |b| {
        let svc = SenderMatchLayer.layer(service_fn(ok_envelope));
        b.iter(|| rt.block_on(svc.clone().oneshot(request())));
    });
    group.bench_function("timestamp_window", |b| {
        let svc = TimestampWindowLayer::new().layer(service_fn(ok_envelope));
        b.iter(|| rt.block_on(svc.clone().oneshot(request())));
    });
    group.bench_function("nonce_memory", |b| {
        let svc = NonceLayer::memory().layer(service_fn(ok_envelope));
        let counter = AtomicU64::new(0);
        b.iter(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let e = envelope
                .clone()
                .with_extension("nonce", format!("nonce-{n}"));
            rt.block_on(
                svc.clone()
                    .oneshot(AsapRequest::new(e, RequestContext::default())),
            )
        });
    });
    group.finish();

    let mut group = c.benchmark_group("dispatch");
    group.bench_function("echo", |b| {
        let mut registry = HandlerRegistry::new();
        registry.register(
            "task.request",
            EchoHandler::new(AgentUrn::from_static("urn:asap:agent:echo")),
        );
        let svc = Dispatch::new(registry);
        b.iter(|| rt.block_on(svc.clone().oneshot(request())));
    });
    group.finish();

    let mut group = c.benchmark_group("service");
    group.bench_function("full", |b| {
        let svc = full_service();
        let reply = rt
            .block_on(svc.clone().oneshot(http_request(&body)))
            .expect("infallible");
        assert_completed(&rt, reply);
        b.iter(|| rt.block_on(svc.clone().oneshot(http_request(&body))));
    });
    group.bench_function("metrics", |b| {
        let svc = metrics_service();
        let reply = rt
            .block_on(svc.clone().oneshot(http_request(&body)))
            .expect("infallible");
        assert_completed(&rt, reply);
        b.iter(|| rt.block_on(svc.clone().oneshot(http_request(&body))));
    });
    group.bench_function("envelope_hook", |b| {
        let svc = hooked_service();
        let reply = rt
            .block_on(svc.clone().oneshot(http_request(&body)))
            .expect("infallible");
        assert_completed(&rt, reply);
        b.iter(|| rt.block_on(svc.clone().oneshot(http_request(&body))));
    });
    group.finish();
}

/// `service/full` with one envelope-level hook that does nothing: the cost of the hook's box.
fn hooked_service() -> asap_transport_server::ServerService {
    let manifest = demo_manifest("http://127.0.0.1:8000/asap");
    let server = AsapServer::builder(manifest.clone())
        .config(
            ServerConfig::builder()
                .rate_limit("1000000000/second".parse().ok())
                .build(),
        )
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
        .envelope_layer(tower::layer::layer_fn(|inner| inner))
        .build()
        .expect("server");
    server.service()
}

/// The service of `service/full`: every default layer, the echo handler, a rate limit that
/// is never reached.
fn full_service() -> asap_transport_server::ServerService {
    let manifest = demo_manifest("http://127.0.0.1:8000/asap");
    let server = AsapServer::builder(manifest.clone())
        .config(
            ServerConfig::builder()
                .rate_limit("1000000000/second".parse().ok())
                .build(),
        )
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
        .build()
        .expect("server");
    server.service()
}

/// `service/full` with metrics.
fn metrics_service() -> asap_transport_server::ServerService {
    let manifest = demo_manifest("http://127.0.0.1:8000/asap");
    let server = AsapServer::builder(manifest.clone())
        .config(
            ServerConfig::builder()
                .rate_limit("1000000000/second".parse().ok())
                .build(),
        )
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
        .metrics(std::sync::Arc::new(
            asap_observability::metrics::Metrics::new(),
        ))
        .build()
        .expect("server");
    server.service()
}

/// `n` calls of `service/full` (or of `service/envelope_hook` when `hooked`, of
/// `service/metrics` when `metrics`), each reply checked (the `ASAP_BENCH_CALLS` mode).
fn full_calls(n: u64, hooked: bool, metrics: bool) {
    let rt = runtime();
    let body = current_body();
    let svc = if hooked {
        hooked_service()
    } else if metrics {
        metrics_service()
    } else {
        full_service()
    };
    // The first reply is read in full (a JSON-RPC error would also be HTTP 200); the
    // rest only by status, so that the check adds nothing to the counted calls.
    let first = rt
        .block_on(svc.clone().oneshot(http_request(&body)))
        .expect("infallible");
    assert_completed(&rt, first);
    for _ in 1..n {
        let reply = rt
            .block_on(svc.clone().oneshot(http_request(&body)))
            .expect("infallible");
        assert_eq!(reply.status(), StatusCode::OK);
        black_box(reply);
    }
}

/// `service/full` with a fresh idempotency key per request.
fn keyed_request(body: &[u8], n: u64) -> Request<Full<Bytes>> {
    let mut request = http_request(body);
    let key = http::HeaderValue::from_str(&format!("bench-{n}")).expect("header value");
    request.headers_mut().insert("x-idempotency-key", key);
    request
}

/// `n` keyed calls of `idempotency/keyed_off` (or `keyed_memory` when `store`), for
/// instruction counts (`ASAP_BENCH_CALLS` with `ASAP_BENCH_KEYED=off|memory`).
fn keyed_calls(n: u64, store: bool) {
    let rt = runtime();
    let body = current_body();
    let svc = keyed_service(store);
    let first = rt
        .block_on(svc.clone().oneshot(keyed_request(&body, 0)))
        .expect("infallible");
    assert_completed(&rt, first);
    for i in 1..n {
        let reply = rt
            .block_on(svc.clone().oneshot(keyed_request(&body, i)))
            .expect("infallible");
        assert_eq!(reply.status(), StatusCode::OK);
        black_box(reply);
    }
}

/// `service/full` with a fresh idempotency key per request, without and with a store.
fn idempotency(c: &mut Criterion) {
    let rt = runtime();
    let body = current_body();
    let keyed = |n: u64| keyed_request(&body, n);
    let mut group = c.benchmark_group("idempotency");
    for (name, store) in [("keyed_off", false), ("keyed_memory", true)] {
        let svc = keyed_service(store);
        let counter = AtomicU64::new(1);
        // The measured path is a first run that succeeds, and a retry of it is a replay.
        for _ in 0..2 {
            let reply = rt
                .block_on(svc.clone().oneshot(keyed(0)))
                .expect("infallible");
            assert_eq!(reply.status(), StatusCode::OK);
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                rt.block_on(svc.clone().oneshot(keyed(n)))
            });
        });
    }
    group.finish();
}

/// [`full_service`], with the in-memory idempotency store when `store`.
fn keyed_service(store: bool) -> asap_transport_server::ServerService {
    let manifest = demo_manifest("http://127.0.0.1:8000/asap");
    let mut builder = AsapServer::builder(manifest.clone())
        .config(
            ServerConfig::builder()
                .rate_limit("1000000000/second".parse().ok())
                .build(),
        )
        .handler("task.request", EchoHandler::new(manifest.id.clone()));
    if store {
        builder = builder.idempotency(
            std::sync::Arc::new(asap_state::memory::MemoryIdempotencyStore::new()),
            asap_transport_server::layers::idempotency::IdempotencyConfig::default(),
        );
    }
    builder.build().expect("server").service()
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented `pub fn`.
fn main() {
    if let Some(n) = std::env::var("ASAP_BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        match std::env::var("ASAP_BENCH_KEYED").ok().as_deref() {
            Some(store) => keyed_calls(n, store == "memory"),
            None => full_calls(
                n,
                std::env::var_os("ASAP_BENCH_HOOKED").is_some(),
                std::env::var_os("ASAP_BENCH_METRICS").is_some(),
            ),
        }
        return;
    }
    let mut criterion = config().configure_from_args();
    validation(&mut criterion);
    layers(&mut criterion);
    idempotency(&mut criterion);
    criterion.final_summary();
}
