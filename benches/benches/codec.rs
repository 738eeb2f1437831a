//! JSON-RPC codec benchmarks: decoding `asap.send` requests and encoding success responses.
//!
//! For each fixture size (`small`, `medium`, `large`, see `asap_benches::Size`):
//!
//! * `decode/simd_json/<size>` — [`decode_request`]: body → typed `Call` with simd-json
//!   (includes its copy of the body into a scratch buffer).
//! * `decode/serde_json/<size>` — [`decode_request_serde_json`]: the same with serde_json.
//! * `decode/serde_json_value/<size>` — baseline: `serde_json::from_slice::<Value>`, an untyped
//!   tree without any validation.
//! * `encode/serde_json/<size>` — [`encode_success`]: `{"jsonrpc","result":{"envelope"},"id"}`.
//! * `encode/simd_json/<size>` — the same response shape written by `simd_json::serde::to_vec`.
//!
//! Throughput is the request body length for decoding and the response body length for
//! encoding. Dropping the decoded value is inside the measured time.
//!
//! With `ASAP_BENCH_CALLS=<n>` (and `ASAP_BENCH_SIZE=small|medium|large`, `small` by default)
//! the binary instead makes `n` `decode_request` calls on that fixture and exits: two runs
//! under `valgrind --tool=callgrind` with different `n` give the instructions per call.

use std::hint::black_box;
use std::time::Duration;

use asap_benches::{Size, envelope, request_body, request_id};
use asap_codec::rpc::{Id, decode_request, decode_request_serde_json, encode_success};
use asap_model::Envelope;
use criterion::{Criterion, Throughput};
use serde::Serialize;

/// The success response shape of `asap_codec::rpc::encode_success`.
#[derive(Serialize)]
struct Success<'a> {
    jsonrpc: &'static str,
    result: EnvelopeResult<'a>,
    id: &'a Id,
}

#[derive(Serialize)]
struct EnvelopeResult<'a> {
    envelope: &'a Envelope,
}

fn simd_json_encode(id: &Id, envelope: &Envelope) -> Vec<u8> {
    simd_json::serde::to_vec(&Success {
        jsonrpc: "2.0",
        result: EnvelopeResult { envelope },
        id,
    })
    .expect("an envelope always serializes")
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for size in Size::ALL {
        let body = request_body(size);
        // Make sure the measured calls succeed on the fast path.
        assert!(decode_request(&body).is_ok_and(|call| call.envelope.is_ok()));
        assert!(decode_request_serde_json(&body).is_ok_and(|call| call.envelope.is_ok()));

        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("simd_json/{}", size.name()), |b| {
            b.iter(|| decode_request(black_box(&body)));
        });
        group.bench_function(format!("serde_json/{}", size.name()), |b| {
            b.iter(|| decode_request_serde_json(black_box(&body)));
        });
        group.bench_function(format!("serde_json_value/{}", size.name()), |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)));
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    let id = request_id();
    for size in Size::ALL {
        let envelope = envelope(size);
        let response = encode_success(&id, &envelope);
        // Both encoders write the same response (up to number formatting, checked as JSON).
        let simd = simd_json_encode(&id, &envelope);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&simd).expect("simd-json output is JSON"),
            serde_json::from_slice::<serde_json::Value>(&response).expect("output is JSON"),
        );

        group.throughput(Throughput::Bytes(response.len() as u64));
        group.bench_function(format!("serde_json/{}", size.name()), |b| {
            b.iter(|| encode_success(black_box(&id), black_box(&envelope)));
        });
        group.bench_function(format!("simd_json/{}", size.name()), |b| {
            b.iter(|| simd_json_encode(black_box(&id), black_box(&envelope)));
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// `n` calls of `decode_request` on the fixture named by `ASAP_BENCH_SIZE` (the
/// `ASAP_BENCH_CALLS` mode), each checked to succeed.
fn decode_calls(n: u64) {
    let name = std::env::var("ASAP_BENCH_SIZE").unwrap_or_else(|_| "small".to_owned());
    let size = Size::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .expect("ASAP_BENCH_SIZE is small, medium or large");
    let body = request_body(size);
    for _ in 0..n {
        let call = decode_request(black_box(&body)).expect("fixture requests are well-framed");
        assert!(call.envelope.is_ok());
        black_box(call);
    }
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented `pub fn`.
fn main() {
    if let Some(n) = std::env::var("ASAP_BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        decode_calls(n);
        return;
    }
    let mut criterion = config().configure_from_args();
    decode(&mut criterion);
    encode(&mut criterion);
    criterion.final_summary();
}
