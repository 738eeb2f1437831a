//! State-store call latency and failures by store and operation, and tasks by status,
//! beyond §14.1.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Store call buckets, in seconds: 100 µs to 1 s (an in-memory call is microseconds, a
/// database round trip a millisecond or more).
pub const STORE_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Call {
    operation: &'static str,
    store: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Status {
    status: String,
}

fn buckets() -> Histogram {
    Histogram::new(STORE_BUCKETS)
}

/// The families, registered.
pub(super) struct StoreFamilies {
    duration: Family<Call, Histogram, fn() -> Histogram>,
    errors: Family<Call, Counter>,
    tasks: Family<Status, Gauge>,
}

impl StoreFamilies {
    pub(super) fn register(r: &mut Registry) -> Self {
        let f = Self {
            duration: Family::new_with_constructor(buckets),
            errors: Family::default(),
            tasks: Family::default(),
        };
        r.register(
            "asap_state_store_duration_seconds",
            "State store calls by store and operation",
            f.duration.clone(),
        );
        r.register(
            "asap_state_store_errors",
            "State store calls that failed, by store and operation",
            f.errors.clone(),
        );
        r.register(
            "asap_tasks",
            "Stored tasks by status, as last counted",
            f.tasks.clone(),
        );
        f
    }

    pub(super) fn tasks(&self, status: &str, count: u64) {
        self.tasks
            .get_or_create(&Status {
                status: status.to_owned(),
            })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    pub(super) fn call(
        &self,
        store: &'static str,
        operation: &'static str,
        seconds: f64,
        ok: bool,
    ) {
        let label = Call { operation, store };
        self.duration.get_or_create(&label).observe(seconds);
        if !ok {
            self.errors.get_or_create(&label).inc();
        }
    }
}
