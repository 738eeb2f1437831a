//! What servers and clients report, to whoever observes them.
//!
//! A server calls an [`Observer`] once per answered `POST /asap` request
//! ([`Observer::on_response`]), once per handler run ([`Observer::on_handler`]) and once per
//! stored transition of a long-running task ([`Observer::on_transition`]), and once per
//! compressed body it inflates or sends ([`Observer::on_coding`]). A client calls it
//! once per send ([`Observer::on_send`]), retry ([`Observer::on_retry`]), circuit-breaker
//! change ([`Observer::on_breaker`]) and connection slot taken or given back
//! ([`Observer::on_pool`]). Like tower-http's `OnResponse` / `OnFailure` callbacks:
//! [`Metrics`](crate::metrics::Metrics) is one observer; an application adds its own (an
//! audit log, a custom metrics system) the same way. Callbacks run on the task of the
//! request or send they report: keep them short and never block.

mod client;
mod coding;

use std::time::Duration;

pub use client::{BreakerEvent, ConnectionEvent, PoolEvent, SendEvent};
pub use coding::{BodyKind, CodingEvent};

/// Receives the events of servers and clients. Every method has an empty default.
///
/// Calls come from many tasks at once. An observer records what it is told and nothing a
/// request depends on: it never fails or delays a request, and a call interrupted by a
/// panic leaves it usable by the next one (the server treats observers as unwind-safe).
pub trait Observer: Send + Sync + 'static {
    /// A `POST /asap` request arrived at the endpoint. Paired with
    /// [`on_request_end`](Self::on_request_end).
    fn on_request_start(&self) {}

    /// A request reported by [`on_request_start`](Self::on_request_start) is over: called
    /// exactly once per start, also for a request dropped unanswered (its client went
    /// away), after [`on_response`](Self::on_response) when there was one.
    fn on_request_end(&self) {}

    /// A `POST /asap` request was answered.
    fn on_response(&self, event: &ResponseEvent<'_>) {
        let _ = event;
    }

    /// A handler finished (returned, failed or panicked).
    fn on_handler(&self, event: &HandlerEvent<'_>) {
        let _ = event;
    }

    /// A request was answered with the stored response of an earlier run of its
    /// idempotency key (no handler ran); `payload_type` is labelled as in
    /// [`ResponseEvent::payload_type`].
    fn on_replay(&self, payload_type: &str) {
        let _ = payload_type;
    }

    /// A task moved through the state machine (PROTOCOL §8), as stored.
    fn on_transition(&self, event: &TransitionEvent<'_>) {
        let _ = event;
    }

    /// A request body arrived compressed and was inflated, or a reply was sent compressed
    /// (bodies sent or received as they are are not reported: their size is the one
    /// [`ResponseEvent`] carries).
    fn on_coding(&self, event: &CodingEvent<'_>) {
        let _ = event;
    }

    /// A client's send finished.
    fn on_send(&self, event: &SendEvent<'_>) {
        let _ = event;
    }

    /// A client is about to try a send again (to `peer`).
    fn on_retry(&self, peer: &str) {
        let _ = peer;
    }

    /// A client's circuit breaker changed state.
    fn on_breaker(&self, event: &BreakerEvent<'_>) {
        let _ = event;
    }

    /// A client took or gave back a connection slot.
    fn on_pool(&self, event: &PoolEvent<'_>) {
        let _ = event;
    }

    /// A client opened a connection to a peer, or one it had opened closed.
    fn on_connection(&self, event: &ConnectionEvent<'_>) {
        let _ = event;
    }
}

/// One stored task transition.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TransitionEvent<'a> {
    /// The task.
    pub task_id: &'a str,
    /// The status it left (`submitted`, `working`…).
    pub from: &'a str,
    /// The status it entered.
    pub to: &'a str,
}

impl<'a> TransitionEvent<'a> {
    /// Task `task_id` moved from `from` to `to`.
    pub fn new(task_id: &'a str, from: &'a str, to: &'a str) -> Self {
        Self { task_id, from, to }
    }
}

/// One answered request.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ResponseEvent<'a> {
    /// The payload type label (PROTOCOL §14.1): the envelope's `payload_type` when a
    /// handler is registered for it, else `other` (also before the envelope is decoded).
    pub payload_type: &'a str,
    /// Success, or why not.
    pub outcome: Outcome,
    /// From the request's arrival at the endpoint to its reply.
    pub duration: Duration,
    /// The request body as read (after any decompression), when it was read.
    pub request_bytes: Option<usize>,
    /// The reply's body as encoded (before any response compression).
    pub response_bytes: Option<usize>,
}

impl<'a> ResponseEvent<'a> {
    /// An event for a request of `payload_type` answered with `outcome` after `duration`.
    pub fn new(payload_type: &'a str, outcome: Outcome, duration: Duration) -> Self {
        Self {
            payload_type,
            outcome,
            duration,
            request_bytes: None,
            response_bytes: None,
        }
    }

    /// This event with the sizes of the request body read and of the reply's body.
    pub fn with_sizes(
        mut self,
        request_bytes: Option<usize>,
        response_bytes: Option<usize>,
    ) -> Self {
        self.request_bytes = request_bytes;
        self.response_bytes = response_bytes;
        self
    }
}

/// One handler run.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct HandlerEvent<'a> {
    /// The payload type the handler is registered for.
    pub payload_type: &'a str,
    /// Whether it returned a response (`false`: it failed or panicked).
    pub ok: bool,
    /// How long it ran.
    pub duration: Duration,
}

impl<'a> HandlerEvent<'a> {
    /// A run of the handler for `payload_type` that took `duration`.
    pub fn new(payload_type: &'a str, ok: bool, duration: Duration) -> Self {
        Self {
            payload_type,
            ok,
            duration,
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A success envelope.
    Success,
    /// An error reply of this kind.
    Error(ErrorType),
}

impl Outcome {
    /// `success` or `error`: the `status` label of §14.1.
    pub fn status(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Error(_) => "error",
        }
    }
}

/// Why a request failed: the `error_type` label of §14.1, plus the refusals the reference
/// does not count (rate limiting, HTTP-level refusals, idempotency conflicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorType {
    /// -32700: the body is not JSON (or not UTF-8).
    ParseError,
    /// -32600: not a JSON-RPC request.
    InvalidRequest,
    /// -32601 for a method other than `asap.send`.
    MethodNotFound,
    /// -32602 not covered by a more precise kind.
    InvalidParams,
    /// -32602: `params.envelope` is missing.
    MissingEnvelope,
    /// -32602: the envelope does not validate.
    InvalidEnvelope,
    /// -32600 with status 401: no or a bad token.
    AuthFailed,
    /// -32602 with status 403: the sender is not the authenticated identity.
    SenderMismatch,
    /// -32602: the timestamp is outside the window.
    InvalidTimestamp,
    /// -32602: the nonce was seen before (a replay).
    InvalidNonce,
    /// -32601: no handler for the payload type.
    HandlerNotFound,
    /// 503: the blocking handler pool is full.
    ThreadPoolExhausted,
    /// -32603: the handler failed or panicked.
    InternalError,
    /// 429: a rate limit was exceeded.
    RateLimited,
    /// -32602: an idempotency key reused with a different request.
    IdempotencyMismatch,
    /// 503 other than the pool: an idempotent duplicate still running, a store down.
    Unavailable,
    /// 413: the body (or its decompressed form) is too large.
    PayloadTooLarge,
    /// 408: the request took longer than the server's request timeout.
    Timeout,
    /// Another HTTP-level refusal (400 unreadable body, 415 unknown encoding).
    Http,
}

impl ErrorType {
    /// The label value, e.g. `invalid_timestamp`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::ParseError => "parse_error",
            ErrorType::InvalidRequest => "invalid_request",
            ErrorType::MethodNotFound => "method_not_found",
            ErrorType::InvalidParams => "invalid_params",
            ErrorType::MissingEnvelope => "missing_envelope",
            ErrorType::InvalidEnvelope => "invalid_envelope",
            ErrorType::AuthFailed => "auth_failed",
            ErrorType::SenderMismatch => "sender_mismatch",
            ErrorType::InvalidTimestamp => "invalid_timestamp",
            ErrorType::InvalidNonce => "invalid_nonce",
            ErrorType::HandlerNotFound => "handler_not_found",
            ErrorType::ThreadPoolExhausted => "thread_pool_exhausted",
            ErrorType::InternalError => "internal_error",
            ErrorType::RateLimited => "rate_limited",
            ErrorType::IdempotencyMismatch => "idempotency_mismatch",
            ErrorType::Unavailable => "unavailable",
            ErrorType::PayloadTooLarge => "payload_too_large",
            ErrorType::Timeout => "timeout",
            ErrorType::Http => "http_error",
        }
    }

    /// Every kind, in declaration order.
    pub const ALL: [ErrorType; 19] = [
        ErrorType::ParseError,
        ErrorType::InvalidRequest,
        ErrorType::MethodNotFound,
        ErrorType::InvalidParams,
        ErrorType::MissingEnvelope,
        ErrorType::InvalidEnvelope,
        ErrorType::AuthFailed,
        ErrorType::SenderMismatch,
        ErrorType::InvalidTimestamp,
        ErrorType::InvalidNonce,
        ErrorType::HandlerNotFound,
        ErrorType::ThreadPoolExhausted,
        ErrorType::InternalError,
        ErrorType::RateLimited,
        ErrorType::IdempotencyMismatch,
        ErrorType::Unavailable,
        ErrorType::PayloadTooLarge,
        ErrorType::Timeout,
        ErrorType::Http,
    ];
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Several observers as one: each event goes to every one, in order.
#[derive(Clone, Default)]
pub struct Observers(Vec<std::sync::Arc<dyn Observer>>);

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observers")
            .field("len", &self.0.len())
            .finish()
    }
}

impl Observers {
    /// No observer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `observer` after the others.
    pub fn push(&mut self, observer: std::sync::Arc<dyn Observer>) {
        self.0.push(observer);
    }

    /// Whether there is no observer (the server then measures nothing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Observer for Observers {
    fn on_request_start(&self) {
        for observer in &self.0 {
            observer.on_request_start();
        }
    }

    fn on_request_end(&self) {
        for observer in &self.0 {
            observer.on_request_end();
        }
    }

    fn on_response(&self, event: &ResponseEvent<'_>) {
        for observer in &self.0 {
            observer.on_response(event);
        }
    }

    fn on_handler(&self, event: &HandlerEvent<'_>) {
        for observer in &self.0 {
            observer.on_handler(event);
        }
    }

    fn on_replay(&self, payload_type: &str) {
        for observer in &self.0 {
            observer.on_replay(payload_type);
        }
    }

    fn on_transition(&self, event: &TransitionEvent<'_>) {
        for observer in &self.0 {
            observer.on_transition(event);
        }
    }

    fn on_coding(&self, event: &CodingEvent<'_>) {
        for observer in &self.0 {
            observer.on_coding(event);
        }
    }

    fn on_send(&self, event: &SendEvent<'_>) {
        for observer in &self.0 {
            observer.on_send(event);
        }
    }

    fn on_retry(&self, peer: &str) {
        for observer in &self.0 {
            observer.on_retry(peer);
        }
    }

    fn on_breaker(&self, event: &BreakerEvent<'_>) {
        for observer in &self.0 {
            observer.on_breaker(event);
        }
    }

    fn on_pool(&self, event: &PoolEvent<'_>) {
        for observer in &self.0 {
            observer.on_pool(event);
        }
    }

    fn on_connection(&self, event: &ConnectionEvent<'_>) {
        for observer in &self.0 {
            observer.on_connection(event);
        }
    }
}
