//! The typed echo shared by the `axum-echo` and `actix-echo` baseline servers of the load
//! benchmarks: what a user would write instead of asap-rs, so that both frameworks do
//! exactly the same work per request and differ only in their HTTP stack.
//!
//! [`RpcRequest`] mirrors `{"jsonrpc","method","params":{"envelope":{…}},"id"}` with every
//! envelope field and a typed `task.request` payload; serde parses it (unknown members such
//! as `params.idempotency_key` are ignored). [`answer`] checks the JSON-RPC framing and
//! builds a JSON-RPC result carrying a `task.response` envelope that echoes the input,
//! shaped like the one `asap serve` answers. Nothing else: no rate limit, no timestamp
//! window, no sender check.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An `asap.send` JSON-RPC request.
#[derive(Debug, Deserialize)]
pub struct RpcRequest {
    /// Must be `"2.0"`.
    pub jsonrpc: String,
    /// Must be `"asap.send"`.
    pub method: String,
    /// The envelope.
    pub params: Params,
    /// Echoed in the answer (`null` when absent).
    #[serde(default)]
    pub id: Value,
}

/// `params` of an `asap.send` request.
#[derive(Debug, Deserialize)]
pub struct Params {
    /// The envelope sent.
    pub envelope: Envelope<TaskRequest>,
}

/// An ASAP envelope with a typed payload.
#[derive(Debug, Deserialize, Serialize)]
pub struct Envelope<P> {
    /// Envelope id (a ULID).
    #[serde(default)]
    pub id: Option<String>,
    /// Protocol version.
    pub asap_version: String,
    /// RFC 3339 time of sending.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Sender URN.
    pub sender: String,
    /// Recipient URN.
    pub recipient: String,
    /// Payload type, such as `task.request`.
    pub payload_type: String,
    /// The payload.
    pub payload: P,
    /// Id of the envelope this one answers.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// Trace id.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// Free-form extensions.
    #[serde(default)]
    pub extensions: Option<Map<String, Value>>,
}

/// A `task.request` payload, parsed like a real agent would (an echo uses only `input`).
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // parsed for the work of it; only `input` is echoed
pub struct TaskRequest {
    conversation_id: String,
    #[serde(default)]
    parent_task_id: Option<String>,
    skill_id: String,
    /// The task input, echoed back.
    pub input: Map<String, Value>,
    #[serde(default)]
    config: Option<TaskConfig>,
}

/// `config` of a `task.request`.
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // parsed for the work of it
pub struct TaskConfig {
    #[serde(default)]
    timeout_seconds: Option<u64>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    streaming: Option<bool>,
}

/// A `task.response` payload.
#[derive(Debug, Serialize)]
pub struct TaskResponse {
    /// A fresh task id.
    pub task_id: String,
    /// Always `completed`.
    pub status: &'static str,
    /// `{"echoed": <input>}`.
    pub result: Map<String, Value>,
    /// Always `null`.
    pub final_state: Option<Value>,
    /// Always `null`.
    pub metrics: Option<Value>,
}

/// A JSON-RPC success.
#[derive(Debug, Serialize)]
pub struct RpcSuccess {
    /// `"2.0"`.
    pub jsonrpc: &'static str,
    /// The answer envelope.
    pub result: SendResult,
    /// The request's id.
    pub id: Value,
}

/// `result` of an `asap.send` success.
#[derive(Debug, Serialize)]
pub struct SendResult {
    /// The `task.response` envelope.
    pub envelope: Envelope<TaskResponse>,
}

/// A JSON-RPC error answer.
#[derive(Debug, Serialize)]
pub struct RpcFailure {
    /// `"2.0"`.
    pub jsonrpc: &'static str,
    /// The error.
    pub error: RpcError,
    /// The request's id.
    pub id: Value,
}

/// A JSON-RPC error object.
#[derive(Debug, Serialize)]
pub struct RpcError {
    /// JSON-RPC error code.
    pub code: i32,
    /// Short description.
    pub message: &'static str,
}

/// The answer of the echo agent `agent` (its URN) to `request`: `Method not found` unless
/// it is a JSON-RPC 2.0 `asap.send`, else a `task.response` echoing the input.
pub fn answer(request: RpcRequest, agent: &str) -> Result<RpcSuccess, RpcFailure> {
    if request.jsonrpc != "2.0" || request.method != "asap.send" {
        return Err(RpcFailure {
            jsonrpc: "2.0",
            error: RpcError {
                code: -32601,
                message: "Method not found",
            },
            id: request.id,
        });
    }
    let incoming = request.params.envelope;
    let mut result = Map::new();
    result.insert("echoed".into(), Value::Object(incoming.payload.input));
    let envelope = Envelope {
        id: Some(ulid::Ulid::generate().to_string()),
        asap_version: incoming.asap_version,
        timestamp: Some(now_rfc3339()),
        sender: agent.to_owned(),
        recipient: incoming.sender,
        payload_type: "task.response".to_owned(),
        payload: TaskResponse {
            task_id: format!("task_{}", ulid::Ulid::generate()),
            status: "completed",
            result,
            final_state: None,
            metrics: None,
        },
        correlation_id: incoming.id,
        trace_id: incoming.trace_id,
        extensions: None,
    };
    Ok(RpcSuccess {
        jsonrpc: "2.0",
        result: SendResult { envelope },
        id: request.id,
    })
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for the current UTC time.
pub fn now_rfc3339() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_512), (2026, 2, 28));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }

    #[test]
    fn echoes_the_input() {
        let body = crate::request_body(crate::Size::Small);
        let request: RpcRequest = serde_json::from_slice(&body).unwrap();
        let reply = serde_json::to_value(answer(request, "urn:asap:agent:echo").unwrap()).unwrap();
        let envelope = &reply["result"]["envelope"];
        assert_eq!(reply["id"], crate::REQUEST_ID);
        assert_eq!(envelope["payload_type"], "task.response");
        assert_eq!(envelope["recipient"], "urn:asap:agent:coordinator");
        assert_eq!(envelope["correlation_id"], "01KDWPVNG0DE3B4WZZ6KYE37BB");
        assert_eq!(
            envelope["payload"]["result"]["echoed"]["query"],
            "AI infrastructure market trends Q3 2025"
        );
        assert_eq!(now_rfc3339().len(), "2026-01-01T12:00:00.000000Z".len());

        let mut wrong: RpcRequest = serde_json::from_slice(&body).unwrap();
        wrong.method = "asap.other".into();
        let error = answer(wrong, "urn:asap:agent:echo").unwrap_err();
        assert_eq!(error.error.code, -32601);
    }
}
