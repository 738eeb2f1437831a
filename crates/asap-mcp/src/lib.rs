//! MCP (Model Context Protocol) for ASAP agents.
//!
//! [`McpServer`] serves [tools](Tool), [resources](Resource) and [prompts](Prompt) to any
//! MCP host (an IDE, a desktop assistant, an agent framework) over stdio: newline-delimited
//! JSON-RPC on the process's stdin and stdout, or on any pair of async streams
//! ([`McpServer::serve_io`]), and over Streamable HTTP (feature `http`, on by default:
//! [`McpServer::http_service`] to mount in any hyper or axum application,
//! [`McpServer::serve_http`] to serve it alone). [`client::McpClient`] (feature `client`,
//! on by default) spawns a stdio server or connects to an endpoint. Every revision from 2024-11-05 to 2025-11-25 is negotiated
//! through `initialize`, and 2026-07-28 (stateless: `server/discover`, the version in each
//! request's `_meta`) is answered too. The protocol engine is the official Rust SDK, rmcp
//! (`docs/adr/0010-mcp-on-rmcp.md`); this crate's API is its own, and no rmcp type appears
//! in it.
//!
//! ```no_run
//! use asap_mcp::{McpServer, Tool, ToolOutput};
//! use serde_json::json;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = McpServer::builder("my-agent", "1.0.0")
//!     .tool(Tool::new(
//!         "shout",
//!         "Upper-cases `text`",
//!         json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
//!         |arguments| async move {
//!             let text = arguments["text"].as_str().unwrap_or_default();
//!             Ok(ToolOutput::text(text.to_uppercase()))
//!         },
//!     ))
//!     .build()?;
//! server.serve_stdio().await?;
//! # Ok(())
//! # }
//! ```
//!
//! What a host sees (PROTOCOL §15, and where this crate differs from the reference):
//!
//! - arguments that do not match a tool's JSON Schema: error `-32602`
//!   `Invalid arguments: <what and where>`; the tool does not run;
//! - an unknown tool: error `-32602` `Unknown tool: <name>` (the MCP specification's
//!   answer; the reference returns an `isError` result instead);
//! - a tool that returns [`ToolError`]: a result with `isError: true` and the message; a
//!   tool that panics: `isError: true` with `Internal tool error`;
//! - blank lines on stdin are skipped (the reference stops at the first one).
#![deny(missing_docs)]

#[cfg(feature = "bridge")]
pub mod bridge;
#[cfg(feature = "client")]
pub mod client;
mod content;
mod demo;
mod handler;
#[cfg(feature = "http")]
pub mod http;
mod prompt;
mod resource;
mod server;
mod tool;

pub use content::{Content, ResourceBody};
pub use demo::demo_server;
pub use prompt::{Prompt, PromptArgument, PromptArguments, PromptError, PromptMessage, Role};
pub use resource::{Resource, ResourceError};
pub use server::{BuildError, DEFAULT_PAGE_SIZE, McpServer, McpServerBuilder, ServeError};
pub use tool::{JsonObject, Tool, ToolContext, ToolError, ToolOutput};
