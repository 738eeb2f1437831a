//! Compression benchmarks: `asap_codec::compression::compress` and `decompress_slice`.
//!
//! For the `medium` and `large` request fixtures (the `small` one, ≈ 600 bytes, is below the
//! 1024-byte compression threshold and is never compressed):
//!
//! * `compress/{gzip,br,asap-zstd-v1}/<size>` — [`compress`] at the client's settings
//!   (gzip level 6, brotli quality 4, zstd level 3 with the ASAP dictionary).
//! * `decompress/{gzip,br,asap-zstd-v1}/<size>` — [`decompress_slice`] with the server's
//!   10 MiB limit.
//!
//! Throughput is the uncompressed body length in both directions. The async functions run on a
//! current-thread Tokio runtime; `block_on` is inside the measured time (well under a
//! microsecond).

use std::hint::black_box;
use std::time::Duration;

use asap_benches::{Size, request_body};
use asap_codec::compression::{DEFAULT_MAX_REQUEST_SIZE, Encoding, compress, decompress_slice};
use criterion::{Criterion, Throughput};
use tokio::runtime::{Builder, Runtime};

const SIZES: [Size; 2] = [Size::Medium, Size::Large];
const ENCODINGS: [(Encoding, &str); 3] = [
    (Encoding::Gzip, "gzip"),
    (Encoding::Brotli, "br"),
    (Encoding::AsapZstd, "asap-zstd-v1"),
];

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn compression(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("compress");
    for size in SIZES {
        let body = request_body(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        for (encoding, name) in ENCODINGS {
            let compressed = rt.block_on(compress(encoding, &body)).expect("compress");
            println!(
                "{name} {}: {} -> {} bytes ({:.1} %)",
                size.name(),
                body.len(),
                compressed.len(),
                100.0 * compressed.len() as f64 / body.len() as f64
            );
            group.bench_function(format!("{name}/{}", size.name()), |b| {
                b.iter(|| rt.block_on(compress(encoding, black_box(&body))));
            });
        }
    }
    group.finish();
}

fn decompression(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("decompress");
    for size in SIZES {
        let body = request_body(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        for (encoding, name) in ENCODINGS {
            let compressed = rt.block_on(compress(encoding, &body)).expect("compress");
            let inflated = rt.block_on(decompress_slice(
                encoding,
                &compressed,
                DEFAULT_MAX_REQUEST_SIZE,
            ));
            assert_eq!(inflated.expect("decompress"), body);
            group.bench_function(format!("{name}/{}", size.name()), |b| {
                b.iter(|| {
                    rt.block_on(decompress_slice(
                        encoding,
                        black_box(&compressed),
                        DEFAULT_MAX_REQUEST_SIZE,
                    ))
                });
            });
        }
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented `pub fn`.
fn main() {
    let mut criterion = config().configure_from_args();
    compression(&mut criterion);
    decompression(&mut criterion);
    criterion.final_summary();
}
