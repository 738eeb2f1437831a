//! An `McpServer` served on in-memory streams, driven by raw JSON-RPC lines: what each
//! kind of call answers, and what `build` refuses.

use asap_mcp::{BuildError, McpServer, Tool, ToolError, ToolOutput, demo_server};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

type Lines = tokio::io::Lines<BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>;
type Writer = tokio::io::WriteHalf<tokio::io::DuplexStream>;

/// Writes `message` as one line.
async fn send(writer: &mut Writer, message: &Value) {
    writer
        .write_all(format!("{message}\n").as_bytes())
        .await
        .unwrap();
}

/// `server` served on an in-memory pipe, past the initialize handshake: the client's
/// lines, its writer, and the serving task.
async fn session(
    server: McpServer,
) -> (
    Lines,
    Writer,
    tokio::task::JoinHandle<Result<(), asap_mcp::ServeError>>,
) {
    let (client, served) = tokio::io::duplex(64 * 1024);
    let (read_half, write_half) = tokio::io::split(served);
    let serving = tokio::spawn(async move { server.serve_io(read_half, write_half).await });
    let (reader, mut writer) = tokio::io::split(client);
    let mut lines = BufReader::new(reader).lines();
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}});
    send(&mut writer, &initialize).await;
    let reply: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(reply["id"], 0, "{reply}");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    send(&mut writer, &initialized).await;
    (lines, writer, serving)
}

/// Sends `requests` (one per line, after an initialize handshake) and returns the replies
/// to them, in order.
async fn exchange(server: McpServer, requests: &[Value]) -> Vec<Value> {
    let (mut lines, mut writer, serving) = session(server).await;
    let mut replies = Vec::new();
    for request in requests {
        send(&mut writer, request).await;
        let line = lines.next_line().await.unwrap().expect("a reply");
        replies.push(serde_json::from_str(&line).unwrap());
    }
    drop(writer);
    drop(lines);
    serving.await.unwrap().expect("the session ends cleanly");
    replies
}

fn call(id: u64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}})
}

#[tokio::test]
async fn tools_answer_in_the_section_15_shapes() {
    let panics = Tool::new("boom", "Panics", json!({"type": "object"}), |_| async {
        if true {
            panic!("the tool's own bug");
        }
        Ok(ToolOutput::text("never"))
    });
    let fails = Tool::new("fails", "Fails", json!({"type": "object"}), |_| async {
        Err(ToolError::new("the disk is full"))
    });
    let structured = Tool::new("stats", "Counts", json!({"type": "object"}), |_| async {
        Ok(ToolOutput::json(json!({"count": 3})))
    });
    let server = McpServer::builder("t", "1")
        .tool(panics)
        .tool(fails)
        .tool(structured)
        .build()
        .unwrap();
    let replies = exchange(
        server,
        &[
            call(1, "boom", json!({})),
            call(2, "fails", json!({})),
            call(3, "stats", json!({})),
        ],
    )
    .await;
    assert_eq!(
        replies[0]["result"],
        json!({"content": [{"type": "text", "text": "Internal tool error"}], "isError": true})
    );
    assert_eq!(
        replies[1]["result"],
        json!({"content": [{"type": "text", "text": "the disk is full"}], "isError": true})
    );
    assert_eq!(
        replies[2]["result"]["structuredContent"],
        json!({"count": 3})
    );
    assert_eq!(replies[2]["result"]["content"][0]["text"], r#"{"count":3}"#);
}

#[tokio::test]
async fn the_demo_server_lists_and_answers() {
    let replies = exchange(
        demo_server(),
        &[
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            call(2, "add", json!({"a": 2, "b": 3})),
            call(3, "add", json!({"a": 2})),
            call(4, "echo", json!({"text": "hi", "extra": 1})),
            json!({"jsonrpc": "2.0", "id": 5, "method": "resources/list"}),
            json!({"jsonrpc": "2.0", "id": 6, "method": "prompts/get",
                "params": {"name": "summarize", "arguments": {"topic": 7}}}),
            json!({"jsonrpc": "2.0", "id": 7, "method": "prompts/get",
                "params": {"name": "nothing"}}),
        ],
    )
    .await;
    let names: Vec<&str> = replies[0]["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["add", "echo"]);
    assert_eq!(replies[1]["result"]["content"][0]["text"], "5");
    assert_eq!(replies[2]["error"]["code"], -32602);
    assert!(
        replies[2]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"b\" is a required property"),
        "{}",
        replies[2]
    );
    // additionalProperties: false
    assert_eq!(replies[3]["error"]["code"], -32602, "{}", replies[3]);
    assert_eq!(
        replies[4]["result"]["resources"],
        json!([{"uri": "demo://greeting", "name": "greeting", "description": "A greeting",
            "mimeType": "text/plain"}])
    );
    assert_eq!(
        replies[5]["error"]["message"],
        "Invalid arguments: argument topic must be a string"
    );
    assert_eq!(replies[6]["error"]["message"], "Unknown prompt: nothing");
}

#[test]
fn build_refuses_duplicates_and_bad_schemas() {
    let tool = |name: &str, schema: Value| {
        Tool::new(name, "t", schema, |_| async { Ok(ToolOutput::text("")) })
    };
    let twice = McpServer::builder("t", "1")
        .tool(tool("a", json!({"type": "object"})))
        .tool(tool("a", json!({"type": "object"})))
        .build();
    assert_eq!(twice.unwrap_err(), BuildError::Duplicate("tool a".into()));
    let not_object = McpServer::builder("t", "1")
        .tool(tool("a", json!("object")))
        .build();
    assert!(matches!(not_object, Err(BuildError::Schema { .. })));
    let invalid = McpServer::builder("t", "1")
        .tool(tool("a", json!({"type": "no-such-type"})))
        .build()
        .unwrap_err();
    assert!(
        matches!(&invalid, BuildError::Schema { tool, .. } if tool == "a"),
        "{invalid}"
    );
}

#[tokio::test]
async fn content_kinds_and_binary_resources_on_the_wire() {
    use asap_mcp::{Content, Resource};
    let mixed = Tool::new("mixed", "All kinds", json!({"type": "object"}), |_| async {
        Ok(ToolOutput::content(vec![
            Content::text("hi"),
            Content::image(b"\x89PNG", "image/png"),
            Content::audio(b"RIFF", "audio/wav"),
            Content::embedded_text("mem://a", "text/plain", "inside"),
            Content::embedded_blob("mem://b", "application/octet-stream", &[0, 1, 2]),
        ]))
    });
    let bytes = Resource::binary(
        "mem://bytes",
        "bytes",
        "application/octet-stream",
        || async { Ok(vec![0xff, 0x00, 0x7f]) },
    );
    let server = McpServer::builder("t", "1")
        .tool(mixed)
        .resource(bytes)
        .build()
        .unwrap();
    let replies = exchange(
        server,
        &[
            call(1, "mixed", json!({})),
            json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read",
                "params": {"uri": "mem://bytes"}}),
        ],
    )
    .await;
    assert_eq!(
        replies[0]["result"]["content"],
        json!([
            {"type": "text", "text": "hi"},
            {"type": "image", "data": "iVBORw==", "mimeType": "image/png"},
            {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav"},
            {"type": "resource", "resource":
                {"uri": "mem://a", "mimeType": "text/plain", "text": "inside"}},
            {"type": "resource", "resource":
                {"uri": "mem://b", "mimeType": "application/octet-stream", "blob": "AAEC"}},
        ])
    );
    assert_eq!(
        replies[1]["result"]["contents"],
        json!([{"uri": "mem://bytes", "mimeType": "application/octet-stream", "blob": "/wB/"}])
    );
}

/// Two tools, one per page.
fn paged() -> McpServer {
    let tool = |name: &str| {
        Tool::new(name, "t", json!({"type": "object"}), |_| async {
            Ok(ToolOutput::text("ok"))
        })
    };
    McpServer::builder("t", "1")
        .page_size(1)
        .tool(tool("a"))
        .tool(tool("b"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn lists_come_in_pages_with_cursors() {
    let list = |id: u64, cursor: Option<&str>| {
        let params = cursor.map_or(json!({}), |c| json!({ "cursor": c }));
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params})
    };
    let replies = exchange(
        paged(),
        &[
            list(1, None),
            list(2, Some("offset:1")),
            list(3, Some("offset:9")),
            list(4, Some("x")),
        ],
    )
    .await;
    assert_eq!(replies[0]["result"]["tools"][0]["name"], "a");
    assert_eq!(replies[0]["result"]["nextCursor"], "offset:1");
    assert_eq!(replies[1]["result"]["tools"][0]["name"], "b");
    assert!(
        replies[1]["result"].get("nextCursor").is_none(),
        "{}",
        replies[1]
    );
    for refused in &replies[2..] {
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
    }
}

/// The client follows the cursors: every page, in order.
#[cfg(feature = "client")]
#[tokio::test]
async fn the_client_reads_every_page() {
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (read, write) = tokio::io::split(server_end);
    tokio::spawn(async move { paged().serve_io(read, write).await });
    let (read, write) = tokio::io::split(client_end);
    let client = asap_mcp::client::McpClient::over_io(read, write)
        .await
        .unwrap();
    let names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    client.close().await.unwrap();
}

/// A caller that asks for progress gets the tool's notifications before its result; one
/// that does not ask gets none.
#[tokio::test]
async fn progress_reaches_a_caller_that_asks_for_it() {
    let slow = Tool::with_context(
        "slow",
        "Steps",
        json!({"type": "object"}),
        |_, context| async move {
            for step in 1..=3 {
                context
                    .progress(f64::from(step), Some(3.0), Some("step"))
                    .await;
            }
            assert!(!context.is_cancelled());
            Ok(ToolOutput::text("done"))
        },
    );
    let server = McpServer::builder("t", "1").tool(slow).build().unwrap();
    let (mut lines, mut writer, _serving) = session(server).await;
    let mut asked = call(1, "slow", json!({}));
    asked["params"]["_meta"] = json!({"progressToken": "p1"});
    for request in [asked, call(2, "slow", json!({}))] {
        send(&mut writer, &request).await;
    }
    let mut seen = Vec::new();
    while seen
        .iter()
        .filter(|m: &&Value| m.get("id").is_some())
        .count()
        < 2
    {
        let line = lines.next_line().await.unwrap().expect("a line");
        seen.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let progress: Vec<&Value> = seen
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 3, "{seen:?}");
    for (i, note) in progress.iter().enumerate() {
        assert_eq!(note["params"]["progressToken"], "p1");
        assert_eq!(note["params"]["progress"], json!((i + 1) as f64));
        assert_eq!(note["params"]["total"], json!(3.0));
    }
    let first_result = seen.iter().position(|m| m["id"] == 1).unwrap();
    let last_progress = seen
        .iter()
        .rposition(|m| m["method"] == "notifications/progress")
        .unwrap();
    assert!(last_progress < first_result, "{seen:?}");
}
