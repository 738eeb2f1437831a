//! Encoding JSON-RPC messages straight from typed values (no intermediate `Value`).

use asap_model::Envelope;
use serde::Serialize;

use super::decode::METHOD;
use super::error::{ErrorResponse, RpcError};
use super::id::Id;

/// Body written if a response cannot be serialized (never expected: all our types serialize).
const FALLBACK: &[u8] =
    br#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error","data":{"error":"Internal server error"}},"id":null}"#;

#[derive(Serialize)]
struct Success<'a> {
    jsonrpc: &'static str,
    result: EnvelopeResult<'a>,
    id: &'a Id,
}

#[derive(Serialize)]
struct EnvelopeResult<'a> {
    envelope: &'a Envelope,
}

#[derive(Serialize)]
struct Failure<'a> {
    jsonrpc: &'static str,
    error: &'a RpcError,
    id: Option<&'a Id>,
}

#[derive(Serialize)]
struct Request<'a> {
    jsonrpc: &'static str,
    method: &'static str,
    params: Params<'a>,
    id: &'a Id,
}

#[derive(Serialize)]
struct Params<'a> {
    envelope: &'a Envelope,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<&'a str>,
}

fn to_vec<T: Serialize>(value: &T, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut out, value) {
        Ok(()) => out,
        Err(_) => FALLBACK.to_vec(),
    }
}

/// `{"jsonrpc":"2.0","result":{"envelope":…},"id":…}`.
///
/// ```
/// use asap_codec::rpc::{Id, encode_success};
/// # let envelope: asap_model::Envelope = serde_json::from_str(r#"{"asap_version":"0.1",
/// #   "sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b","payload_type":"x","payload":{}}"#).unwrap();
/// let body = encode_success(&Id::from("req-1"), &envelope);
/// let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
/// assert_eq!(v["id"], "req-1");
/// assert_eq!(v["result"]["envelope"]["payload_type"], "x");
/// ```
pub fn encode_success(id: &Id, envelope: &Envelope) -> Vec<u8> {
    to_vec(
        &Success {
            jsonrpc: "2.0",
            result: EnvelopeResult { envelope },
            id,
        },
        512,
    )
}

/// `{"jsonrpc":"2.0","error":{…},"id":…|null}`.
pub fn encode_error(response: &ErrorResponse) -> Vec<u8> {
    to_vec(
        &Failure {
            jsonrpc: "2.0",
            error: &response.error,
            id: response.id.as_ref(),
        },
        256,
    )
}

/// An `asap.send` request as the reference client writes it (with `params.idempotency_key`
/// when given).
pub fn encode_request(id: &Id, envelope: &Envelope, idempotency_key: Option<&str>) -> Vec<u8> {
    to_vec(
        &Request {
            jsonrpc: "2.0",
            method: METHOD,
            params: Params {
                envelope,
                idempotency_key,
            },
            id,
        },
        512,
    )
}
