//! `asap mcp serve --demo` over stdio and Streamable HTTP, driven by the official Python MCP
//! SDK's client (2.x) in both revision eras: the `initialize` handshake (`legacy`, up to
//! 2025-11-25) and `server/discover` (`auto`, 2026-07-28); by raw lines (blank lines, the
//! §15 shapes); and by raw HTTP (the Origin and Host checks, other paths).
//!
//! The official TypeScript SDK's client (`@modelcontextprotocol/sdk` 1.x, up to 2025-11-25)
//! runs against it too, over both transports.
//!
//! The Python SDK lives in a virtual environment whose python is named by `ASAP_MCP_PYTHON`
//! (`.ci/run` installs PyPI `mcp` into /var/tmp/asap-mcp-py), the TypeScript SDK in the
//! node_modules named by `ASAP_MCP_NODE_MODULES`; without them the SDK tests skip locally
//! and fail under `CI=true`.

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

/// What the SDK client saw of the demo server in `mode`, spawned over stdio.
fn drive(python: &str, mode: &str) -> Value {
    drive_target(python, mode, &[asap(), "mcp", "serve", "--demo"])
}

/// What the SDK client saw of `target` (a command to spawn, or a URL) in `mode`.
fn drive_target(python: &str, mode: &str, target: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/python_client.py");
    json_output(Command::new(python).arg(script).arg(mode).args(target))
}

/// The one JSON object a probe script prints, once it has exited successfully.
fn json_output(command: &mut Command) -> Value {
    let output = command.output().expect("the probe runs");
    assert!(
        output.status.success(),
        "{command:?}: {}\n{}",
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

/// `asap mcp serve --demo --http 127.0.0.1:0`, stopped (SIGTERM) when dropped.
struct HttpDemo {
    child: std::process::Child,
    url: String,
}

impl HttpDemo {
    fn start() -> Self {
        use std::io::BufRead;
        let mut child = Command::new(asap())
            .args(["mcp", "serve", "--demo", "--http", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("asap runs");
        let mut first = String::new();
        std::io::BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("asap mcp: serving on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Self { child, url }
    }

    fn authority(&self) -> &str {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp")
    }

    /// Sends a raw HTTP/1.1 request and returns the status code.
    fn status(&self, request: &str) -> u16 {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(self.authority()).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut reply = Vec::new();
        let mut chunk = [0u8; 4096];
        // The status line is all that is needed; SSE answers would not end.
        while !reply.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&chunk[..n]);
        }
        let line = String::from_utf8_lossy(&reply);
        line.split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for HttpDemo {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn python_sdk_over_streamable_http() {
    let Some(python) = sdk_python() else { return };
    let demo = HttpDemo::start();
    let legacy = drive_target(&python, "legacy", &[&demo.url]);
    assert_eq!(legacy["protocol_version"], "2025-11-25", "{legacy}");
    check(&legacy, "http legacy");
    let modern = drive_target(&python, "auto", &[&demo.url]);
    assert_eq!(modern["protocol_version"], "2026-07-28", "{modern}");
    check(&modern, "http auto");
}

/// A browser page on another origin, a rebinding `Host`, and other paths are refused; a
/// loopback origin is served; SIGTERM stops the server.
#[test]
fn http_checks_origin_host_and_path() {
    let demo = HttpDemo::start();
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let post = |host: &str, origin: Option<&str>| {
        let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
        format!(
            "POST /mcp HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{initialize}",
            initialize.len()
        )
    };
    let host = demo.authority().to_owned();
    assert_eq!(demo.status(&post(&host, None)), 200);
    assert_eq!(
        demo.status(&post(&host, Some("http://localhost:3000"))),
        200
    );
    assert_eq!(demo.status(&post(&host, Some("https://evil.example"))), 403);
    assert_eq!(demo.status(&post("evil.example", None)), 403);
    let other = format!("GET /other HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    assert_eq!(demo.status(&other), 404);
    let mut demo = demo;
    Command::new("kill")
        .args(["-TERM", &demo.child.id().to_string()])
        .status()
        .unwrap();
    let exited = demo.child.wait().unwrap();
    assert!(exited.success(), "{exited:?}");
}

/// `asap ARGS…`: exit code, stdout, stderr.
fn asap_run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(asap()).args(args).output().expect("asap runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The client commands against the demo server, given as `--stdio CMD` or `--url URL`.
fn client_commands_against_the_demo(target: &[&str]) {
    let with = |args: &[&str]| {
        let mut all: Vec<&str> = vec!["mcp"];
        all.extend_from_slice(args);
        all.extend_from_slice(target);
        asap_run(&all)
    };
    let (code, out, err) = with(&["tools"]);
    assert_eq!(code, 0, "{err}");
    let names: Vec<&str> = out
        .lines()
        .map(|line| line.split('\t').next().unwrap())
        .collect();
    assert_eq!(names, ["add", "echo"], "{out}");
    assert_eq!(
        with(&["call", "add", "--args", r#"{"a":2,"b":3}"#]).1,
        "5\n"
    );
    // Checked against the advertised schema before anything is sent.
    let (code, out, err) = with(&["call", "add", "--args", r#"{"a":"x","b":3}"#]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains(r#"Invalid arguments: "x" is not of type "number" (at /a)"#),
        "{err}"
    );
    let (code, _, err) = with(&["call", "nope"]);
    assert_eq!(code, 1);
    assert!(err.contains("Unknown tool: nope (-32602)"), "{err}");
    let (code, out, _) = with(&["call", "echo", "--args", r#"{"text":"hi"}"#, "--json"]);
    assert_eq!(code, 0);
    let raw: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(raw["content"][0], json!({"type": "text", "text": "hi"}));
    assert_eq!(
        with(&["read", "demo://greeting"]).1,
        "Hello from the asap-mcp demo server.\n"
    );
    assert_eq!(
        with(&["prompt", "summarize", "--args", r#"{"topic":"owls"}"#]).1,
        "user: Summarize what is known about owls in three sentences.\n"
    );
    let (code, _, err) = with(&["prompt", "summarize"]);
    assert_eq!(code, 1);
    assert!(err.contains("Missing required argument: topic"), "{err}");
}

#[test]
fn client_commands_over_stdio() {
    let command = format!("{} mcp serve --demo", asap());
    client_commands_against_the_demo(&["--stdio", &command]);
}

#[test]
fn client_commands_over_streamable_http() {
    let demo = HttpDemo::start();
    client_commands_against_the_demo(&["--url", &demo.url]);
}

/// Our client against a server written with the official Python SDK.
#[test]
fn client_commands_against_a_python_sdk_server() {
    let Some(python) = sdk_python() else { return };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/python_server.py");
    let command = format!("{python} {script}");
    let with = |args: &[&str]| {
        let mut all: Vec<&str> = vec!["mcp"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--stdio", &command]);
        asap_run(&all)
    };
    let (code, out, err) = with(&["tools"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "multiply\tMultiplies a by b.\n");
    assert_eq!(
        with(&["call", "multiply", "--args", r#"{"a":6,"b":7}"#]).1,
        "42\n"
    );
    let (code, _, err) = with(&["call", "multiply", "--args", r#"{"a":"six","b":7}"#]);
    assert_eq!(code, 1);
    assert!(err.contains(r#""six" is not of type "integer""#), "{err}");
    assert_eq!(with(&["read", "note://hello"]).1, "hello from python\n");
    assert_eq!(
        with(&["prompt", "greet", "--args", r#"{"name":"Ada"}"#]).1,
        "user: Say hello to Ada.\n"
    );
}

/// What the TypeScript SDK's client saw of `target` (`stdio CMD…` or `http URL`).
fn drive_ts(modules: &str, target: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/ts_client.mjs");
    json_output(
        Command::new("node")
            .arg(script)
            .args(target)
            .env("ASAP_MCP_NODE_MODULES", modules),
    )
}

fn check_ts(seen: &Value, how: &str) {
    assert_eq!(seen["server"]["name"], "asap-mcp-demo", "{how}: {seen}");
    assert_eq!(seen["tools"], json!(["add", "echo"]), "{how}");
    assert_eq!(
        seen["add"],
        json!([{"type": "text", "text": "5.5"}]),
        "{how}"
    );
    assert_eq!(seen["unknown_tool"]["code"], -32602, "{how}");
    assert!(
        seen["unknown_tool"]["message"]
            .as_str()
            .unwrap()
            .ends_with("Unknown tool: nope"),
        "{how}: {seen}"
    );
    assert_eq!(seen["invalid_arguments"]["code"], -32602, "{how}");
    assert_eq!(
        seen["greeting"][0]["text"],
        "Hello from the asap-mcp demo server."
    );
    assert_eq!(
        seen["prompt"][0]["content"]["text"],
        "Summarize what is known about owls in three sentences."
    );
}

#[test]
fn typescript_sdk_over_stdio_and_streamable_http() {
    let Some(modules) = asap_testing::services::require("ASAP_MCP_NODE_MODULES") else {
        return;
    };
    let stdio = drive_ts(&modules, &["stdio", asap(), "mcp", "serve", "--demo"]);
    check_ts(&stdio, "stdio");
    let demo = HttpDemo::start();
    let http = drive_ts(&modules, &["http", &demo.url]);
    check_ts(&http, "http");
}
