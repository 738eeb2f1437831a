//! Counters, gauges and histograms that many threads update at once without writing to
//! the same memory.
//!
//! prometheus-client's `Counter` is one atomic and its `Histogram` one mutex: when two
//! server workers on two cores record their requests, every update moves the same cache
//! line between the cores (`metrics/request` in benches/benches/metrics.rs: 112 ns per
//! request on one thread, 534 ns on each of two). These keep one slot per shard, each
//! shard on cache lines of its own, and a thread always writes to the same shard; a
//! scrape adds the shards up. Written by hand because the protocol's hot path needs it
//! and the crate offers no sharded metric; they encode through prometheus-client's own
//! `EncodeMetric`, so families, registries and formats are unchanged.
//!
//! A histogram's `_count` is the sum of its buckets, so it always agrees with the `+Inf`
//! bucket; its `_sum` may be read before or after the bucket of an observation in
//! progress.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Shards per metric: a thread's shard is its arrival order modulo this. More shards than
/// server workers on most hosts, few enough that a scrape's sums stay cheap.
const SHARDS: usize = 16;

/// Slots of one cache-line pair (128 bytes: the unit adjacent-line prefetchers move).
const LINE: usize = 16;

/// This thread's shard.
fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

/// 128 bytes of slots, aligned so that no two shards share a cache line.
#[repr(align(128))]
#[derive(Default)]
struct Lines([AtomicU64; LINE]);

/// `width` slots per shard, each shard on lines of its own.
struct Slots {
    lines: Box<[Lines]>,
    /// Lines per shard.
    per_shard: usize,
}

impl Slots {
    fn new(width: usize) -> Self {
        let per_shard = width.div_ceil(LINE).max(1);
        Self {
            lines: (0..per_shard * SHARDS).map(|_| Lines::default()).collect(),
            per_shard,
        }
    }

    /// Slot `i` of `shard`.
    fn slot(&self, shard: usize, i: usize) -> &AtomicU64 {
        &self.lines[shard * self.per_shard + i / LINE].0[i % LINE]
    }

    /// Slot `i` of every shard.
    fn all(&self, i: usize) -> impl Iterator<Item = &AtomicU64> {
        (0..SHARDS).map(move |s| self.slot(s, i))
    }

    fn total(&self, i: usize) -> u64 {
        self.all(i)
            .map(|a| a.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }
}

/// One `T` per shard, each on cache lines of its own: a thread reads and writes its
/// shard's copy (a lock whose readers are all on one core stays in that core's cache).
pub(super) struct PerShard<T>(Box<[Aligned<T>]>);

#[repr(align(128))]
struct Aligned<T>(T);

impl<T> PerShard<T> {
    pub(super) fn new(make: impl Fn() -> T) -> Self {
        Self((0..SHARDS).map(|_| Aligned(make())).collect())
    }

    /// This thread's copy.
    pub(super) fn local(&self) -> &T {
        &self.0[shard()].0
    }

    /// Every copy, in shard order.
    pub(super) fn all(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|a| &a.0)
    }
}

/// A monotonic counter.
#[derive(Clone)]
pub(super) struct Counter(Arc<Slots>);

impl Default for Counter {
    fn default() -> Self {
        Self(Arc::new(Slots::new(1)))
    }
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Counter").field(&self.get()).finish()
    }
}

impl Counter {
    pub(super) fn inc(&self) {
        self.0.slot(shard(), 0).fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn get(&self) -> u64 {
        self.0.total(0)
    }
}

impl TypedMetric for Counter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for Counter {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// A gauge moved up and down by one (the requests in flight).
#[derive(Clone)]
pub(super) struct Gauge(Arc<Slots>);

impl Default for Gauge {
    fn default() -> Self {
        Self(Arc::new(Slots::new(1)))
    }
}

impl std::fmt::Debug for Gauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Gauge").field(&self.get()).finish()
    }
}

// A shard's slot may go below zero (one thread raised the gauge, another lowered it):
// slots wrap around, and their wrapping sum read as two's complement is the value.
impl Gauge {
    pub(super) fn inc(&self) {
        self.0.slot(shard(), 0).fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn dec(&self) {
        self.0.slot(shard(), 0).fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn get(&self) -> i64 {
        self.0.total(0).cast_signed()
    }
}

impl TypedMetric for Gauge {
    const TYPE: MetricType = MetricType::Gauge;
}

impl EncodeMetric for Gauge {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_gauge(&self.get())
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// A histogram with fixed upper bounds (and `+Inf`).
#[derive(Clone)]
pub(super) struct Histogram(Arc<HistogramInner>);

struct HistogramInner {
    bounds: Box<[f64]>,
    /// Slot 0: the sum (`f64` bits); slot `1 + i`: observations in bucket `i` (not
    /// cumulative; the last is `+Inf`).
    slots: Slots,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("bounds", &self.0.bounds)
            .finish_non_exhaustive()
    }
}

impl Histogram {
    pub(super) fn new(bounds: impl IntoIterator<Item = f64>) -> Self {
        let bounds: Box<[f64]> = bounds.into_iter().collect();
        let slots = Slots::new(bounds.len() + 2);
        Self(Arc::new(HistogramInner { bounds, slots }))
    }

    pub(super) fn observe(&self, value: f64) {
        let inner = &*self.0;
        let bucket = inner
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(inner.bounds.len());
        let shard = shard();
        inner
            .slots
            .slot(shard, 1 + bucket)
            .fetch_add(1, Ordering::Relaxed);
        // Only this shard's threads write its sum: the loop runs once but for a thread
        // that shares the shard and wrote in between.
        let sum = inner.slots.slot(shard, 0);
        let _ = sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + value).to_bits())
        });
    }

    /// Sum, count and the (non-cumulative) buckets with their upper bounds.
    fn snapshot(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let inner = &*self.0;
        let sum = inner
            .slots
            .all(0)
            .map(|a| f64::from_bits(a.load(Ordering::Relaxed)))
            .sum();
        let buckets: Vec<(f64, u64)> = inner
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .enumerate()
            .map(|(i, bound)| (bound, inner.slots.total(1 + i)))
            .collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        (sum, count, buckets)
    }
}

impl TypedMetric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.snapshot();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_add_up() {
        let counter = Counter::default();
        let gauge = Gauge::default();
        let histogram = Histogram::new([1.0, 10.0]);
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (counter, gauge, histogram) = (&counter, &gauge, &histogram);
                scope.spawn(move || {
                    for i in 0..1000 {
                        counter.inc();
                        gauge.inc();
                        if i % 2 == 0 {
                            gauge.dec();
                        }
                        histogram.observe(f64::from(t * 10 + i % 3));
                    }
                });
            }
        });
        assert_eq!(counter.get(), 4000);
        assert_eq!(gauge.get(), 2000);
        let (sum, count, buckets) = histogram.snapshot();
        assert_eq!(count, 4000);
        // t = 0: values 0, 1, 2 (two of three ≤ 1, one ≤ 10); t = 1: 10 (≤ 10), 11, 12;
        // t = 2, 3: all above 10.
        assert_eq!(buckets[0], (1.0, 667));
        assert_eq!(buckets[1], (10.0, 333 + 334));
        assert_eq!(buckets[2], (f64::INFINITY, 4000 - 667 - 667));
        let expected: f64 = (0..4)
            .flat_map(|t| (0..1000).map(move |i| f64::from(t * 10 + i % 3)))
            .sum();
        assert!((sum - expected).abs() < 1e-6, "{sum} vs {expected}");
    }

    #[test]
    fn shards_do_not_share_cache_lines() {
        let slots = Slots::new(3);
        let a = std::ptr::from_ref(slots.slot(0, 0)) as usize;
        let b = std::ptr::from_ref(slots.slot(1, 0)) as usize;
        assert_eq!(a % 128, 0);
        assert!(b - a >= 128);
    }
}
