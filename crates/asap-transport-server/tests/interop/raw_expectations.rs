//! The answers our server must give to the malformed requests of `scenarios_raw.py`, as the
//! reference clients receive them: HTTP status, content type, JSON-RPC code, message, `id`
//! and `data` (its `error`, its ASAP `code`, the first validation error's `type` and `loc`).
//!
//! The codes are those of `examples/invalid/README.md` and `examples/jsonrpc/*.json` in the
//! protocol fixtures (and of `invalid_samples_http.rs`), with two deliberate differences from
//! the reference server: a malformed agent URN is `-32602` (the reference crashes with
//! `-32603`), and a request without `jsonrpc` is `-32600` like a wrong version (the
//! reference takes the member as `"2.0"`).

use serde_json::{Value, json};

/// Every raw scenario; each runs against every reference release.
pub(crate) const SCENARIOS: [&str; 12] = [
    "raw_parse_error",
    "raw_batch_array",
    "raw_params_array",
    "raw_missing_params",
    "raw_missing_envelope",
    "raw_unknown_method",
    "raw_wrong_version",
    "raw_missing_jsonrpc",
    "raw_missing_sender",
    "raw_bad_sender_urn",
    "raw_stale_timestamp",
    "raw_oversize",
];

const RPC_STRUCTURE: &str = "Invalid JSON-RPC structure";
const ENVELOPE_STRUCTURE: &str = "Invalid envelope structure";

/// Checks what the reference client received for `scenario` (its `details`); `limit` is
/// the request size limit of the server `raw_oversize` went to.
pub(crate) fn check(scenario: &str, details: &Value, limit: usize) {
    let context = format!("{scenario}: {details}");
    assert_eq!(details["content_type"], "application/json", "{context}");
    if scenario == "raw_oversize" {
        assert_eq!(details["status"], 413, "{context}");
        let sent = details["sent_bytes"].as_u64().expect("sent_bytes");
        assert!(sent > limit as u64, "{context}");
        let detail = format!("Request size ({sent} bytes) exceeds maximum ({limit} bytes)");
        assert_eq!(details["body"], json!({ "detail": detail }), "{context}");
        return;
    }
    // Every JSON-RPC error is HTTP 200 (PROTOCOL §9.3).
    assert_eq!(details["status"], 200, "{context}");
    let body = &details["body"];
    assert_eq!(body["jsonrpc"], "2.0", "{context}");
    assert!(body.get("result").is_none(), "{context}");
    let answer = Answer { scenario, body };
    let req = json!("req-1");
    match scenario {
        "raw_parse_error" => answer.exact(
            -32700,
            Value::Null,
            json!({"error": "Invalid JSON: Expecting value: line 1 column 30 (char 29)"}),
        ),
        "raw_batch_array" => answer.exact(
            -32600,
            Value::Null,
            json!({"error": "JSON-RPC request must be an object", "received_type": "list"}),
        ),
        "raw_params_array" => answer.located(
            -32602,
            "JSON-RPC 'params' must be an object",
            Some("dict_type"),
            json!(["params"]),
        ),
        "raw_missing_params" => {
            answer.located(-32600, RPC_STRUCTURE, Some("missing"), json!(["params"]));
        }
        "raw_missing_envelope" => {
            answer.exact(
                -32602,
                req,
                json!({"error": "Missing 'envelope' in params"}),
            );
        }
        "raw_unknown_method" => answer.exact(-32601, req, json!({"method": "asap.receive"})),
        "raw_wrong_version" => {
            answer.located(
                -32600,
                RPC_STRUCTURE,
                Some("literal_error"),
                json!(["jsonrpc"]),
            );
        }
        "raw_missing_jsonrpc" => {
            answer.located(-32600, RPC_STRUCTURE, Some("missing"), json!(["jsonrpc"]));
        }
        "raw_missing_sender" => {
            answer.located(
                -32602,
                ENVELOPE_STRUCTURE,
                Some("missing"),
                json!(["sender"]),
            );
        }
        "raw_bad_sender_urn" => {
            answer.located(-32602, ENVELOPE_STRUCTURE, None, json!(["sender"]));
        }
        "raw_stale_timestamp" => {
            answer.header(-32602, &req);
            let data = &body["error"]["data"];
            assert_eq!(data["error"], "Invalid envelope timestamp", "{context}");
            assert_eq!(data["code"], "asap:protocol/invalid_timestamp", "{context}");
            let message = data["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("Envelope timestamp is too old: "),
                "{context}"
            );
        }
        other => panic!("no expectation for {other}"),
    }
}

/// A JSON-RPC error answer to a scenario.
struct Answer<'a> {
    scenario: &'a str,
    body: &'a Value,
}

impl Answer<'_> {
    /// The error's `code`, its standard `message` and the response `id`.
    fn header(&self, code: i64, id: &Value) {
        let Self { scenario, body } = self;
        let message = match code {
            -32700 => "Parse error",
            -32600 => "Invalid request",
            -32601 => "Method not found",
            -32602 => "Invalid params",
            _ => "Internal error",
        };
        assert_eq!(body["error"]["code"], code, "{scenario}: {body}");
        assert_eq!(body["error"]["message"], message, "{scenario}: {body}");
        assert_eq!(&body["id"], id, "{scenario}: id in {body}");
    }

    /// An error whose whole `data` is fixed.
    fn exact(&self, code: i64, id: Value, data: Value) {
        self.header(code, &id);
        let Self { scenario, body } = self;
        assert_eq!(body["error"]["data"], data, "{scenario}: {body}");
    }

    /// An error answering `id` `"req-1"` with `data.error` and validation errors, the first
    /// at `loc` (and of type `kind`, when given).
    fn located(&self, code: i64, error: &str, kind: Option<&str>, loc: Value) {
        self.header(code, &json!("req-1"));
        let Self { scenario, body } = self;
        let data = &body["error"]["data"];
        assert_eq!(data["error"], error, "{scenario}: {body}");
        let first = &data["validation_errors"][0];
        assert!(
            first["msg"].is_string(),
            "{scenario}: validation error without msg: {body}"
        );
        assert_eq!(first["loc"], loc, "{scenario}: {body}");
        if let Some(kind) = kind {
            assert_eq!(first["type"], kind, "{scenario}: {body}");
        }
    }
}
