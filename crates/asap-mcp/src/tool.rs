//! Tools: a name, a JSON Schema for the arguments, and the async function that runs them.

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use crate::Content;

/// A JSON object: tool arguments, schemas.
pub type JsonObject = Map<String, Value>;

type Run =
    Arc<dyn Fn(JsonObject) -> BoxFuture<'static, Result<ToolOutput, ToolError>> + Send + Sync>;

/// A tool an MCP host may call.
///
/// Its arguments are checked against `input_schema` (JSON Schema) before `run` sees them:
/// arguments that do not match are refused with `-32602` and the schema's message, and the
/// tool does not run.
#[derive(Clone)]
pub struct Tool {
    pub(crate) name: String,
    pub(crate) title: Option<String>,
    pub(crate) description: String,
    pub(crate) input_schema: JsonObject,
    pub(crate) run: Run,
}

impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.name)
            .field("input_schema", &self.input_schema)
            .finish_non_exhaustive()
    }
}

impl Tool {
    /// A tool `name` described by `description`, taking arguments that match
    /// `input_schema` (a JSON Schema object; `{"type": "object"}` accepts any object) and
    /// run by `run`.
    pub fn new<F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
        run: F,
    ) -> Self
    where
        F: Fn(JsonObject) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
    {
        let input_schema = match input_schema {
            Value::Object(schema) => schema,
            // Not an object: kept as `{"type": <it>}`'s opposite would guess; refuse at
            // build time instead (see `McpServerBuilder::build`).
            other => {
                let mut schema = JsonObject::new();
                schema.insert("not-an-object".into(), other);
                schema
            }
        };
        Self {
            name: name.into(),
            title: None,
            description: description.into(),
            input_schema,
            run: Arc::new(move |arguments| Box::pin(run(arguments))),
        }
    }

    /// A human-readable title (listed beside the name by hosts that show one).
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What a tool returns: content blocks for the host to show (text, images, audio,
/// embedded resources), and optionally structured JSON (`structuredContent`, for hosts and
/// revisions that read it).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    pub(crate) content: Vec<Content>,
    pub(crate) structured: Option<JsonObject>,
}

impl ToolOutput {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Self::content(vec![Content::text(text)])
    }

    /// A JSON value: sent as its JSON text, and as structured content when it is an
    /// object.
    pub fn json(value: Value) -> Self {
        let text = value.to_string();
        let structured = match value {
            Value::Object(object) => Some(object),
            _ => None,
        };
        Self {
            content: vec![Content::text(text)],
            structured,
        }
    }

    /// These blocks, in order.
    pub fn content(content: Vec<Content>) -> Self {
        Self {
            content,
            structured: None,
        }
    }
}

/// A failure the tool reports: the host gets a result marked `isError` with this message,
/// so the model calling the tool can read it and try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub(crate) String);

impl ToolError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
