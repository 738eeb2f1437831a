//! Tools: a name, a JSON Schema for the arguments, and the async function that runs them.

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use crate::Content;

/// A JSON object: tool arguments, schemas.
pub type JsonObject = Map<String, Value>;

type Run = Arc<
    dyn Fn(JsonObject, ToolContext) -> BoxFuture<'static, Result<ToolOutput, ToolError>>
        + Send
        + Sync,
>;

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
    /// As given; `McpServerBuilder::build` refuses one that is not a valid JSON Schema
    /// object.
    pub(crate) input_schema: Value,
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
        Self::with_context(
            name,
            description,
            input_schema,
            move |arguments, _context| run(arguments),
        )
    }

    /// As [`Tool::new`], for a tool that reports progress or watches for cancellation:
    /// `run` also gets the call's [`ToolContext`].
    pub fn with_context<F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
        run: F,
    ) -> Self
    where
        F: Fn(JsonObject, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
    {
        Self {
            name: name.into(),
            title: None,
            description: description.into(),
            input_schema,
            run: Arc::new(move |arguments, context| Box::pin(run(arguments, context))),
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

/// What a running tool may do besides returning: report progress to the caller, and see
/// whether the caller has cancelled the call.
#[derive(Clone)]
pub struct ToolContext {
    pub(crate) request: Option<rmcp::service::RequestContext<rmcp::RoleServer>>,
}

impl fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolContext")
            .field("progress_token", &self.progress_token().is_some())
            .finish_non_exhaustive()
    }
}

impl ToolContext {
    fn progress_token(&self) -> Option<rmcp::model::ProgressToken> {
        self.request.as_ref()?.meta.get_progress_token()
    }

    /// Tells the caller how far the call has come (`progress` of `total`, when known),
    /// with an optional message. Sent only when the caller asked for progress (its request
    /// carried a progress token); a caller that has gone away is not an error of the tool.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let (Some(request), Some(token)) = (&self.request, self.progress_token()) else {
            return;
        };
        let mut params = rmcp::model::ProgressNotificationParam::new(token, progress);
        params.total = total;
        params.message = message.map(str::to_owned);
        let _ = request.peer.notify_progress(params).await;
    }

    /// Whether the caller has cancelled the call (`notifications/cancelled`).
    pub fn is_cancelled(&self) -> bool {
        self.request.as_ref().is_some_and(|r| r.ct.is_cancelled())
    }

    /// Resolves once the caller cancels the call (never, for a call that cannot be).
    pub async fn cancelled(&self) {
        match &self.request {
            Some(request) => request.ct.cancelled().await,
            None => std::future::pending().await,
        }
    }
}
