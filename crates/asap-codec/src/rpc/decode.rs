//! Decoding `asap.send` requests: a simd-json fast path and an exact slow path.
//!
//! The fast path deserializes the whole request in one pass with simd-json straight into
//! typed structs: the envelope, and its payload into the model its `payload_type` names
//! ([`TypedEnvelope`]), embedded parts and task depth checked on the typed value. Any failure
//! falls back to the slow path, which re-reads the original bytes with serde_json into a
//! `Value` and checks each rule in the protocol's order, so that errors are exactly the ones
//! the protocol specifies; its envelope keeps the payload raw, for the server to type after
//! the handler lookup (an unknown `payload_type` is reported before an invalid payload).
//! serde_json is used only there (error explanation) and for the benchmarks' baseline.

use asap_model::envelope::TypedEnvelope;
use asap_model::json::python_type_name;
use asap_model::validation::{MapOnly, from_value, map_only};
use asap_model::{Envelope, ValidationError};
use serde::Deserialize;
use serde_json::Value;

use super::depth::bounded_simd;
use super::error::{ErrorResponse, RpcError};
use super::id::Id;
use super::python_json::describe_json_error;

/// The only JSON-RPC method of ASAP.
pub const METHOD: &str = "asap.send";

/// A well-framed `asap.send` call.
///
/// The envelope result is kept apart from the framing because the server authenticates
/// between the two steps: a framing error wins over an authentication failure, which wins
/// over an envelope error.
///
/// A valid payload of a known type arrives typed (`Payload::TaskRequest`, …) when
/// `payload_type` precedes `payload` in the body; otherwise, and for an invalid payload, it is
/// `Payload::Raw`, and [`Envelope::type_payload`] gives the typed payload or the exact error.
#[derive(Debug, Clone)]
pub struct Call {
    /// Request id, echoed in the response.
    pub id: Id,
    /// The decoded envelope, or the `-32602` error for a missing or invalid one.
    pub envelope: Result<Envelope, RpcError>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastRequest {
    /// Required and exactly `"2.0"` (JSON-RPC 2.0 §4). The reference defaults an absent
    /// member to `"2.0"`; we answer `-32600` instead (see `docs/protocol/deviations.md`).
    #[allow(
        dead_code,
        reason = "its presence and value are checked while decoding"
    )]
    jsonrpc: Version,
    method: String,
    #[serde(deserialize_with = "map_only")]
    params: FastParams,
    id: Id,
}

/// `idempotency_key` is kept when it is a string (anything else goes to the slow path, which
/// ignores it); other unknown `params` members are ignored.
#[derive(Deserialize)]
struct FastParams {
    envelope: TypedEnvelope,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// A [`Call`] with the idempotency key its `params` carried.
///
/// `params.idempotency_key` is what the reference client sends (a ULID, also in the
/// `X-Idempotency-Key` header). A string is kept verbatim (empty included: what it means is
/// the server's decision); `null`, absent or any other JSON type is `None`, because the
/// protocol ignores unknown `params` members and a server without de-duplication answers
/// such a request normally.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyedCall {
    /// The call.
    pub call: Call,
    /// `params.idempotency_key`, when it is a string.
    pub idempotency_key: Option<String>,
}

/// `"2.0"`, the only accepted `jsonrpc` value.
struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s == "2.0" {
            Ok(Version)
        } else {
            Err(serde::de::Error::custom("jsonrpc must be \"2.0\""))
        }
    }
}

/// Decodes a request body (UTF-8 JSON, already decompressed) with simd-json.
///
/// Errors are boxed: they are the cold path and keep the `Ok` path small.
///
/// ```
/// use asap_codec::rpc::decode_request;
///
/// let body = br#"{"jsonrpc":"2.0","method":"asap.send","id":"req-1","params":{"envelope":
///   {"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b",
///    "payload_type":"task.request","payload":{}}}}"#;
/// let call = decode_request(body).unwrap();
/// assert_eq!(call.id.to_string(), "req-1");
/// let envelope = call.envelope.unwrap();
/// assert_eq!(envelope.payload_type, "task.request");
/// // `{}` is not a valid task.request: the payload stays raw, and typing it gives the error.
/// assert!(envelope.payload.as_raw().is_some());
/// assert_eq!(envelope.clone().type_payload().unwrap_err().kind, "missing");
///
/// let err = decode_request(b"[]").unwrap_err();
/// assert_eq!(err.error.code, -32600);
/// ```
pub fn decode_request(body: &[u8]) -> Result<Call, Box<ErrorResponse>> {
    decode_request_keyed(body).map(|keyed| keyed.call)
}

/// [`decode_request`], keeping `params.idempotency_key` (captured in the same typed pass).
///
/// ```
/// use asap_codec::rpc::decode_request_keyed;
///
/// let body = br#"{"jsonrpc":"2.0","method":"asap.send","id":1,"params":{"envelope":
///   {"sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b",
///    "payload_type":"task.request","payload":{}},"idempotency_key":"01KEY"}}"#;
/// let keyed = decode_request_keyed(body).unwrap();
/// assert_eq!(keyed.idempotency_key.as_deref(), Some("01KEY"));
/// ```
pub fn decode_request_keyed(body: &[u8]) -> Result<KeyedCall, Box<ErrorResponse>> {
    match bounded_simd::<MapOnly<FastRequest>>(body).map(|r| r.map(|m| m.0)) {
        Some(Ok(fast)) => finish_fast(fast, body),
        _ => decode_exact_keyed(body),
    }
}

/// Same result as [`decode_request`], with serde_json on the fast path (no simd-json).
pub fn decode_request_serde_json(body: &[u8]) -> Result<Call, Box<ErrorResponse>> {
    decode_request_serde_json_keyed(body).map(|keyed| keyed.call)
}

/// Same result as [`decode_request_keyed`], with serde_json on the fast path.
pub fn decode_request_serde_json_keyed(body: &[u8]) -> Result<KeyedCall, Box<ErrorResponse>> {
    match serde_json::from_slice::<MapOnly<FastRequest>>(body) {
        Ok(MapOnly(fast)) => finish_fast(fast, body),
        Err(_) => decode_exact_keyed(body),
    }
}

fn finish_fast(fast: FastRequest, body: &[u8]) -> Result<KeyedCall, Box<ErrorResponse>> {
    if fast.method != METHOD {
        return decode_exact_keyed(body);
    }
    Ok(KeyedCall {
        call: Call {
            id: fast.id,
            envelope: Ok(fast.params.envelope.into()),
        },
        idempotency_key: fast.params.idempotency_key,
    })
}

/// The exact, rule-by-rule decoder (slow path).
pub fn decode_exact(body: &[u8]) -> Result<Call, Box<ErrorResponse>> {
    decode_exact_keyed(body).map(|keyed| keyed.call)
}

/// [`decode_exact`], keeping `params.idempotency_key`.
pub fn decode_exact_keyed(body: &[u8]) -> Result<KeyedCall, Box<ErrorResponse>> {
    let text =
        std::str::from_utf8(body).map_err(|e| err(RpcError::invalid_utf8(&e.to_string()), None))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| err(RpcError::parse_error(&describe_json_error(text, &e)), None))?;
    let Value::Object(mut request) = value else {
        return Err(err(RpcError::not_an_object(python_type_name(&value)), None));
    };
    let echo_id = request.get("id").and_then(Id::from_value);
    let errors = structure_errors(&request);
    if !errors.is_empty() {
        let only_params = errors
            .iter()
            .all(|e| e.loc.first() == Some(&"params".into()) && e.kind == "dict_type");
        let error = if only_params {
            RpcError::params_not_object(&errors)
        } else {
            RpcError::invalid_structure(&errors)
        };
        return Err(err(error, echo_id));
    }
    let id = echo_id.ok_or_else(|| err(RpcError::internal(), None))?;
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if method != METHOD {
        return Err(err(RpcError::method_not_found(method), Some(id)));
    }
    let mut idempotency_key = None;
    let envelope = match request.remove("params") {
        Some(Value::Object(mut params)) => {
            if let Some(Value::String(key)) = params.remove("idempotency_key") {
                idempotency_key = Some(key);
            }
            match params.remove("envelope") {
                None | Some(Value::Null) => Err(RpcError::missing_envelope()),
                Some(envelope) => {
                    from_value::<Envelope>(envelope).map_err(|e| RpcError::invalid_envelope(&e))
                }
            }
        }
        _ => Err(RpcError::missing_envelope()),
    };
    Ok(KeyedCall {
        call: Call { id, envelope },
        idempotency_key,
    })
}

fn err(error: RpcError, id: Option<Id>) -> Box<ErrorResponse> {
    Box::new(ErrorResponse::new(error, id))
}

fn structure_errors(request: &serde_json::Map<String, Value>) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    match request.get("jsonrpc") {
        // JSON-RPC 2.0 §4: the member MUST be exactly "2.0", so absent is as wrong as any
        // other value (the reference accepts it; we do not).
        None => errors.push(at("missing", "Field required", &["jsonrpc"])),
        Some(Value::String(s)) if s == "2.0" => {}
        Some(_) => errors.push(at("literal_error", "Input should be '2.0'", &["jsonrpc"])),
    }
    match request.get("method") {
        None => errors.push(at("missing", "Field required", &["method"])),
        Some(Value::String(_)) => {}
        Some(_) => errors.push(at(
            "string_type",
            "Input should be a valid string",
            &["method"],
        )),
    }
    match request.get("params") {
        None => errors.push(at("missing", "Field required", &["params"])),
        Some(Value::Object(_)) => {}
        Some(_) => errors.push(at(
            "dict_type",
            "Input should be a valid dictionary",
            &["params"],
        )),
    }
    match request.get("id") {
        None => errors.push(at("missing", "Field required", &["id"])),
        Some(v) if Id::from_value(v).is_some() => {}
        Some(_) => {
            errors.push(at(
                "string_type",
                "Input should be a valid string",
                &["id", "str"],
            ));
            errors.push(at(
                "int_type",
                "Input should be a valid integer",
                &["id", "int"],
            ));
        }
    }
    for key in request.keys() {
        if !matches!(key.as_str(), "jsonrpc" | "method" | "params" | "id") {
            errors.push(at(
                "extra_forbidden",
                "Extra inputs are not permitted",
                &[key],
            ));
        }
    }
    errors
}

fn at(kind: &str, msg: &str, loc: &[&str]) -> ValidationError {
    ValidationError::new(kind, msg).prefixed(loc.iter().copied())
}
