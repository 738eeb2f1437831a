//! Requests in flight and the sizes of their bodies, as read and as on the wire, beyond
//! §14.1.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::sharded;
use crate::observe::CodingEvent;

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

/// A compressed body: which one, in which coding. Both values come from fixed sets (the
/// codings of this build), so the family stays small whatever peers send.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Coded {
    body: &'static str,
    encoding: String,
}

fn sizes() -> Histogram {
    Histogram::new(SIZE_BUCKETS)
}

/// The families, registered.
pub(super) struct Flow {
    pub(super) active: sharded::Gauge,
    pub(super) request_size: sharded::Histogram,
    pub(super) response_size: sharded::Histogram,
    compressed_size: Family<Coded, Histogram, fn() -> Histogram>,
    plain_bytes: Family<Coded, Counter>,
}

impl Flow {
    pub(super) fn register(r: &mut Registry) -> Self {
        let f = Self {
            active: sharded::Gauge::default(),
            request_size: sharded::Histogram::new(SIZE_BUCKETS),
            response_size: sharded::Histogram::new(SIZE_BUCKETS),
            compressed_size: Family::new_with_constructor(sizes),
            plain_bytes: Family::default(),
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
        r.register(
            "asap_compressed_size_bytes",
            "Compressed bodies as on the wire: requests inflated, replies compressed, by coding",
            f.compressed_size.clone(),
        );
        r.register(
            "asap_compressed_plain_bytes",
            "The same bodies uncompressed (divide the wire bytes by it for the ratio)",
            f.plain_bytes.clone(),
        );
        f
    }

    pub(super) fn coded(&self, event: &CodingEvent<'_>) {
        let label = Coded {
            body: event.body.as_str(),
            encoding: event.encoding.to_owned(),
        };
        #[allow(clippy::cast_precision_loss)] // sizes far below 2^52
        self.compressed_size
            .get_or_create(&label)
            .observe(event.encoded_bytes as f64);
        self.plain_bytes
            .get_or_create(&label)
            .inc_by(event.plain_bytes as u64);
    }
}
