//! Reports of answered requests and handler runs to an [`Observer`]
//! (asap-observability): the labels they carry and the error kind of each refusal.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use asap_codec::compression::Encoding;
use asap_codec::rpc::RpcError;
use asap_model::error::rpc;
use asap_observability::observe::{
    BodyKind, CodingEvent, ErrorType, Observer, Outcome, ResponseEvent,
};
use http::StatusCode;

use crate::layers::idempotency::MISMATCH_CODE;
use crate::rejection::Rejection;

/// The `payload_type` label of requests whose envelope names no registered handler, or
/// that were refused before their envelope was read (PROTOCOL §14.1).
pub(crate) const OTHER: &str = "other";

/// An observer and the payload types that get a label of their own.
///
/// Only registered payload types become label values: a label per type a peer sends would
/// let any peer grow the metrics without bound.
///
/// One `Arc`: a request holds a clone from its arrival to its reply.
#[derive(Clone)]
pub(crate) struct Observation(Arc<Inner>);

struct Inner {
    observer: Arc<dyn Observer>,
    /// foldhash rather than SipHash: one lookup per request, of a small set fixed at build
    /// time (a peer's payload type can only miss), at a fraction of SipHash's cost.
    labels: HashSet<Arc<str>, foldhash::quality::RandomState>,
    other: Arc<str>,
}

// An observer only records what it is told (the `Observer` contract: it never fails a
// request and holds no state a half-finished call could leave inconsistent for the next
// one), so one seen after a panic elsewhere is as usable as before. Without these, the
// endpoint and the router, which hold an `Observation`, would stop being `UnwindSafe`
// because of the `dyn Observer`.
impl std::panic::UnwindSafe for Inner {}
impl std::panic::RefUnwindSafe for Inner {}

impl std::fmt::Debug for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observation")
            .field("labels", &self.0.labels)
            .finish_non_exhaustive()
    }
}

impl Observation {
    pub(crate) fn new<'a>(
        observer: Arc<dyn Observer>,
        payload_types: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self(Arc::new(Inner {
            observer,
            labels: payload_types.into_iter().map(Arc::from).collect(),
            other: Arc::from(OTHER),
        }))
    }

    pub(crate) fn observer(&self) -> &Arc<dyn Observer> {
        &self.0.observer
    }

    /// The label of a request for `payload_type` (a reference count, no allocation).
    pub(crate) fn label(&self, payload_type: Option<&str>) -> Arc<str> {
        payload_type
            .and_then(|t| self.0.labels.get(t))
            .unwrap_or(&self.0.other)
            .clone()
    }

    /// Reports a `body` that was `encoded` bytes on the wire in `encoding` and `plain`
    /// bytes uncompressed.
    pub(crate) fn coded(&self, body: BodyKind, encoding: Encoding, encoded: usize, plain: usize) {
        let event = CodingEvent::new(body, encoding.as_str(), encoded, plain);
        self.0.observer.on_coding(&event);
    }

    /// Reports a request of `payload_type` answered with a stored response.
    pub(crate) fn replay(&self, payload_type: &str) {
        let label = self.label(Some(payload_type));
        self.0.observer.on_replay(&label);
    }

    /// The outcome of a request answered with `result`.
    pub(crate) fn outcome(result: Result<(), &Rejection>) -> Outcome {
        match result {
            Ok(()) => Outcome::Success,
            Err(rejection) => Outcome::Error(classify(rejection)),
        }
    }

    /// Reports a request that arrived at `started` and was answered with `outcome`, with
    /// the sizes of its body as read and of the reply's body (`sizes`).
    pub(crate) fn respond(
        &self,
        label: &str,
        started: Instant,
        outcome: Outcome,
        sizes: (Option<usize>, Option<usize>),
    ) {
        self.0.observer.on_response(
            &ResponseEvent::new(label, outcome, started.elapsed()).with_sizes(sizes.0, sizes.1),
        );
    }

    /// Reports a JSON-RPC framing error (answered before any service ran).
    pub(crate) fn framing_error(
        &self,
        started: Instant,
        error: &RpcError,
        sizes: (Option<usize>, Option<usize>),
    ) {
        let outcome = Outcome::Error(classify_rpc(error));
        self.respond(&self.0.other, started, outcome, sizes);
    }
}

/// The outcome of a request refused by a rate limit.
pub(crate) fn rate_limited() -> Outcome {
    Outcome::Error(ErrorType::RateLimited)
}

/// The error kind of a refusal, for `asap_requests_error_total{error_type}` and the
/// dedicated counters (parse, auth, validation, timestamp, nonce, sender…).
pub(crate) fn classify(rejection: &Rejection) -> ErrorType {
    match rejection {
        Rejection::Rpc(error) => classify_rpc(error),
        Rejection::RateLimited { .. } => ErrorType::RateLimited,
        Rejection::Unavailable(error) => match error.code {
            asap_model::ErrorCode::ThreadPoolExhausted => ErrorType::ThreadPoolExhausted,
            _ => ErrorType::Unavailable,
        },
        Rejection::Http { status, .. } => match *status {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorType::PayloadTooLarge,
            StatusCode::REQUEST_TIMEOUT => ErrorType::Timeout,
            _ => ErrorType::Http,
        },
    }
}

/// The error kind of a JSON-RPC error, from its code and the `data` our layers write
/// (the constructors of [`RpcError`] and the `data.code` of ASAP errors).
pub(crate) fn classify_rpc(error: &RpcError) -> ErrorType {
    let data = error.data.as_ref();
    let field = |name: &str| data.and_then(|d| d.get(name));
    let status = field("status_code").and_then(serde_json::Value::as_u64);
    let code = field("code").and_then(serde_json::Value::as_str);
    match error.code {
        rpc::PARSE_ERROR => ErrorType::ParseError,
        rpc::INVALID_REQUEST if status == Some(401) => ErrorType::AuthFailed,
        rpc::INVALID_REQUEST => ErrorType::InvalidRequest,
        rpc::METHOD_NOT_FOUND if field("payload_type").is_some() => ErrorType::HandlerNotFound,
        rpc::METHOD_NOT_FOUND => ErrorType::MethodNotFound,
        rpc::INVALID_PARAMS => match (status, code, error.data_error()) {
            (Some(403), _, _) => ErrorType::SenderMismatch,
            (_, Some("asap:protocol/invalid_timestamp"), _) => ErrorType::InvalidTimestamp,
            (_, Some("asap:protocol/invalid_nonce"), _) => ErrorType::InvalidNonce,
            (_, Some(MISMATCH_CODE), _) => ErrorType::IdempotencyMismatch,
            (_, _, Some("Missing 'envelope' in params")) => ErrorType::MissingEnvelope,
            (_, _, Some("Invalid envelope structure")) => ErrorType::InvalidEnvelope,
            _ => ErrorType::InvalidParams,
        },
        rpc::RATE_LIMITED => ErrorType::RateLimited,
        _ => ErrorType::InternalError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_map_to_their_kind() {
        let validation = asap_model::ValidationError::value_error("bad sender");
        let cases = [
            (RpcError::parse_error("x"), ErrorType::ParseError),
            (RpcError::not_an_object("array"), ErrorType::InvalidRequest),
            (RpcError::authentication_required(), ErrorType::AuthFailed),
            (RpcError::invalid_token(), ErrorType::AuthFailed),
            (RpcError::method_not_found("x"), ErrorType::MethodNotFound),
            (RpcError::handler_not_found("x"), ErrorType::HandlerNotFound),
            (RpcError::missing_envelope(), ErrorType::MissingEnvelope),
            (
                RpcError::invalid_envelope(&validation),
                ErrorType::InvalidEnvelope,
            ),
            (RpcError::params_not_object(&[]), ErrorType::InvalidParams),
            (RpcError::sender_mismatch(), ErrorType::SenderMismatch),
            (
                RpcError::asap(
                    "t",
                    &asap_model::AsapError::new(asap_model::ErrorCode::InvalidTimestamp, "old"),
                ),
                ErrorType::InvalidTimestamp,
            ),
            (RpcError::internal(), ErrorType::InternalError),
            (RpcError::rate_limited(1, "1/s"), ErrorType::RateLimited),
        ];
        for (error, kind) in cases {
            assert_eq!(classify_rpc(&error), kind, "{error:?}");
        }
        assert_eq!(
            classify(&Rejection::http(StatusCode::PAYLOAD_TOO_LARGE, "big")),
            ErrorType::PayloadTooLarge
        );
        assert_eq!(
            classify(&Rejection::Unavailable(
                asap_model::AsapError::thread_pool_exhausted(4, 4)
            )),
            ErrorType::ThreadPoolExhausted
        );
    }
}
