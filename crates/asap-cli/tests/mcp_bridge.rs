//! The MCP ⇄ ASAP bridges: `asap mcp serve --agent URL` puts an ASAP agent's skills in
//! front of MCP clients, and `McpBridgeHandler` answers `mcp.tool_call` /
//! `mcp.resource_fetch` envelopes by calling an MCP server (here `asap mcp serve --demo`).

use std::process::Command;

use asap_mcp::bridge::McpBridgeHandler;
use asap_mcp::client::McpClient;
use asap_model::payload::{McpResourceData, McpResourceFetch, McpToolCall, McpToolResult};
use asap_model::{AgentUrn, Envelope};
use asap_testing::TestAgent;
use asap_transport_client::AsapClient;
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::{AsapServer, ServerConfig};
use serde_json::{Value, json};

fn asap() -> &'static str {
    env!("CARGO_BIN_EXE_asap")
}

/// `asap ARGS…` on a blocking thread: exit code, stdout, stderr.
async fn asap_run(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let output = Command::new(asap())
            .args(&args)
            .output()
            .expect("asap runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_skills_become_mcp_tools() {
    let agent = TestAgent::echo().await;
    let bridge = format!("{} mcp serve --agent {}", asap(), agent.base_url());
    let (code, out, err) = asap_run(vec![
        "mcp".into(),
        "tools".into(),
        "--stdio".into(),
        bridge.clone(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "echo\tEcho back the input\n");
    let (code, out, err) = asap_run(vec![
        "mcp".into(),
        "call".into(),
        "echo".into(),
        "--args".into(),
        r#"{"text":"through ASAP"}"#.into(),
        "--stdio".into(),
        bridge,
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let answer: Value = serde_json::from_str(out.trim()).expect("the task's result as JSON");
    assert_eq!(answer, json!({"echoed": {"text": "through ASAP"}}));
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_envelopes_are_answered_by_an_mcp_server() {
    let mcp = McpClient::spawn(asap(), &["mcp".into(), "serve".into(), "--demo".into()])
        .await
        .expect("the demo server starts");
    let manifest = demo_manifest("http://127.0.0.1/asap");
    let bridge = McpBridgeHandler::new(mcp, manifest.id.clone());
    let agent = TestAgent::start(
        AsapServer::builder(manifest.clone())
            .config(ServerConfig::builder().rate_limit(None).build())
            .handler("task.request", EchoHandler::new(manifest.id.clone()))
            .handler("mcp.tool_call", bridge.clone())
            .handler("mcp.resource_fetch", bridge),
    )
    .await;
    let client = AsapClient::builder(agent.base_url()).build().unwrap();
    let sender: AgentUrn = "urn:asap:agent:caller".parse().unwrap();
    let call = |request_id: &str, tool: &str, arguments: Value| {
        Envelope::new(
            sender.clone(),
            manifest.id.clone(),
            McpToolCall {
                request_id: request_id.into(),
                tool_name: tool.into(),
                arguments: arguments.as_object().cloned().unwrap(),
                mcp_context: None,
            },
        )
    };

    let request = call("r1", "add", json!({"a": 2, "b": 3}));
    let mut reply = client.send_ref(&request).await.expect("answered");
    assert_eq!(reply.payload_type, "mcp.tool_result");
    assert_eq!(reply.correlation_id.as_deref(), Some(request.id.as_str()));
    let result: McpToolResult = reply.take_payload_as().unwrap();
    assert!(result.success, "{result:?}");
    assert_eq!(result.request_id, "r1");
    assert_eq!(
        result.result.unwrap()["content"],
        json!([{"type": "text", "text": "5"}])
    );

    // Calls that could not be made are failed results, with the reason.
    for (request_id, tool, arguments, reason) in [
        ("r2", "nope", json!({}), "Unknown tool: nope"),
        (
            "r3",
            "add",
            json!({"a": "two", "b": 3}),
            "Invalid arguments: ",
        ),
    ] {
        let mut reply = client
            .send(call(request_id, tool, arguments))
            .await
            .expect("answered");
        let result: McpToolResult = reply.take_payload_as().unwrap();
        assert!(
            !result.success && result.request_id == request_id,
            "{result:?}"
        );
        assert!(
            result.error.as_deref().unwrap().contains(reason),
            "{result:?}"
        );
    }

    let fetch = |uri: &str| {
        Envelope::new(
            sender.clone(),
            manifest.id.clone(),
            McpResourceFetch {
                resource_uri: uri.into(),
            },
        )
    };
    let mut reply = client
        .send(fetch("demo://greeting"))
        .await
        .expect("answered");
    let data: McpResourceData = reply.take_payload_as().unwrap();
    assert_eq!(data.resource_uri, "demo://greeting");
    assert_eq!(
        data.content["contents"],
        json!([{"uri": "demo://greeting", "text": "Hello from the asap-mcp demo server."}])
    );
    let refused = client.send(fetch("demo://nothing")).await.unwrap_err();
    assert_eq!(refused.rpc_code(), Some(-32602), "{refused:?}");
    agent.shutdown().await;
}
