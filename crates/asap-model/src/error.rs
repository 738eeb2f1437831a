//! The ASAP error taxonomy and its mapping to JSON-RPC codes and HTTP statuses.
//!
//! Two levels, mapped in exactly one place ([`ErrorCode::rpc_code`], [`ErrorCode::http_status`]):
//! the string codes `asap:<domain>/<name>` of the protocol, and the numeric JSON-RPC codes in
//! [`rpc`].
//!
//! Every error a server sends, with its JSON-RPC code, `asap:` type and HTTP status, is
//! listed in the protocol notes: [errors.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/errors.md).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::json::JsonObject;

/// Numeric JSON-RPC 2.0 error codes used by ASAP.
pub mod rpc {
    /// Invalid JSON or UTF-8.
    pub const PARSE_ERROR: i32 = -32700;
    /// Not a valid JSON-RPC request object (also authentication failures).
    pub const INVALID_REQUEST: i32 = -32600;
    /// Unknown method or no handler for the payload type.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Invalid params or envelope, sender mismatch, timestamp window, nonce.
    pub const INVALID_PARAMS: i32 = -32602;
    /// Handler failure or any unexpected error.
    pub const INTERNAL_ERROR: i32 = -32603;
    /// Rate limit exceeded (sent with HTTP 429).
    pub const RATE_LIMITED: i32 = 429;

    /// The fixed `message` the reference writes for a code.
    pub const fn message(code: i32) -> &'static str {
        match code {
            PARSE_ERROR => "Parse error",
            INVALID_REQUEST => "Invalid request",
            METHOD_NOT_FOUND => "Method not found",
            INVALID_PARAMS => "Invalid params",
            RATE_LIMITED => "Rate limit exceeded",
            _ => "Internal error",
        }
    }
}

/// An ASAP application error code (`asap:<domain>/<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `asap:protocol/invalid_timestamp`: envelope outside the timestamp window.
    InvalidTimestamp,
    /// `asap:protocol/invalid_nonce`: empty, non-string or replayed nonce.
    InvalidNonce,
    /// `asap:protocol/invalid_state`: illegal task state transition.
    InvalidState,
    /// `asap:protocol/malformed_envelope`: envelope cannot be processed.
    MalformedEnvelope,
    /// `asap:task/not_found`: unknown task.
    TaskNotFound,
    /// `asap:task/already_completed`: task is already terminal.
    TaskAlreadyCompleted,
    /// `asap:transport/handler_not_found`: no handler for the payload type.
    HandlerNotFound,
    /// `asap:transport/thread_pool_exhausted`: blocking handler pool full.
    ThreadPoolExhausted,
    /// `asap:transport/circuit_open`: client circuit breaker is open.
    CircuitOpen,
    /// `asap:auth/unsupported_scheme`: manifest declares an unsupported auth scheme.
    UnsupportedAuthScheme,
}

impl ErrorCode {
    /// Every code, for exhaustive tests and documentation.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::InvalidTimestamp,
        ErrorCode::InvalidNonce,
        ErrorCode::InvalidState,
        ErrorCode::MalformedEnvelope,
        ErrorCode::TaskNotFound,
        ErrorCode::TaskAlreadyCompleted,
        ErrorCode::HandlerNotFound,
        ErrorCode::ThreadPoolExhausted,
        ErrorCode::CircuitOpen,
        ErrorCode::UnsupportedAuthScheme,
    ];

    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidTimestamp => "asap:protocol/invalid_timestamp",
            ErrorCode::InvalidNonce => "asap:protocol/invalid_nonce",
            ErrorCode::InvalidState => "asap:protocol/invalid_state",
            ErrorCode::MalformedEnvelope => "asap:protocol/malformed_envelope",
            ErrorCode::TaskNotFound => "asap:task/not_found",
            ErrorCode::TaskAlreadyCompleted => "asap:task/already_completed",
            ErrorCode::HandlerNotFound => "asap:transport/handler_not_found",
            ErrorCode::ThreadPoolExhausted => "asap:transport/thread_pool_exhausted",
            ErrorCode::CircuitOpen => "asap:transport/circuit_open",
            ErrorCode::UnsupportedAuthScheme => "asap:auth/unsupported_scheme",
        }
    }

    /// Parses a wire string.
    pub fn from_wire(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// JSON-RPC code this error reaches the wire with when a server raises it.
    ///
    /// Timestamp and nonce failures are `-32602` with the ASAP code in `data.code`; a missing
    /// handler is `-32601`; task and state errors raised by handlers are `-32603` like the
    /// reference. Client-side and construction-time codes have no JSON-RPC form and map to
    /// `-32603`.
    pub const fn rpc_code(self) -> i32 {
        match self {
            ErrorCode::InvalidTimestamp | ErrorCode::InvalidNonce => rpc::INVALID_PARAMS,
            ErrorCode::HandlerNotFound => rpc::METHOD_NOT_FOUND,
            _ => rpc::INTERNAL_ERROR,
        }
    }

    /// HTTP status of the response that carries this error: 200 for JSON-RPC errors, 503 for
    /// an exhausted blocking pool.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::ThreadPoolExhausted => 503,
            _ => 200,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        ErrorCode::from_wire(&s)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown ASAP error code {s}")))
    }
}

/// An ASAP error: code, message and details, as carried in `data` of a JSON-RPC error.
///
/// ```
/// use asap_model::{AsapError, ErrorCode};
///
/// let e = AsapError::task_not_found("task_1");
/// assert_eq!(e.code, ErrorCode::TaskNotFound);
/// assert_eq!(e.message, "Task not found: task_1");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AsapError {
    /// The ASAP code.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
    /// Structured details.
    #[serde(default)]
    pub details: JsonObject,
}

impl AsapError {
    /// A new error with empty details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: JsonObject::new(),
        }
    }

    /// Adds one detail entry.
    #[must_use]
    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// `asap:protocol/malformed_envelope`.
    pub fn malformed_envelope(reason: &str) -> Self {
        Self::new(
            ErrorCode::MalformedEnvelope,
            format!("Malformed envelope: {reason}"),
        )
        .with_detail("reason", reason)
    }

    /// `asap:task/not_found`.
    pub fn task_not_found(task_id: &str) -> Self {
        Self::new(
            ErrorCode::TaskNotFound,
            format!("Task not found: {task_id}"),
        )
        .with_detail("task_id", task_id)
    }

    /// `asap:task/already_completed`.
    pub fn task_already_completed(task_id: &str, status: crate::TaskStatus) -> Self {
        Self::new(
            ErrorCode::TaskAlreadyCompleted,
            format!("Task already completed: {task_id} (status: {status})"),
        )
        .with_detail("task_id", task_id)
        .with_detail("status", status.as_str())
    }

    /// `asap:transport/handler_not_found`.
    pub fn handler_not_found(payload_type: &str) -> Self {
        Self::new(
            ErrorCode::HandlerNotFound,
            format!("No handler registered for payload type: {payload_type}"),
        )
        .with_detail("payload_type", payload_type)
    }

    /// `asap:transport/thread_pool_exhausted`.
    pub fn thread_pool_exhausted(active: usize, max: usize) -> Self {
        Self::new(
            ErrorCode::ThreadPoolExhausted,
            format!("Thread pool exhausted: {active}/{max} threads in use. Service temporarily unavailable."),
        )
        .with_detail("max_threads", max)
        .with_detail("active_threads", active)
    }

    /// `asap:auth/unsupported_scheme`.
    pub fn unsupported_auth_scheme(scheme: &str) -> Self {
        Self::new(
            ErrorCode::UnsupportedAuthScheme,
            format!(
                "Unsupported authentication scheme '{scheme}'. Supported schemes: basic, bearer"
            ),
        )
        .with_detail("scheme", scheme)
        .with_detail("supported_schemes", vec!["basic", "bearer"])
    }
}

impl From<crate::InvalidTransition> for AsapError {
    fn from(e: crate::InvalidTransition) -> Self {
        AsapError::new(ErrorCode::InvalidState, e.to_string())
            .with_detail("from_state", e.from.as_str())
            .with_detail("to_state", e.to.as_str())
            .with_detail("task_id", e.task_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_map() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(code));
            assert!(code.as_str().starts_with("asap:"));
        }
        assert_eq!(ErrorCode::InvalidTimestamp.rpc_code(), rpc::INVALID_PARAMS);
        assert_eq!(ErrorCode::HandlerNotFound.rpc_code(), rpc::METHOD_NOT_FOUND);
        assert_eq!(ErrorCode::TaskNotFound.rpc_code(), rpc::INTERNAL_ERROR);
        assert_eq!(ErrorCode::ThreadPoolExhausted.http_status(), 503);
        assert_eq!(ErrorCode::InvalidNonce.http_status(), 200);
        assert_eq!(rpc::message(rpc::PARSE_ERROR), "Parse error");
    }
}
