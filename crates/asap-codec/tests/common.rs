//! Helpers shared by the codec integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The protocol examples of the `asap-testing` fixtures.
pub fn examples_dir() -> PathBuf {
    asap_testing::fixtures::examples_dir()
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The request body of a captured exchange, as bytes.
pub fn capture_body(capture: &Value) -> Vec<u8> {
    match &capture["request"]["body"] {
        Value::String(s) => s.as_bytes().to_vec(),
        other => serde_json::to_vec(other).expect("body"),
    }
}

/// Wraps an envelope as the invalid-samples README says.
pub fn wrap_envelope(envelope: &Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "jsonrpc": "2.0", "method": "asap.send", "params": {"envelope": envelope}, "id": "req-1"
    }))
    .expect("wrap")
}
