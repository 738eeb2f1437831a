//! The metric families of §14.1 and the handles of one payload type's series.

use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::{DURATION_BUCKETS, sharded};
use crate::observe::ErrorType;

// Label sets: fields in the alphabetical order of their names, the order the reference
// prints them in.

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeStatus {
    payload_type: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabel {
    payload_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeError {
    error_type: &'static str,
    payload_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Transition {
    from_status: String,
    to_status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Status {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Build {
    version: &'static str,
}

pub(super) type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

pub(super) fn durations() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// A family of request-path histograms, sharded.
type HotHistograms<L> = Family<L, sharded::Histogram, fn() -> sharded::Histogram>;

fn hot_durations() -> sharded::Histogram {
    sharded::Histogram::new(DURATION_BUCKETS)
}

/// Every family, registered.
pub(super) struct Families {
    requests: Family<TypeStatus, sharded::Counter>,
    success: Family<TypeLabel, sharded::Counter>,
    errors: Family<TypeError, Counter>,
    duration: HotHistograms<TypeStatus>,
    handler_executions: Family<TypeLabel, sharded::Counter>,
    handler_errors: Family<TypeLabel, sharded::Counter>,
    handler_duration: HotHistograms<TypeLabel>,
    replays: Family<TypeLabel, sharded::Counter>,
    pool_exhausted: Counter,
    transitions: Family<Transition, Counter>,
    send: Family<Status, Counter>,
    send_errors: Family<Reason, Counter>,
    send_duration: Histograms<Status>,
    pub(super) retries: Counter,
    parse_errors: Counter,
    auth_failures: Counter,
    validation_errors: Family<Reason, Counter>,
    invalid_timestamp: Counter,
    invalid_nonce: Counter,
    sender_mismatch: Counter,
    rate_limited: Counter,
}

/// The series one payload type label updates on every request, resolved once (sharded:
/// every server worker writes them).
pub(super) struct PerType {
    pub(super) success: sharded::Counter,
    pub(super) error: sharded::Counter,
    pub(super) success_total: sharded::Counter,
    pub(super) success_duration: sharded::Histogram,
    pub(super) error_duration: sharded::Histogram,
    pub(super) handler_executions: sharded::Counter,
    pub(super) handler_errors: sharded::Counter,
    pub(super) handler_duration: sharded::Histogram,
    pub(super) replays: sharded::Counter,
}

impl Families {
    pub(super) fn register(registry: &mut Registry, started: Instant) -> Self {
        let families = Families {
            requests: Family::default(),
            success: Family::default(),
            errors: Family::default(),
            duration: Family::new_with_constructor(hot_durations),
            handler_executions: Family::default(),
            handler_errors: Family::default(),
            handler_duration: Family::new_with_constructor(hot_durations),
            replays: Family::default(),
            pool_exhausted: Counter::default(),
            transitions: Family::default(),
            send: Family::default(),
            send_errors: Family::default(),
            send_duration: Family::new_with_constructor(durations),
            retries: Counter::default(),
            parse_errors: Counter::default(),
            auth_failures: Counter::default(),
            validation_errors: Family::default(),
            invalid_timestamp: Counter::default(),
            invalid_nonce: Counter::default(),
            sender_mismatch: Counter::default(),
            rate_limited: Counter::default(),
        };
        let f = &families;
        let r = registry;
        r.register(
            "asap_requests",
            "Total number of ASAP requests received",
            f.requests.clone(),
        );
        r.register(
            "asap_requests_success",
            "Total number of successful ASAP requests",
            f.success.clone(),
        );
        r.register(
            "asap_requests_error",
            "Total number of failed ASAP requests",
            f.errors.clone(),
        );
        r.register(
            "asap_request_duration_seconds",
            "Request processing duration in seconds",
            f.duration.clone(),
        );
        r.register(
            "asap_handler_executions",
            "Total number of handler executions",
            f.handler_executions.clone(),
        );
        r.register(
            "asap_idempotent_replays",
            "Requests answered with the stored response of an earlier run of their idempotency key",
            f.replays.clone(),
        );
        r.register(
            "asap_handler_errors",
            "Total number of handler execution failures",
            f.handler_errors.clone(),
        );
        r.register(
            "asap_handler_duration_seconds",
            "Handler execution duration in seconds",
            f.handler_duration.clone(),
        );
        r.register(
            "asap_thread_pool_exhausted",
            "Total number of thread pool exhaustion events",
            f.pool_exhausted.clone(),
        );
        r.register(
            "asap_state_transitions",
            "Total number of state machine transitions",
            f.transitions.clone(),
        );
        r.register(
            "asap_transport_send",
            "Total number of transport send attempts",
            f.send.clone(),
        );
        r.register(
            "asap_transport_send_errors",
            "Total number of transport send errors",
            f.send_errors.clone(),
        );
        r.register(
            "asap_transport_send_duration_seconds",
            "Transport send duration in seconds",
            f.send_duration.clone(),
        );
        r.register(
            "asap_transport_retries",
            "Total number of transport retries",
            f.retries.clone(),
        );
        r.register(
            "asap_parse_errors",
            "Total number of JSON-RPC parse errors",
            f.parse_errors.clone(),
        );
        r.register(
            "asap_auth_failures",
            "Total number of authentication failures",
            f.auth_failures.clone(),
        );
        r.register(
            "asap_validation_errors",
            "Total number of envelope validation errors",
            f.validation_errors.clone(),
        );
        r.register(
            "asap_invalid_timestamp",
            "Total number of invalid timestamp rejections",
            f.invalid_timestamp.clone(),
        );
        r.register(
            "asap_invalid_nonce",
            "Total number of invalid nonce rejections",
            f.invalid_nonce.clone(),
        );
        r.register(
            "asap_sender_mismatch",
            "Total number of sender identity mismatches",
            f.sender_mismatch.clone(),
        );
        r.register(
            "asap_rate_limited",
            "Total number of requests refused by a rate limit",
            f.rate_limited.clone(),
        );
        r.register(
            "asap_build",
            "Build information",
            Info::new(Build {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        r.register_collector(Box::new(Uptime(started)));
        families
    }

    pub(super) fn per_type(&self, payload_type: &str) -> PerType {
        let with = |status| TypeStatus {
            payload_type: payload_type.to_owned(),
            status,
        };
        let label = TypeLabel {
            payload_type: payload_type.to_owned(),
        };
        // One statement per series: `get_or_create` hands out a read guard of its family,
        // and a second call on the same family within one expression would wait for the
        // write lock behind it.
        let success = self.requests.get_or_create(&with("success")).clone();
        let error = self.requests.get_or_create(&with("error")).clone();
        let success_total = self.success.get_or_create(&label).clone();
        let success_duration = self.duration.get_or_create(&with("success")).clone();
        let error_duration = self.duration.get_or_create(&with("error")).clone();
        let handler_executions = self.handler_executions.get_or_create(&label).clone();
        let handler_errors = self.handler_errors.get_or_create(&label).clone();
        let handler_duration = self.handler_duration.get_or_create(&label).clone();
        let replays = self.replays.get_or_create(&label).clone();
        PerType {
            success,
            error,
            success_total,
            success_duration,
            error_duration,
            handler_executions,
            handler_errors,
            handler_duration,
            replays,
        }
    }

    /// The error series of a failed request, and the dedicated counter of its kind.
    pub(super) fn error(&self, payload_type: &str, kind: ErrorType) {
        self.errors
            .get_or_create(&TypeError {
                error_type: kind.as_str(),
                payload_type: payload_type.to_owned(),
            })
            .inc();
        let validation = |reason: &str| {
            self.validation_errors
                .get_or_create(&Reason {
                    reason: reason.to_owned(),
                })
                .inc();
        };
        match kind {
            ErrorType::ParseError => {
                self.parse_errors.inc();
            }
            ErrorType::AuthFailed => {
                self.auth_failures.inc();
            }
            ErrorType::InvalidTimestamp => {
                self.invalid_timestamp.inc();
            }
            ErrorType::InvalidNonce => {
                self.invalid_nonce.inc();
            }
            ErrorType::SenderMismatch => {
                self.sender_mismatch.inc();
            }
            ErrorType::ThreadPoolExhausted => {
                self.pool_exhausted.inc();
            }
            ErrorType::RateLimited => {
                self.rate_limited.inc();
            }
            ErrorType::InvalidEnvelope => validation("invalid_envelope"),
            ErrorType::MissingEnvelope => validation("missing_envelope"),
            ErrorType::InvalidParams => validation("invalid_params"),
            _ => {}
        }
    }

    pub(super) fn state_transition(&self, from: &str, to: &str) {
        self.transitions
            .get_or_create(&Transition {
                from_status: from.to_owned(),
                to_status: to.to_owned(),
            })
            .inc();
    }

    pub(super) fn transport_send(&self, status: &str, seconds: f64) {
        let label = Status {
            status: status.to_owned(),
        };
        self.send.get_or_create(&label).inc();
        self.send_duration.get_or_create(&label).observe(seconds);
    }

    pub(super) fn transport_send_error(&self, reason: &str) {
        self.send_errors
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }
}

/// `asap_process_uptime_seconds`, read at each scrape.
#[derive(Debug)]
struct Uptime(Instant);

impl Collector for Uptime {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let gauge = ConstGauge::new(self.0.elapsed().as_secs_f64());
        let metric = encoder.encode_descriptor(
            "asap_process_uptime_seconds",
            "Seconds since the metrics were created",
            None,
            gauge.metric_type(),
        )?;
        gauge.encode(metric)
    }
}

/// A counter whose value is read from elsewhere at each scrape.
pub(super) struct CounterFn {
    name: &'static str,
    help: &'static str,
    read: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl CounterFn {
    pub(super) fn new(
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            help,
            read: Box::new(read),
        }
    }
}

impl std::fmt::Debug for CounterFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CounterFn")
            .field("name", &self.name)
            .finish()
    }
}

impl Collector for CounterFn {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new((self.read)());
        let metric =
            encoder.encode_descriptor(self.name, self.help, None, counter.metric_type())?;
        counter.encode(metric)
    }
}
