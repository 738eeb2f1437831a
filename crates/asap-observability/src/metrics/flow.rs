//! Requests in flight and the sizes of their bodies, beyond §14.1.

use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Body size buckets, in bytes: 256 B to 16 MiB by fours (the server's default limit is
/// 10 MiB).
pub const SIZE_BUCKETS: [f64; 9] = [
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
];

/// The families, registered.
pub(super) struct Flow {
    pub(super) active: Gauge,
    pub(super) request_size: Histogram,
    pub(super) response_size: Histogram,
}

impl Flow {
    pub(super) fn register(r: &mut Registry) -> Self {
        let f = Self {
            active: Gauge::default(),
            request_size: Histogram::new(SIZE_BUCKETS),
            response_size: Histogram::new(SIZE_BUCKETS),
        };
        r.register(
            "asap_active_requests",
            "POST /asap requests being processed",
            f.active.clone(),
        );
        r.register(
            "asap_request_size_bytes",
            "Request bodies as read, after decompression",
            f.request_size.clone(),
        );
        r.register(
            "asap_response_size_bytes",
            "Reply bodies as encoded, before compression",
            f.response_size.clone(),
        );
        f
    }
}
