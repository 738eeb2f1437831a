//! JSON-RPC error objects with the exact codes, messages and `data` of the protocol.

use std::borrow::Cow;

use asap_model::error::rpc;
use asap_model::{AsapError, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::id::Id;

/// A JSON-RPC error object: `{"code", "message", "data"}`.
///
/// `message` is always the generic text of the code; details go in `data`. Constructors exist
/// for every error the protocol defines, so a server never builds one by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct RpcError {
    /// Numeric code (see [`asap_model::error::rpc`]).
    pub code: i32,
    /// Generic message of the code.
    pub message: Cow<'static, str>,
    /// Details; the reference always writes the member.
    #[serde(default)]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with the standard message of `code`.
    pub fn new(code: i32, data: Value) -> Self {
        Self {
            code,
            message: Cow::Borrowed(rpc::message(code)),
            data: Some(data),
        }
    }

    /// `-32700`: body is not valid JSON (`detail` as [`describe_json_error`](super::describe_json_error) writes it).
    pub fn parse_error(detail: &str) -> Self {
        Self::new(
            rpc::PARSE_ERROR,
            json!({ "error": format!("Invalid JSON: {detail}") }),
        )
    }

    /// `-32700`: body is not UTF-8.
    pub fn invalid_utf8(detail: &str) -> Self {
        Self::new(
            rpc::PARSE_ERROR,
            json!({ "error": format!("Invalid UTF-8 encoding: {detail}") }),
        )
    }

    /// `-32600`: top-level JSON is not an object (`received_type` is the Python type name).
    pub fn not_an_object(received_type: &str) -> Self {
        Self::new(
            rpc::INVALID_REQUEST,
            json!({ "error": "JSON-RPC request must be an object", "received_type": received_type }),
        )
    }

    /// `-32600`: invalid `jsonrpc`/`method`/`params`/`id` or extra members.
    pub fn invalid_structure(errors: &[ValidationError]) -> Self {
        Self::new(
            rpc::INVALID_REQUEST,
            json!({ "error": "Invalid JSON-RPC structure", "validation_errors": errors }),
        )
    }

    /// `-32602`: `params` is not an object.
    pub fn params_not_object(errors: &[ValidationError]) -> Self {
        Self::new(
            rpc::INVALID_PARAMS,
            json!({ "error": "JSON-RPC 'params' must be an object", "validation_errors": errors }),
        )
    }

    /// `-32601`: method other than `asap.send`.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(rpc::METHOD_NOT_FOUND, json!({ "method": method }))
    }

    /// `-32601`: no handler registered for the payload type.
    pub fn handler_not_found(payload_type: &str) -> Self {
        let e = AsapError::handler_not_found(payload_type);
        Self::new(
            e.code.rpc_code(),
            json!({ "payload_type": payload_type, "error": e.message }),
        )
    }

    /// `-32602`: `params.envelope` absent or `null`.
    pub fn missing_envelope() -> Self {
        Self::new(
            rpc::INVALID_PARAMS,
            json!({ "error": "Missing 'envelope' in params" }),
        )
    }

    /// `-32602`: the envelope failed validation.
    pub fn invalid_envelope(error: &ValidationError) -> Self {
        Self::new(
            rpc::INVALID_PARAMS,
            json!({ "error": "Invalid envelope structure", "validation_errors": [error] }),
        )
    }

    /// `-32600` with `status_code` 401: no usable bearer token.
    pub fn authentication_required() -> Self {
        Self::new(
            rpc::INVALID_REQUEST,
            json!({ "error": "Authentication required", "status_code": 401 }),
        )
    }

    /// `-32600` with `status_code` 401: token rejected.
    pub fn invalid_token() -> Self {
        Self::new(
            rpc::INVALID_REQUEST,
            json!({ "error": "Invalid authentication token", "status_code": 401 }),
        )
    }

    /// `-32602` with `status_code` 403: sender differs from the authenticated identity.
    pub fn sender_mismatch() -> Self {
        Self::new(
            rpc::INVALID_PARAMS,
            json!({ "error": "Sender does not match authenticated identity", "status_code": 403 }),
        )
    }

    /// An ASAP error under a summary, e.g. `("Invalid envelope timestamp", err)`:
    /// `data = {"error": summary, "code", "message", "details"}` with the code's JSON-RPC code.
    pub fn asap(summary: &str, error: &AsapError) -> Self {
        Self::new(
            error.code.rpc_code(),
            json!({
                "error": summary,
                "code": error.code.as_str(),
                "message": error.message,
                "details": error.details,
            }),
        )
    }

    /// `-32603` as production servers write it: no internal detail.
    pub fn internal() -> Self {
        Self::new(
            rpc::INTERNAL_ERROR,
            json!({ "error": "Internal server error" }),
        )
    }

    /// `-32603` with full detail, for debug mode.
    pub fn internal_debug(error: &str, kind: &str, traceback: &str) -> Self {
        Self::new(
            rpc::INTERNAL_ERROR,
            json!({ "error": error, "type": kind, "traceback": traceback }),
        )
    }

    /// `429` rate limited (sent with HTTP 429): `limit` is a readable description.
    pub fn rate_limited(retry_after_seconds: u64, limit: &str) -> Self {
        Self::new(
            rpc::RATE_LIMITED,
            json!({ "retry_after": retry_after_seconds, "limit": limit }),
        )
    }

    /// The `data.error` text, when present.
    pub fn data_error(&self) -> Option<&str> {
        self.data.as_ref()?.get("error")?.as_str()
    }
}

/// A JSON-RPC error reply: the error and the id it answers (`null` when unknown).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct ErrorResponse {
    /// The error object.
    pub error: RpcError,
    /// The request id, or `None` for `null`.
    pub id: Option<Id>,
}

impl ErrorResponse {
    /// Pairs an error with an id.
    pub fn new(error: RpcError, id: Option<Id>) -> Self {
        Self { error, id }
    }
}
