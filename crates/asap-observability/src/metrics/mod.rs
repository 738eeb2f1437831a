//! Prometheus / OpenMetrics metrics of an agent (PROTOCOL §14.1, without the reference's
//! bucket bug I-13).
//!
//! [`Metrics`] owns a [`Registry`] holding every metric of §14.1, and client metrics by
//! peer, and is an [`Observer`]: give it to the server and serve [`Metrics::encode`] at
//! `GET /asap/metrics` (the server's builder does both), and to the clients the agent sends
//! with (`AsapClientBuilder::metrics`, feature `metrics` of asap-transport-client). Applications register their own metrics in the same
//! registry ([`Metrics::registry_mut`] before sharing it, or [`Metrics::register_counter_fn`]
//! for values read at scrape time).

mod client;
mod exposition;
mod families;
mod flow;
mod labelled;
mod sharded;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use prometheus_client::registry::Registry;

pub use exposition::{Format, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};
use families::{Families, PerType};
pub use flow::SIZE_BUCKETS;
pub use store::STORE_BUCKETS;

use crate::observe::{
    BreakerEvent, CodingEvent, ConnectionEvent, HandlerEvent, Observer, Outcome, PoolEvent,
    ResponseEvent, SendEvent, TransitionEvent,
};

/// Histogram buckets of request and handler durations, in seconds (those of §14.1).
pub const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The metrics of one agent process and their registry.
pub struct Metrics {
    /// Locked only to register a collector after sharing and to encode a scrape; requests
    /// update their series through the handles in `families` and `per_type`.
    registry: RwLock<Registry>,
    families: Families,
    client: client::ClientFamilies,
    flow: flow::Flow,
    stores: store::StoreFamilies,
    /// The families of `register_labelled_counter_fn`, by name.
    labelled: std::sync::Mutex<HashMap<&'static str, Arc<labelled::LabelledCounters>>>,
    /// Handles of the series of each payload type label, so that a request updates its
    /// series without building a label set (an allocation) and hashing it in the family.
    /// foldhash rather than SipHash: two lookups per request, of the registered payload
    /// types only (the server labels every other type `other`), at a fraction of the cost.
    /// One copy of the map per shard, so that workers looking up their series on different
    /// cores do not write the same lock word; a new label is added to every copy.
    per_type: sharded::PerShard<RwLock<TypeMap>>,
}

type TypeMap = HashMap<Box<str>, Arc<PerType>, foldhash::quality::RandomState>;

// Every series is an atomic and every registry update is a single insertion under the
// lock, so a panic elsewhere cannot leave a half-made update behind; the registry's
// `dyn` collectors are what would otherwise make `Metrics`, and whatever holds it, lose
// `UnwindSafe`.
impl std::panic::UnwindSafe for Metrics {}
impl std::panic::RefUnwindSafe for Metrics {}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric of §14.1 registered, all at zero; `asap_build_info` names this crate's
    /// version.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let families = Families::register(&mut registry, Instant::now());
        let client = client::ClientFamilies::register(&mut registry);
        let flow = flow::Flow::register(&mut registry);
        let stores = store::StoreFamilies::register(&mut registry);
        Self {
            registry: RwLock::new(registry),
            families,
            client,
            flow,
            stores,
            labelled: std::sync::Mutex::default(),
            per_type: sharded::PerShard::new(RwLock::default),
        }
    }

    /// The registry, to add metrics of the application before the `Metrics` is shared.
    pub fn registry_mut(&mut self) -> &mut Registry {
        self.registry.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a counter whose value `read` returns at each scrape (for counts kept
    /// elsewhere as atomics, such as the idempotency layer's runs and replays). Works on a
    /// shared `Metrics`; `name` is given without the `_total` suffix.
    pub fn register_counter_fn(
        &self,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> u64 + Send + Sync + 'static,
    ) {
        self.registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .register_collector(Box::new(families::CounterFn::new(name, help, read)));
    }

    /// Registers `read`, a count kept elsewhere, as the series `name{label="value"}` of the
    /// counter family `name` (given without `_total`), read at each scrape. The first call
    /// for a `name` registers the family with its `help` and `label`; later calls add series
    /// to it. Series of the same value are summed. `read` answers `None` once what it reads
    /// from is gone (hold a `Weak`): the series is then dropped, so sources created and
    /// dropped over time do not accumulate.
    pub fn register_labelled_counter_fn(
        &self,
        name: &'static str,
        help: &'static str,
        label: &'static str,
        value: impl Into<String>,
        read: impl Fn() -> Option<u64> + Send + Sync + 'static,
    ) {
        let family = {
            let mut families = self.labelled.lock().unwrap_or_else(|e| e.into_inner());
            match families.get(name) {
                Some(family) => family.clone(),
                None => {
                    let family = labelled::LabelledCounters::new(name, help, label);
                    self.registry
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .register_collector(Box::new(labelled::Registered(family.clone())));
                    families.insert(name, family.clone());
                    family
                }
            }
        };
        family.add(value.into(), Box::new(read));
    }

    /// The exposition in `format`.
    pub fn encode(&self, format: Format) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        // Writing into a String cannot fail.
        let _ = match format {
            Format::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
            }
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
        };
        out
    }

    /// Records a state-store call (`asap_state_store_duration_seconds`, and
    /// `asap_state_store_errors_total` when it failed): `store` is `tasks`, `snapshots`,
    /// `idempotency`, `nonces` or `rate_limits`, `operation` the trait method. asap-state's
    /// `Stores::timed` reports every call; hand it an observer that calls this.
    pub fn store_call(
        &self,
        store: &'static str,
        operation: &'static str,
        duration: std::time::Duration,
        ok: bool,
    ) {
        self.stores
            .call(store, operation, duration.as_secs_f64(), ok);
    }

    /// Sets `asap_tasks{status}`: `count` stored tasks are in `status` (`submitted`,
    /// `working`…), as a periodic count of the task store finds them.
    pub fn tasks_in_status(&self, status: &str, count: u64) {
        self.stores.tasks(status, count);
    }

    /// Counts a state-machine transition of a task (`asap_state_transitions_total`).
    pub fn state_transition(&self, from: &str, to: &str) {
        self.families.state_transition(from, to);
    }

    /// Counts a client send (`asap_transport_send_total`, `…_send_duration_seconds`) with
    /// its `status` (`success` or `error`).
    pub fn transport_send(&self, status: &str, duration: std::time::Duration) {
        self.families.transport_send(status, duration.as_secs_f64());
    }

    /// Counts a failed client send by the error's class (`asap_transport_send_errors_total`).
    pub fn transport_send_error(&self, reason: &str) {
        self.families.transport_send_error(reason);
    }

    /// Counts a client retry (`asap_transport_retries_total`).
    pub fn transport_retry(&self) {
        self.families.retries.inc();
    }

    /// Runs `f` on the series handles of `payload_type`, made on its first request. The
    /// handles are used under this thread's read guard: cloning the `Arc` would write its
    /// count, shared by every worker.
    fn with_type<R>(&self, payload_type: &str, f: impl FnOnce(&PerType) -> R) -> R {
        {
            let local = self
                .per_type
                .local()
                .read()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(found) = local.get(payload_type) {
                return f(found);
            }
        }
        let made = Arc::new(self.families.per_type(payload_type));
        // Every copy gets the same handles; a thread that made them at the same time for
        // the same label keeps the first (the series are the family's either way).
        for copy in self.per_type.all() {
            copy.write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(payload_type.into())
                .or_insert_with(|| made.clone());
        }
        f(&made)
    }
}

impl Observer for Metrics {
    fn on_request_start(&self) {
        self.flow.active.inc();
    }

    fn on_request_end(&self) {
        self.flow.active.dec();
    }

    fn on_response(&self, event: &ResponseEvent<'_>) {
        #[allow(clippy::cast_precision_loss)] // sizes far below 2^52
        {
            if let Some(bytes) = event.request_bytes {
                self.flow.request_size.observe(bytes as f64);
            }
            if let Some(bytes) = event.response_bytes {
                self.flow.response_size.observe(bytes as f64);
            }
        }
        let seconds = event.duration.as_secs_f64();
        self.with_type(event.payload_type, |series| match event.outcome {
            Outcome::Success => {
                series.success.inc();
                series.success_total.inc();
                series.success_duration.observe(seconds);
            }
            Outcome::Error(_) => {
                series.error.inc();
                series.error_duration.observe(seconds);
            }
        });
        if let Outcome::Error(kind) = event.outcome {
            self.families.error(event.payload_type, kind);
        }
    }

    fn on_handler(&self, event: &HandlerEvent<'_>) {
        self.with_type(event.payload_type, |series| {
            series.handler_executions.inc();
            if !event.ok {
                series.handler_errors.inc();
            }
            series
                .handler_duration
                .observe(event.duration.as_secs_f64());
        });
    }

    fn on_replay(&self, payload_type: &str) {
        self.with_type(payload_type, |series| series.replays.inc());
    }

    fn on_transition(&self, event: &TransitionEvent<'_>) {
        self.families.state_transition(event.from, event.to);
    }

    fn on_coding(&self, event: &CodingEvent<'_>) {
        self.flow.coded(event);
    }

    fn on_send(&self, event: &SendEvent<'_>) {
        let status = if event.error.is_some() {
            "error"
        } else {
            "success"
        };
        self.families
            .transport_send(status, event.duration.as_secs_f64());
        if let Some(reason) = event.error {
            self.families.transport_send_error(reason);
        }
        self.client.send(event);
    }

    fn on_retry(&self, peer: &str) {
        self.families.retries.inc();
        self.client.retry(peer);
    }

    fn on_breaker(&self, event: &BreakerEvent<'_>) {
        self.client.breaker(event);
    }

    fn on_pool(&self, event: &PoolEvent<'_>) {
        self.client.pool(event);
    }

    fn on_connection(&self, event: &ConnectionEvent<'_>) {
        self.client.connection(event);
    }
}
