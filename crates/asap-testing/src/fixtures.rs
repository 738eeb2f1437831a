//! Protocol examples and envelope builders.

use std::path::PathBuf;

use serde_json::{Value, json};

/// The protocol's `spec/examples` directory: `$ASAP_SPEC_DIR/examples` when set, else
/// `../shared/spec/examples` beside the workspace.
pub fn examples_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("ASAP_SPEC_DIR") {
        return PathBuf::from(dir).join("examples");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples")
}

/// Reads an example JSON file relative to [`examples_dir`] (panics when missing).
pub fn example(relative: &str) -> Value {
    let path = examples_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `task.request` envelope (no `id`/`timestamp`: the receiver fills them).
pub fn task_request(sender: &str, recipient: &str, input: Value) -> Value {
    json!({
        "asap_version": "0.1",
        "sender": sender,
        "recipient": recipient,
        "payload_type": "task.request",
        "payload": {
            "conversation_id": "conv_test",
            "skill_id": "echo",
            "input": input,
        },
    })
}

/// Wraps an envelope in an `asap.send` request with id `req-1`.
pub fn rpc_request(envelope: &Value) -> Value {
    json!({"jsonrpc": "2.0", "method": "asap.send", "params": {"envelope": envelope}, "id": "req-1"})
}
