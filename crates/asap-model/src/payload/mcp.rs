//! MCP payloads carried in envelopes.

use serde::{Deserialize, Serialize};

use crate::json::JsonObject;
use crate::validation::ValidationError;

/// `mcp.tool_call`: invoke a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct McpToolCall {
    /// Request id to correlate the result.
    pub request_id: String,
    /// Tool name.
    pub tool_name: String,
    /// Tool arguments.
    pub arguments: JsonObject,
    /// Context such as `{"server": "mcp://…"}`.
    #[serde(default)]
    pub mcp_context: Option<JsonObject>,
}

/// `mcp.tool_result`: outcome of a tool call.
///
/// `success = true` requires `result` and no `error`; `success = false` requires `error` and
/// no `result` (checked on decode and by [`McpToolResult::validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, try_from = "McpToolResultWire")]
pub struct McpToolResult {
    /// Request id of the call.
    pub request_id: String,
    /// Whether the tool succeeded.
    pub success: bool,
    /// Result on success.
    pub result: Option<JsonObject>,
    /// Error text on failure.
    pub error: Option<String>,
}

impl McpToolResult {
    /// A successful result.
    pub fn ok(request_id: impl Into<String>, result: JsonObject) -> Self {
        Self {
            request_id: request_id.into(),
            success: true,
            result: Some(result),
            error: None,
        }
    }

    /// A failed result.
    pub fn err(request_id: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            success: false,
            result: None,
            error: Some(error.into()),
        }
    }

    /// Checks the success/result/error exclusivity rule.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let msg = match (self.success, self.result.is_some(), self.error.is_some()) {
            (true, false, _) => "result must be provided when success=True",
            (true, true, true) => "error must be None when success=True",
            (false, true, _) => "result must be None when success=False",
            (false, false, false) => "error must be provided when success=False",
            _ => return Ok(()),
        };
        Err(ValidationError::value_error(msg))
    }
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "McpToolResult"))]
#[serde(deny_unknown_fields)]
struct McpToolResultWire {
    request_id: String,
    success: bool,
    #[serde(default)]
    result: Option<JsonObject>,
    #[serde(default)]
    error: Option<String>,
}

impl TryFrom<McpToolResultWire> for McpToolResult {
    type Error = String;
    fn try_from(w: McpToolResultWire) -> Result<Self, String> {
        let r = McpToolResult {
            request_id: w.request_id,
            success: w.success,
            result: w.result,
            error: w.error,
        };
        r.validate()
            .map_err(|e| crate::validation::de::encode(&e.kind, e.msg))?;
        Ok(r)
    }
}

/// `mcp.resource_fetch`: fetch a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct McpResourceFetch {
    /// Resource URI.
    pub resource_uri: String,
}

/// `mcp.resource_data`: resource content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct McpResourceData {
    /// Resource URI.
    pub resource_uri: String,
    /// Content object.
    pub content: JsonObject,
}
