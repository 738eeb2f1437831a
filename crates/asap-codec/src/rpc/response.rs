//! Decoding JSON-RPC responses (the client side).

use asap_model::Envelope;
use serde::Deserialize;

use super::depth::bounded_simd;
use super::error::{ErrorResponse, RpcError};
use super::id::Id;

/// A decoded `asap.send` response.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Response {
    /// `result.envelope`.
    Success {
        /// Echoed request id.
        id: Option<Id>,
        /// The response envelope.
        envelope: Box<Envelope>,
    },
    /// An error reply.
    Error(ErrorResponse),
}

/// Why a response body could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseDecodeError {
    /// Not JSON, or not a JSON-RPC response.
    #[error("invalid JSON-RPC response: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    result: Option<ResultWire>,
    #[serde(default)]
    error: Option<RpcError>,
    #[serde(default)]
    id: Option<Id>,
}

#[derive(Deserialize)]
struct ResultWire {
    envelope: Envelope,
}

/// Decodes a response body with simd-json.
pub fn decode_response(body: &[u8]) -> Result<Response, ResponseDecodeError> {
    let wire: Wire = match bounded_simd(body) {
        Some(Ok(wire)) => wire,
        _ => {
            serde_json::from_slice(body).map_err(|e| ResponseDecodeError::Invalid(e.to_string()))?
        }
    };
    match (wire.result, wire.error) {
        (Some(result), None) => Ok(Response::Success {
            id: wire.id,
            envelope: Box::new(result.envelope),
        }),
        (None, Some(error)) => Ok(Response::Error(ErrorResponse::new(error, wire.id))),
        _ => Err(ResponseDecodeError::Invalid(
            "exactly one of `result` and `error` must be present".to_owned(),
        )),
    }
}
