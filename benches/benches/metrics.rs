//! What recording one request's metrics costs, on one thread and on two at once.
//!
//! * `metrics/request/threads=1` — one thread reports one `POST /asap` request to a
//!   [`Metrics`] as the server does: request start, the response (outcome, duration, both
//!   body sizes), the handler run, request end.
//! * `metrics/request/threads=2` — two threads report requests to the same `Metrics` at
//!   once, as two server workers do; the time is per request per thread (the wall time of
//!   `iters` requests on each). When the recording shares nothing between the threads, both
//!   figures are equal (given two idle cores); the difference is what the workers pay for
//!   writing the same series.
//!
//! Run: `cargo bench -p asap-benches --bench metrics`.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use asap_observability::metrics::Metrics;
use asap_observability::observe::{HandlerEvent, Observer, Outcome, ResponseEvent};
use criterion::Criterion;

/// One request's reports.
fn request(metrics: &Metrics) {
    metrics.on_request_start();
    metrics.on_handler(&HandlerEvent::new(
        "task.request",
        true,
        Duration::from_micros(3),
    ));
    let event = ResponseEvent::new("task.request", Outcome::Success, Duration::from_micros(9))
        .with_sizes(Some(649), Some(812));
    metrics.on_response(black_box(&event));
    metrics.on_request_end();
}

/// Wall time of `iters` requests on each of `threads` threads started together.
fn concurrent(metrics: &Arc<Metrics>, threads: usize, iters: u64) -> Duration {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (metrics, barrier) = (metrics.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..iters {
                    request(&metrics);
                }
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    for worker in workers {
        worker.join().expect("worker");
    }
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics/request");
    let metrics = Arc::new(Metrics::new());
    request(&metrics);
    group.bench_function("threads=1", |b| b.iter(|| request(&metrics)));
    group.bench_function("threads=2", |b| {
        b.iter_custom(|iters| concurrent(&metrics, 2, iters))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
