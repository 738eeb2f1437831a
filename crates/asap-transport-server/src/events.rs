//! The log events of PROTOCOL §14.2 (`asap.request.received`, `asap.request.processed`,
//! `asap.request.error`) and the `ASAP_DEBUG_LOG` envelope dumps.
//!
//! Every event goes to `tracing` under [`LOG_TARGET`](crate::LOG_TARGET); what is written, and
//! where, is the subscriber's business (`asap_observability::logging`). While no subscriber
//! wants them the events cost one interest check each: what they carry is computed only
//! for an enabled event, and [`Logged`] is not even made.
//!
//! Unlike the reference, `asap.request.processed` carries the **request's** envelope id
//! (I-17), so that `asap trace` pairs each hop with its duration.

use std::time::Instant;

use asap_codec::rpc::RpcError;
use asap_model::{Envelope, EnvelopeId};
use asap_observability::logging::event;
use asap_observability::observe::ErrorType;
use asap_observability::redact::{sanitize_for_logging, sanitize_str};
use tracing::Level;

use crate::LOG_TARGET;
use crate::rejection::Rejection;

/// `event` of the sanitized request envelope logged when `ASAP_DEBUG_LOG` is on.
pub(crate) const REQUEST_ENVELOPE: &str = "asap.request.envelope";
/// `event` of the sanitized response envelope logged when `ASAP_DEBUG_LOG` is on.
pub(crate) const RESPONSE_ENVELOPE: &str = "asap.response.envelope";

/// Logs `asap.request.received` for a request whose envelope passed decoding and
/// authentication, before the envelope-level checks and the handler.
pub(crate) fn received(envelope: &Envelope, ctx: &crate::RequestContext) {
    tracing::info!(
        target: LOG_TARGET,
        event = event::RECEIVED,
        envelope_id = %envelope.id,
        trace_id = %trace_id(envelope, ctx),
        payload_type = %envelope.payload_type,
        sender = %envelope.sender,
        recipient = %envelope.recipient,
        authenticated = ctx.identity.is_some(),
    );
}

/// The trace id a request's events carry: the envelope's own, else the server's (the one
/// the response is given, PROTOCOL §14.3), so that received and processed agree.
fn trace_id(envelope: &Envelope, ctx: &crate::RequestContext) -> String {
    envelope
        .trace_id
        .clone()
        .unwrap_or_else(|| ctx.trace.trace_id_hex())
}

/// What the closing event of one `POST /asap` request needs, kept only while events are
/// enabled (see [`Logged::start`]).
#[derive(Debug)]
pub(crate) struct Logged {
    started: Instant,
    debug_log: bool,
    request: Option<(EnvelopeId, String)>,
}

impl Logged {
    /// Starts the record of a request, or `None` when no event of this crate can be written
    /// (the usual case of a service without a subscriber) and no envelope is to be dumped.
    pub(crate) fn start(debug_log: bool) -> Option<Self> {
        tracing::enabled!(target: LOG_TARGET, Level::WARN).then(|| Self {
            started: Instant::now(),
            debug_log,
            request: None,
        })
    }

    /// The request's envelope was decoded: its id and payload type are kept for the closing
    /// event, they are recorded in the request span (see
    /// [`AccessLog`](crate::layers::access_log::AccessLog)), and with `ASAP_DEBUG_LOG` the
    /// sanitized envelope is logged.
    pub(crate) fn decoded(&mut self, envelope: &Envelope) {
        let span = tracing::Span::current();
        if !span.is_disabled() {
            span.record("envelope_id", tracing::field::display(&envelope.id));
            span.record("payload_type", envelope.payload_type.as_str());
            span.record("sender", tracing::field::display(&envelope.sender));
        }
        if self.debug_log {
            dump(REQUEST_ENVELOPE, envelope);
        }
        self.request = Some((envelope.id.clone(), envelope.payload_type.clone()));
    }

    /// Logs `asap.request.processed` for `reply`, the response envelope (its trace ids
    /// injected).
    pub(crate) fn processed(&self, reply: &Envelope) {
        if self.debug_log {
            dump(RESPONSE_ENVELOPE, reply);
        }
        let (request_id, payload_type) = match &self.request {
            Some((id, payload_type)) => (Some(id), payload_type.as_str()),
            None => (None, reply.payload_type.as_str()),
        };
        tracing::info!(
            target: LOG_TARGET,
            event = event::PROCESSED,
            envelope_id = %request_id.unwrap_or(&reply.id),
            response_id = %reply.id,
            trace_id = reply.trace_id.as_deref().unwrap_or_default(),
            payload_type,
            duration_ms = duration_ms(self.started),
        );
    }

    /// Logs `asap.request.error` for a request refused with `rejection`.
    pub(crate) fn rejected(&self, rejection: &Rejection) {
        let kind = crate::observe::classify(rejection);
        let data = match rejection {
            Rejection::Rpc(error) => error.data.as_ref(),
            _ => None,
        };
        self.error(kind, &rejection.to_string(), data);
    }

    /// Logs `asap.request.error` for a JSON-RPC framing error (no envelope was read).
    pub(crate) fn framing_error(&self, error: &RpcError) {
        let kind = crate::observe::classify_rpc(error);
        self.error(kind, &error.message, error.data.as_ref());
    }

    fn error(&self, kind: ErrorType, message: &str, data: Option<&serde_json::Value>) {
        let envelope_id = self.request.as_ref().map(|(id, _)| id);
        // A handler failure is the server's fault; every other refusal is the peer's.
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(
                    target: LOG_TARGET,
                    $level,
                    event = event::ERROR,
                    error = %sanitize_str(message),
                    error_type = kind.as_str(),
                    envelope_id = envelope_id.map(tracing::field::display),
                    data = data.map(|d| tracing::field::display(sanitize_for_logging(d))),
                    duration_ms = duration_ms(self.started),
                )
            };
        }
        if kind == ErrorType::InternalError {
            emit!(Level::ERROR);
        } else {
            emit!(Level::WARN);
        }
    }
}

/// Milliseconds since `started`, to two decimals as the reference writes them.
fn duration_ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0
}

/// Logs `envelope` under `name`, sanitized (PROTOCOL §11.6), as one JSON text field.
fn dump(name: &'static str, envelope: &Envelope) {
    if !tracing::enabled!(target: LOG_TARGET, Level::INFO) {
        return;
    }
    let text = match serde_json::to_value(envelope) {
        Ok(value) => sanitize_for_logging(&value).to_string(),
        Err(error) => format!("<not serializable: {error}>"),
    };
    tracing::info!(target: LOG_TARGET, event = name, envelope = %text);
}
