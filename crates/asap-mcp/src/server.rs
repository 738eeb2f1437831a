//! The server: what it offers, and how it is served.

use std::collections::BTreeMap;
use std::sync::Arc;

use rmcp::ServiceExt as _;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::handler::Handler;
use crate::{JsonObject, Prompt, Resource, Tool};

/// An MCP server: its identity and what it offers. Cheap to clone; serve it as many times
/// as there are connections.
#[derive(Debug, Clone)]
pub struct McpServer {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) title: Option<String>,
    pub(crate) instructions: Option<String>,
    /// By name, each with its compiled argument schema.
    pub(crate) tools: BTreeMap<String, Registered>,
    /// By URI.
    pub(crate) resources: BTreeMap<String, Resource>,
    /// By name.
    pub(crate) prompts: BTreeMap<String, Prompt>,
    /// Most items per `*/list` page.
    pub(crate) page_size: usize,
}

/// A tool as built: its schema checked to be an object and compiled, once.
#[derive(Debug)]
pub(crate) struct Registered {
    pub(crate) tool: Tool,
    /// The schema as listed (shared by every `tools/list` answer).
    pub(crate) schema: Arc<JsonObject>,
    pub(crate) validator: jsonschema::Validator,
}

/// Most tools, resources or prompts a list answers with before it gives a cursor to the
/// next page, unless [`McpServerBuilder::page_size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 100;

impl McpServer {
    /// A server called `name` at `version` (the `serverInfo` hosts see), with nothing yet.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> McpServerBuilder {
        McpServerBuilder {
            name: name.into(),
            version: version.into(),
            title: None,
            instructions: None,
            tools: Vec::new(),
            resources: Vec::new(),
            prompts: Vec::new(),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// Serves one host on this process's stdin and stdout until the host closes stdin.
    pub async fn serve_stdio(&self) -> Result<(), ServeError> {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout()).await
    }

    /// Serves one host on `reader` and `writer` (newline-delimited JSON-RPC) until
    /// `reader` ends.
    pub async fn serve_io<R, W>(&self, reader: R, writer: W) -> Result<(), ServeError>
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let running = Handler::new(self.clone())
            .serve((reader, writer))
            .await
            .map_err(|e| ServeError(e.to_string()))?;
        running
            .waiting()
            .await
            .map_err(|e| ServeError(e.to_string()))?;
        Ok(())
    }

    /// The names of the tools, in order.
    pub fn tool_names(&self) -> impl Iterator<Item = &str> {
        self.inner.tools.keys().map(String::as_str)
    }
}

/// Builds an [`McpServer`].
#[derive(Debug)]
pub struct McpServerBuilder {
    name: String,
    version: String,
    title: Option<String>,
    instructions: Option<String>,
    tools: Vec<Tool>,
    resources: Vec<Resource>,
    prompts: Vec<Prompt>,
    page_size: usize,
}

impl McpServerBuilder {
    /// Lists answer with at most `size` items (at least 1) and a cursor to the next page
    /// (default [`DEFAULT_PAGE_SIZE`]).
    pub fn page_size(mut self, size: usize) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// A human-readable title for the server.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Instructions hosts may give their model about using the server.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Offers `tool`.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Offers `resource`.
    pub fn resource(mut self, resource: Resource) -> Self {
        self.resources.push(resource);
        self
    }

    /// Offers `prompt`.
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompts.push(prompt);
        self
    }

    /// The server; fails on a duplicate name or URI, or a tool schema that is not a valid
    /// JSON Schema object.
    pub fn build(self) -> Result<McpServer, BuildError> {
        let mut tools = BTreeMap::new();
        for tool in self.tools {
            let serde_json::Value::Object(schema) = &tool.input_schema else {
                return Err(BuildError::Schema {
                    tool: tool.name,
                    message: "the input schema must be a JSON object".into(),
                });
            };
            let schema = Arc::new(schema.clone());
            let validator = jsonschema::validator_for(&tool.input_schema).map_err(|error| {
                BuildError::Schema {
                    tool: tool.name.clone(),
                    message: error.to_string(),
                }
            })?;
            let name = tool.name.clone();
            let registered = Registered {
                tool,
                schema,
                validator,
            };
            if tools.insert(name.clone(), registered).is_some() {
                return Err(BuildError::Duplicate(format!("tool {name}")));
            }
        }
        let mut resources = BTreeMap::new();
        for resource in self.resources {
            let uri = resource.uri.clone();
            if resources.insert(uri.clone(), resource).is_some() {
                return Err(BuildError::Duplicate(format!("resource {uri}")));
            }
        }
        let mut prompts = BTreeMap::new();
        for prompt in self.prompts {
            let name = prompt.name.clone();
            if prompts.insert(name.clone(), prompt).is_some() {
                return Err(BuildError::Duplicate(format!("prompt {name}")));
            }
        }
        Ok(McpServer {
            inner: Arc::new(Inner {
                name: self.name,
                version: self.version,
                title: self.title,
                instructions: self.instructions,
                tools,
                resources,
                prompts,
                page_size: self.page_size,
            }),
        })
    }
}

/// Why [`McpServerBuilder::build`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two tools, resources or prompts with one name (or URI).
    #[error("{0} is offered twice")]
    Duplicate(String),
    /// A tool's input schema is not a valid JSON Schema.
    #[error("tool {tool}: invalid input schema: {message}")]
    Schema {
        /// The tool.
        tool: String,
        /// What is wrong with the schema.
        message: String,
    },
}

/// Serving a host failed (its transport broke, or the session could not start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MCP session failed: {0}")]
pub struct ServeError(String);
