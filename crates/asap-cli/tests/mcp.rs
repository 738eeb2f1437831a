//! `asap mcp serve --demo` over stdio, driven by the official Python MCP SDK's client (2.x)
//! in both revision eras: the `initialize` handshake (`legacy`, up to 2025-11-25) and
//! `server/discover` (`auto`, 2026-07-28), and by raw lines (blank lines, the §15 shapes).
//!
//! The SDK lives in a virtual environment whose python is named by `ASAP_MCP_PYTHON`
//! (`.ci/run` installs PyPI `mcp` into /var/tmp/asap-mcp-py); without it the SDK tests skip
//! locally and fail under `CI=true`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn asap() -> &'static str {
    env!("CARGO_BIN_EXE_asap")
}

/// The SDK's python, or `None` after saying why the test is skipped.
fn sdk_python() -> Option<String> {
    asap_testing::services::require("ASAP_MCP_PYTHON")
}

/// What the SDK client saw of the demo server in `mode`.
fn drive(python: &str, mode: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/python_client.py");
    let output = Command::new(python)
        .args([script, mode, asap(), "mcp", "serve", "--demo"])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{mode}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn check(seen: &Value, mode: &str) {
    assert_eq!(seen["server"]["name"], "asap-mcp-demo", "{mode}: {seen}");
    assert_eq!(seen["tools"], json!(["add", "echo"]), "{mode}");
    assert_eq!(seen["echo_schema"]["required"], json!(["text"]), "{mode}");
    assert_eq!(seen["echo"], json!({"text": ["hello"], "is_error": false}));
    assert_eq!(seen["add"], json!({"text": ["5.5"], "is_error": false}));
    assert_eq!(
        seen["unknown_tool"],
        json!({"code": -32602, "message": "Unknown tool: nope"})
    );
    assert_eq!(seen["invalid_arguments"]["code"], -32602, "{mode}");
    let message = seen["invalid_arguments"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invalid arguments: ") && message.contains("/a"),
        "{message}"
    );
    assert_eq!(seen["resources"], json!(["demo://greeting"]));
    assert_eq!(
        seen["greeting"],
        json!(["Hello from the asap-mcp demo server."])
    );
    assert_eq!(
        seen["prompts"],
        json!([{"name": "summarize", "arguments": [["topic", true]]}])
    );
    assert_eq!(
        seen["prompt"],
        json!([[
            "user",
            "Summarize what is known about owls in three sentences."
        ]])
    );
    assert_eq!(
        seen["prompt_missing"],
        json!({"code": -32602, "message": "Missing required argument: topic"})
    );
}

#[test]
fn python_sdk_with_the_initialize_handshake() {
    let Some(python) = sdk_python() else { return };
    let seen = drive(&python, "legacy");
    assert_eq!(seen["protocol_version"], "2025-11-25", "{seen}");
    check(&seen, "legacy");
}

#[test]
fn python_sdk_with_server_discover() {
    let Some(python) = sdk_python() else { return };
    let seen = drive(&python, "auto");
    assert_eq!(seen["protocol_version"], "2026-07-28", "{seen}");
    check(&seen, "auto");
}

/// Raw lines: blank lines are skipped (the reference stops at the first), every answer is
/// one line of JSON-RPC, and stdout carries nothing else.
#[test]
fn raw_lines_over_stdio() {
    let mut child = Command::new(asap())
        .args(["mcp", "serve", "--demo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("asap runs");
    let lines = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        "",
        "   ",
        r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"after blank lines"}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{}}}"#,
        r#"{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"demo://nothing"}}"#,
    ];
    {
        let mut stdin = child.stdin.take().unwrap();
        for line in lines {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let output = child.wait_with_output().expect("exits when stdin closes");
    assert!(output.status.success(), "{output:?}");
    let replies: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every stdout line is JSON"))
        .collect();
    assert_eq!(replies.len(), 5, "{replies:?}");
    // An older revision asked for is the one answered.
    assert_eq!(replies[0]["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(replies[1], json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
    assert_eq!(
        replies[2]["result"]["content"][0]["text"],
        "after blank lines"
    );
    assert_eq!(replies[3]["error"]["code"], -32602);
    assert!(
        replies[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"text\" is a required property"),
        "{}",
        replies[3]
    );
    assert_eq!(replies[4]["error"]["code"], -32002);
    assert_eq!(
        replies[4]["error"]["message"],
        "Resource not found: demo://nothing"
    );
}
