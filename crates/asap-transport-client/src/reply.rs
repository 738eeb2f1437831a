//! Reading a JSON-RPC reply body: the response envelope or the remote error.

use asap_codec::rpc::{Response, decode_response};
use asap_model::Envelope;
use asap_model::error::rpc;
use serde_json::Value;

use crate::error::{ClientError, ErrorSource};

/// A 2xx/3xx body → the response envelope or the remote error.
pub(crate) fn interpret(body: &[u8]) -> Result<Envelope, ClientError> {
    match decode_response(body) {
        Ok(Response::Success { envelope, .. }) => Ok(*envelope),
        Ok(Response::Error(reply)) => Err(ClientError::remote(
            reply.error.code,
            reply.error.message.into_owned(),
            reply.error.data,
        )),
        Ok(_) | Err(_) => interpret_leniently(body),
    }
}

/// The slow path when the body is not a well-formed reply, in the reference client's order:
/// not JSON, an `error` member, a missing envelope, an invalid envelope.
fn interpret_leniently(body: &[u8]) -> Result<Envelope, ClientError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ClientError::remote(
            rpc::PARSE_ERROR,
            format!("Invalid JSON response: {e}"),
            None,
        )
    })?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        let code = error
            .get("code")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(rpc::INTERNAL_ERROR);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("Unknown error");
        return Err(ClientError::remote(
            code,
            message,
            error.get("data").cloned(),
        ));
    }
    match value.get("result").and_then(|r| r.get("envelope")) {
        None | Some(Value::Null) => Err(ClientError::remote(
            rpc::INTERNAL_ERROR,
            "Missing envelope in response",
            None,
        )),
        Some(envelope) => serde_json::from_value(envelope.clone()).map_err(|e| {
            ClientError::invalid_response(format!("invalid envelope in response: {e}"))
                .caused_by(ErrorSource::new(e))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interprets_replies() {
        let err = interpret(b"<html>").unwrap_err();
        assert_eq!(err.rpc_code(), Some(-32700));
        assert!(err.to_string().contains("Invalid JSON response: "));
        let err = interpret(br#"{"jsonrpc":"2.0","result":{},"id":"req-1"}"#).unwrap_err();
        assert_eq!(
            err,
            ClientError::remote(-32603, "Missing envelope in response", None)
        );
        let err = interpret(
            br#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":{"method":"x"}},"id":"req-1"}"#,
        )
        .unwrap_err();
        assert_eq!(err.rpc_code(), Some(-32601));
        let err = interpret(br#"{"result":{"envelope":{"bad":1}}}"#).unwrap_err();
        assert!(matches!(err, ClientError::InvalidResponse { .. }));
    }
}
