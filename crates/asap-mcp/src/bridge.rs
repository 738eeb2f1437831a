//! Bridges between MCP and ASAP (feature `bridge`).
//!
//! - [`agent_server`]: an ASAP agent in front of MCP hosts. Each skill of the agent's
//!   manifest becomes a tool (its input schema, or any object); calling the tool sends the
//!   agent a `task.request` for that skill with the arguments as input, and returns the
//!   `task.response` result.
//! - [`McpBridgeHandler`]: an MCP server behind an ASAP agent. Registered for
//!   `mcp.tool_call` and `mcp.resource_fetch`, it answers them by calling the MCP server
//!   (`mcp.tool_result` and `mcp.resource_data` back, correlated to the request, in the
//!   payload shapes of the protocol).

use std::sync::Arc;

use asap_codec::rpc::RpcError;
use asap_model::payload::{
    McpResourceData, McpResourceFetch, McpToolCall, McpToolResult, TaskRequest, TaskResponse,
};
use asap_model::{AgentUrn, ConversationId, Envelope, JsonObject, TaskStatus};
use asap_transport_client::AsapClient;
use asap_transport_server::{AsapRequest, Handler, HandlerError};
use serde_json::{Value, json};

use crate::client::{ClientError, McpClient, ResourceContent};
use crate::{McpServer, Tool, ToolError, ToolOutput};

/// The sender of the envelopes [`agent_server`] sends, unless told otherwise.
pub const BRIDGE_SENDER: &str = "urn:asap:agent:mcp-bridge";

/// Why the bridge could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The agent's manifest could not be fetched.
    #[error("cannot read the agent's manifest: {0}")]
    Manifest(String),
    /// A skill's input schema is not a valid JSON Schema (or two skills share an id).
    #[error(transparent)]
    Build(#[from] crate::BuildError),
}

/// An MCP server whose tools are the skills of the agent that `client` talks to, sending
/// as `sender`.
pub async fn agent_server(client: AsapClient, sender: AgentUrn) -> Result<McpServer, BridgeError> {
    let manifest = client
        .get_manifest()
        .await
        .map_err(|e| BridgeError::Manifest(e.to_string()))?;
    let client = Arc::new(client);
    let mut builder = McpServer::builder(&manifest.name, &manifest.version)
        .instructions(manifest.description.clone());
    for skill in &manifest.capabilities.skills {
        let schema = skill
            .input_schema
            .clone()
            .map_or_else(|| json!({"type": "object"}), Value::Object);
        let (client, sender, recipient, skill_id) = (
            client.clone(),
            sender.clone(),
            manifest.id.clone(),
            skill.id.clone(),
        );
        builder = builder.tool(Tool::new(
            &skill.id,
            &skill.description,
            schema,
            move |arguments| {
                let task = TaskRequest {
                    conversation_id: ConversationId::generate(),
                    parent_task_id: None,
                    skill_id: skill_id.clone(),
                    input: arguments,
                    config: None,
                };
                let envelope = Envelope::new(sender.clone(), recipient.clone(), task);
                let client = client.clone();
                async move { run_skill(&client, envelope).await }
            },
        ));
    }
    Ok(builder.build()?)
}

/// Sends the skill's `task.request` and turns the answer into a tool result: a completed
/// task's result as JSON, a failed one as a tool error, any other status as the whole
/// response payload.
async fn run_skill(client: &AsapClient, envelope: Envelope) -> Result<ToolOutput, ToolError> {
    let mut reply = client
        .send(envelope)
        .await
        .map_err(|e| ToolError::new(format!("the agent did not answer: {e}")))?;
    let response: TaskResponse = reply
        .take_payload_as()
        .map_err(|e| ToolError::new(format!("the agent's answer is not a task.response: {e}")))?;
    match response.status {
        TaskStatus::Completed => Ok(ToolOutput::json(Value::Object(
            response.result.unwrap_or_default(),
        ))),
        TaskStatus::Failed => {
            let detail = response.result.map(Value::Object).unwrap_or(Value::Null);
            Err(ToolError::new(format!("the task failed: {detail}")))
        }
        _ => Ok(ToolOutput::json(
            serde_json::to_value(&response).unwrap_or(Value::Null),
        )),
    }
}

/// Answers `mcp.tool_call` and `mcp.resource_fetch` envelopes by calling one MCP server.
/// Register it for both payload types.
#[derive(Debug, Clone)]
pub struct McpBridgeHandler {
    client: Arc<McpClient>,
    agent: AgentUrn,
}

impl McpBridgeHandler {
    /// Calls the MCP server `client` is connected to, answering as `agent`.
    pub fn new(client: McpClient, agent: AgentUrn) -> Self {
        Self {
            client: Arc::new(client),
            agent,
        }
    }
}

/// A refusal the caller can act on (`-32602`, the MCP server's message in `data`).
fn refused(message: String, detail: Value) -> HandlerError {
    let mut data = json!({ "error": message });
    if let (Value::Object(data), Value::Object(detail)) = (&mut data, detail) {
        data.extend(detail);
    }
    HandlerError::Rpc(RpcError::new(asap_model::error::rpc::INVALID_PARAMS, data))
}

impl Handler for McpBridgeHandler {
    fn call(&self, request: AsapRequest) -> asap_transport_server::registry::HandlerFuture {
        let (client, agent) = (self.client.clone(), self.agent.clone());
        let mut envelope = request.envelope;
        Box::pin(async move {
            let mut response = match envelope.payload_type.as_str() {
                "mcp.resource_fetch" => {
                    let fetch: McpResourceFetch = envelope.take_payload_as()?;
                    let contents = match client.read_resource(&fetch.resource_uri).await {
                        Ok(contents) => contents,
                        Err(ClientError::Rpc { code, message }) => {
                            return Err(refused(
                                message,
                                json!({"resource_uri": fetch.resource_uri, "mcp_code": code}),
                            ));
                        }
                        Err(other) => return Err(HandlerError::internal(other)),
                    };
                    let contents: Vec<Value> = contents
                        .into_iter()
                        .map(|content| match content {
                            ResourceContent::Text { uri, text } => {
                                json!({"uri": uri, "text": text})
                            }
                            ResourceContent::Blob { uri, base64 } => {
                                json!({"uri": uri, "blob": base64})
                            }
                        })
                        .collect();
                    let mut content = JsonObject::new();
                    content.insert("contents".into(), Value::Array(contents));
                    envelope.response_to(McpResourceData {
                        resource_uri: fetch.resource_uri,
                        content,
                    })
                }
                _ => {
                    let call: McpToolCall = envelope.take_payload_as()?;
                    let result = match client.call_tool(&call.tool_name, call.arguments).await {
                        Ok(result) if result.is_error => {
                            McpToolResult::err(&call.request_id, result.text.join("\n"))
                        }
                        Ok(result) => {
                            let raw = match result.raw {
                                Value::Object(raw) => raw,
                                _ => JsonObject::new(),
                            };
                            McpToolResult::ok(&call.request_id, raw)
                        }
                        // The tool could not be called: said in the result, where the
                        // caller looks for the outcome of its call.
                        Err(
                            error @ (ClientError::Rpc { .. } | ClientError::InvalidArguments(_)),
                        ) => McpToolResult::err(&call.request_id, error.to_string()),
                        Err(other) => return Err(HandlerError::internal(other)),
                    };
                    envelope.response_to(result)
                }
            };
            response.sender = agent;
            Ok(response)
        })
    }
}
