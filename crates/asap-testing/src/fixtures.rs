//! Protocol fixtures and envelope builders.
//!
//! The fixtures are data documents produced by running the reference implementation
//! (`asap-protocol` 1.0.0): one example per payload, entity and part, the invalid samples,
//! captured HTTP exchanges and the JSON Schemas the reference enforces. They live in the
//! `fixtures/` folder of this crate (its `README.md` describes each subfolder) and ship
//! with the package, so the paths below are valid in the source tree and in a crates.io
//! download alike.

use std::path::PathBuf;

use serde_json::{Value, json};

/// The fixtures folder, `fixtures/` in this crate's manifest directory (fixed at compile
/// time).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The example documents: `fixtures/examples/` (envelopes at the top, then `entities/`,
/// `parts/`, `invalid/`, `jsonrpc/`, `mcp/`, `trace/`).
pub fn examples_dir() -> PathBuf {
    fixtures_dir().join("examples")
}

/// The JSON Schemas generated from the reference's models: `fixtures/schemas-live/`
/// (`envelope.schema.json`, `entities/`, `parts/`, `payloads/`).
pub fn schemas_live_dir() -> PathBuf {
    fixtures_dir().join("schemas-live")
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

/// The captured HTTP exchanges of the reference server: `examples/jsonrpc/`.
pub fn jsonrpc_dir() -> PathBuf {
    examples_dir().join("jsonrpc")
}

/// The invalid samples: `examples/invalid/`.
pub fn invalid_dir() -> PathBuf {
    examples_dir().join("invalid")
}

/// Reads a captured exchange `examples/jsonrpc/<name>`
/// (`{description, request{method,path,headers,body}, response{status,headers,body}}`).
pub fn capture(name: &str) -> Value {
    example(&format!("jsonrpc/{name}"))
}

/// `request.body.params.envelope` of a captured exchange, without its `timestamp` (captured
/// timestamps are fixed and would fail the 300 s window; the receiver fills in "now").
pub fn capture_envelope(name: &str) -> Value {
    let mut envelope = capture(name)["request"]["body"]["params"]["envelope"].clone();
    if let Some(object) = envelope.as_object_mut() {
        object.remove("timestamp");
    }
    envelope
}

/// The manifest of the server the reference exchanges were captured from: agent
/// `urn:asap:agent:echo-agent`, "Echo Agent" 1.0.0, one skill `echo`, endpoint
/// `http://127.0.0.1:8001/asap`, no auth (it equals the body of `jsonrpc/manifest.json`).
pub fn echo_agent_manifest() -> asap_model::Manifest {
    serde_json::from_value(json!({
        "id": "urn:asap:agent:echo-agent",
        "name": "Echo Agent",
        "version": "1.0.0",
        "description": "Echoes input",
        "capabilities": {
            "asap_version": "0.1",
            "skills": [{
                "id": "echo",
                "description": "Echo back the input",
                "input_schema": null,
                "output_schema": null,
            }],
            "state_persistence": false,
            "streaming": false,
            "mcp_tools": [],
        },
        "endpoints": {"asap": "http://127.0.0.1:8001/asap", "events": null},
        "auth": null,
        "signature": null,
    }))
    .expect("the echo agent manifest is valid")
}

/// A UTC timestamp `offset_seconds` from now (negative: in the past), in wire format.
pub fn timestamp_from_now(offset_seconds: f64) -> String {
    let now = asap_model::Timestamp::now();
    asap_model::Timestamp::from_unix_micros(now.unix_micros() + (offset_seconds * 1e6) as i64)
        .to_string()
}

/// Wraps an envelope in an `asap.send` request with the given JSON-RPC `id`.
pub fn rpc_request_with_id(envelope: &Value, id: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": "asap.send", "params": {"envelope": envelope}, "id": id})
}

/// gzip of `data` (one member).
pub async fn gzip(data: &[u8]) -> Vec<u8> {
    asap_codec::compression::compress(asap_codec::compression::Encoding::Gzip, data)
        .await
        .expect("gzip")
}

/// A gzip "bomb": a small body that inflates to `inflated` zero bytes (rounded up to whole
/// MiB). Built as repeated one-MiB members, so producing it costs one MiB of compression
/// whatever its inflated size; about 1 KiB of compressed data per MiB.
pub async fn gzip_bomb(inflated: usize) -> Vec<u8> {
    const MIB: usize = 1024 * 1024;
    let member = gzip(&vec![0u8; MIB]).await;
    let members = inflated.div_ceil(MIB).max(1);
    member.repeat(members)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Files directly in `dir` whose name ends with `suffix`.
    fn count(dir: &Path, suffix: &str) -> usize {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("entry").file_name())
            .filter(|name| name.to_string_lossy().ends_with(suffix))
            .count()
    }

    #[test]
    fn the_fixtures_are_inside_this_crate() {
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(fixtures_dir().starts_with(crate_dir));
        assert!(fixtures_dir().join("README.md").is_file());
    }

    #[test]
    fn every_folder_holds_its_documents() {
        assert_eq!(count(&examples_dir(), ".json"), 15);
        assert_eq!(count(&examples_dir().join("entities"), ".json"), 8);
        assert_eq!(count(&examples_dir().join("parts"), ".json"), 6);
        // 40 samples (39 JSON documents and one raw body) and the table describing them.
        assert_eq!(
            count(&invalid_dir(), ".json") + count(&invalid_dir(), ".txt"),
            40
        );
        assert!(invalid_dir().join("README.md").is_file());
        assert_eq!(count(&jsonrpc_dir(), ".json"), 26);
        let schemas = schemas_live_dir();
        assert_eq!(
            count(&schemas, ".schema.json")
                + count(&schemas.join("entities"), ".schema.json")
                + count(&schemas.join("parts"), ".schema.json")
                + count(&schemas.join("payloads"), ".schema.json"),
            25
        );
    }

    #[test]
    fn captures_and_examples_read_through_the_helpers() {
        assert_eq!(capture("health.json")["response"]["status"], 200);
        assert_eq!(example("task_request.json")["payload_type"], "task.request");
        assert!(
            capture_envelope("success_task_request.json")
                .get("timestamp")
                .is_none()
        );
        assert_eq!(
            serde_json::to_value(echo_agent_manifest()).unwrap(),
            capture("manifest.json")["response"]["body"]
        );
    }
}
