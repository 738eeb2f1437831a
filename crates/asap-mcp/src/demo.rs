//! The demo server of `asap mcp serve --demo`.

use serde_json::json;

use crate::{
    McpServer, Prompt, PromptArgument, PromptMessage, Resource, Tool, ToolError, ToolOutput,
};

/// The demo server: tools `echo` (returns `text`) and `add` (returns `a + b`), the text
/// resource `demo://greeting`, and the prompt `summarize` (argument `topic`).
pub fn demo_server() -> McpServer {
    let echo = Tool::new(
        "echo",
        "Returns `text` as it was given",
        json!({
            "type": "object",
            "properties": {"text": {"type": "string", "description": "What to echo"}},
            "required": ["text"],
            "additionalProperties": false
        }),
        |arguments| async move {
            let text = arguments["text"].as_str().unwrap_or_default();
            Ok(ToolOutput::text(text))
        },
    );
    let add = Tool::new(
        "add",
        "Returns the sum of `a` and `b`",
        json!({
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
            "additionalProperties": false
        }),
        |arguments| async move {
            let (Some(a), Some(b)) = (arguments["a"].as_f64(), arguments["b"].as_f64()) else {
                return Err(ToolError::new("a and b must be numbers"));
            };
            let sum = a + b;
            // Integers print as integers (`2 + 3` is `5`, not `5.0`).
            let exact = sum.fract() == 0.0 && sum.abs() < 9.0e15;
            #[allow(clippy::cast_possible_truncation)]
            let text = if exact {
                (sum as i64).to_string()
            } else {
                sum.to_string()
            };
            Ok(ToolOutput::text(text))
        },
    );
    let greeting = Resource::text("demo://greeting", "greeting", || async {
        Ok("Hello from the asap-mcp demo server.".to_owned())
    })
    .with_description("A greeting");
    let summarize = Prompt::new("summarize", |arguments| async move {
        let topic = arguments.get("topic").cloned().unwrap_or_default();
        Ok(vec![PromptMessage::user(format!(
            "Summarize what is known about {topic} in three sentences."
        ))])
    })
    .with_description("Asks for a short summary of a topic")
    .argument(PromptArgument::required("topic", "What to summarize"));
    McpServer::builder("asap-mcp-demo", env!("CARGO_PKG_VERSION"))
        .title("asap-mcp demo")
        .tool(echo)
        .tool(add)
        .resource(greeting)
        .prompt(summarize)
        .build()
        .expect("the demo's names and schemas are valid")
}
