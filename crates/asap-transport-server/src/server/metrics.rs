//! The idempotency layer's counters in a [`Metrics`] registry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use asap_observability::metrics::Metrics;

use crate::layers::idempotency::IdempotencyCounters;

/// Registers each counter of `counters`, read at scrape time (the layer keeps them as
/// atomics; nothing is added to its path).
pub(super) fn idempotency(metrics: &Metrics, counters: Arc<IdempotencyCounters>) {
    type Field = fn(&IdempotencyCounters) -> &AtomicU64;
    let series: [(&'static str, &'static str, Field); 7] = [
        (
            "asap_idempotency_runs",
            "Keyed requests whose handler ran",
            |c| &c.runs,
        ),
        (
            "asap_idempotency_replays",
            "Keyed requests answered with the stored response",
            |c| &c.replays,
        ),
        (
            "asap_idempotency_waits",
            "Keyed requests that waited for a run of the same key",
            |c| &c.waits,
        ),
        (
            "asap_idempotency_mismatches",
            "Idempotency keys reused for a different request",
            |c| &c.mismatches,
        ),
        (
            "asap_idempotency_releases",
            "Keyed runs released instead of completed",
            |c| &c.releases,
        ),
        (
            "asap_idempotency_store_errors",
            "Idempotency store errors",
            |c| &c.store_errors,
        ),
        (
            "asap_idempotency_purged",
            "Expired idempotency records removed",
            |c| &c.purged,
        ),
    ];
    for (name, help, field) in series {
        let counters = counters.clone();
        metrics.register_counter_fn(name, help, move || field(&counters).load(Ordering::Relaxed));
    }
}
