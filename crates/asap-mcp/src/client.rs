//! The client (feature `client`): spawn a stdio server or connect to a Streamable HTTP
//! endpoint, negotiate the revision, and use what the server offers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{self as m, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, RunningService, ServiceError};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientServiceExt as _, RoleClient};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::prompt::{PromptArguments, PromptMessage, Role};
use crate::tool::JsonObject;
use crate::{Content, ResourceBody};

/// How long a request waits for its answer by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A tool a server offers.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    /// Its name.
    pub name: String,
    /// Its title, if it has one.
    pub title: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    pub input_schema: JsonObject,
}

/// What a tool call returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The text blocks of its content, in order.
    pub text: Vec<String>,
    /// Every block of its content, in order.
    pub content: Vec<Content>,
    /// Its structured content, when the server sent one.
    pub structured: Option<Value>,
    /// Whether the tool reported a failure (`isError`).
    pub is_error: bool,
    /// The whole result as the server sent it.
    pub raw: Value,
}

/// A resource a server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// Its URI.
    pub uri: String,
    /// Its name.
    pub name: String,
    /// Its media type, if given.
    pub mime_type: Option<String>,
}

/// One part of a resource read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceContent {
    /// Text.
    Text {
        /// The URI it was read from.
        uri: String,
        /// The text.
        text: String,
    },
    /// Binary data, base64-encoded as sent.
    Blob {
        /// The URI it was read from.
        uri: String,
        /// The data, base64.
        base64: String,
    },
}

/// A prompt a server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptInfo {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Its arguments: name and whether it is required.
    pub arguments: Vec<(String, bool)>,
}

/// Why a client call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be started or reached, or the session could not start.
    #[error("cannot connect to the MCP server: {0}")]
    Connect(String),
    /// The server answered with a JSON-RPC error.
    #[error("{message} ({code})")]
    Rpc {
        /// The error code (`-32602`…).
        code: i32,
        /// The server's message.
        message: String,
    },
    /// The arguments do not match the tool's advertised schema; nothing was sent.
    #[error("Invalid arguments: {0}")]
    InvalidArguments(String),
    /// No answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The session ended (the server exited or closed the connection).
    #[error("the MCP session ended: {0}")]
    Closed(String),
}

impl From<ServiceError> for ClientError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::McpError(error) => ClientError::Rpc {
                code: error.code.0,
                message: error.message.into_owned(),
            },
            ServiceError::Timeout { timeout } => ClientError::Timeout(timeout),
            other => ClientError::Closed(other.to_string()),
        }
    }
}

/// A session with an MCP server.
pub struct McpClient {
    session: RunningService<RoleClient, ()>,
    timeout: Duration,
    /// The tools' schemas, listed at the first call that needs them.
    schemas: OnceCell<BTreeMap<String, Arc<jsonschema::Validator>>>,
}

impl std::fmt::Debug for McpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClient")
            .field("protocol_version", &self.protocol_version())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A resource's URI, media type and content; a kind of a later revision is given back.
fn resource(
    contents: m::ResourceContents,
) -> Result<(String, Option<String>, ResourceBody), Box<m::ResourceContents>> {
    match contents {
        m::ResourceContents::TextResourceContents {
            uri,
            mime_type,
            text,
            ..
        } => Ok((uri, mime_type, ResourceBody::Text(text))),
        m::ResourceContents::BlobResourceContents {
            uri,
            mime_type,
            blob,
            ..
        } => Ok((uri, mime_type, ResourceBody::Blob(blob))),
        other => Err(Box::new(other)),
    }
}

/// Our form of a content block received.
fn from_block(block: m::ContentBlock) -> Content {
    match block {
        m::ContentBlock::Text(text) => Content::Text(text.text),
        m::ContentBlock::Image(image) => Content::Image {
            base64: image.data,
            mime_type: image.mime_type,
        },
        m::ContentBlock::Audio(audio) => Content::Audio {
            base64: audio.data,
            mime_type: audio.mime_type,
        },
        m::ContentBlock::Resource(embedded) => match resource(embedded.resource) {
            Ok((uri, mime_type, body)) => Content::Resource {
                uri,
                mime_type: mime_type.unwrap_or_default(),
                body,
            },
            Err(other) => Content::Text(serde_json::to_string(&other).unwrap_or_default()),
        },
        // A resource link, or a kind of a later revision: as its JSON.
        other => Content::Text(serde_json::to_string(&other).unwrap_or_default()),
    }
}

/// Discover first (2026-07-28), `initialize` at the latest revision that has it when the
/// server does not know `server/discover`.
fn lifecycle() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::LATEST],
        legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
    }
}

impl McpClient {
    /// Starts `program` with `args` and talks to it over its stdin and stdout (its stderr
    /// is this process's).
    pub async fn spawn(program: &str, args: &[String]) -> Result<Self, ClientError> {
        let mut command = tokio::process::Command::new(program);
        command.args(args);
        let (transport, _stderr) = TokioChildProcess::builder(command)
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map_err(|e| ClientError::Connect(format!("cannot start {program}: {e}")))?;
        Self::start(transport).await
    }

    /// Connects to the Streamable HTTP endpoint at `url` (`http://host:port/mcp`).
    pub async fn connect(url: &str) -> Result<Self, ClientError> {
        Self::start(StreamableHttpClientTransport::from_uri(url)).await
    }

    /// Talks to a server on `reader` and `writer` (newline-delimited JSON-RPC): a server
    /// in the same process, or one reached through pipes of the caller's.
    pub async fn over_io<R, W>(reader: R, writer: W) -> Result<Self, ClientError>
    where
        R: tokio::io::AsyncRead + Send + Unpin + 'static,
        W: tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        Self::start((reader, writer)).await
    }

    async fn start<T, E, A>(transport: T) -> Result<Self, ClientError>
    where
        T: rmcp::transport::IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let session =
            ().serve_with_lifecycle(transport, lifecycle())
                .await
                .map_err(|e| ClientError::Connect(e.to_string()))?;
        Ok(Self {
            session,
            timeout: DEFAULT_TIMEOUT,
            schemas: OnceCell::new(),
        })
    }

    /// Requests wait at most `timeout` for their answer (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The revision the session speaks (`2025-11-25`, `2026-07-28`…).
    pub fn protocol_version(&self) -> Option<String> {
        self.session
            .peer_info()
            .map(|info| info.protocol_version.as_str().to_owned())
    }

    /// The server's name and version, as it gave them.
    pub fn server_info(&self) -> Option<(String, String)> {
        let info = self.session.peer_info()?;
        let server = info.server_info.as_ref()?;
        Some((server.name.clone(), server.version.clone()))
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, ClientError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(ClientError::from),
            Err(_) => Err(ClientError::Timeout(self.timeout)),
        }
    }

    /// Every tool (all pages).
    pub async fn list_tools(&self) -> Result<Vec<ToolInfo>, ClientError> {
        let tools = self.bounded(self.session.list_all_tools()).await?;
        Ok(tools
            .into_iter()
            .map(|tool| ToolInfo {
                name: tool.name.into_owned(),
                title: tool.title,
                description: tool.description.map(|d| d.into_owned()),
                input_schema: (*tool.input_schema).clone(),
            })
            .collect())
    }

    async fn schemas(&self) -> Result<&BTreeMap<String, Arc<jsonschema::Validator>>, ClientError> {
        self.schemas
            .get_or_try_init(|| async {
                let tools = self.list_tools().await?;
                Ok(tools
                    .into_iter()
                    .filter_map(|tool| {
                        let schema = Value::Object(tool.input_schema);
                        // A schema this client cannot compile is left to the server.
                        let validator = jsonschema::validator_for(&schema).ok()?;
                        Some((tool.name, Arc::new(validator)))
                    })
                    .collect())
            })
            .await
    }

    /// Calls tool `name` with `arguments`, after checking them against the schema the
    /// server advertised for it (nothing is sent when they do not match). A tool the
    /// server did not list is sent as is: the server answers for it.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: JsonObject,
    ) -> Result<ToolResult, ClientError> {
        let arguments = Value::Object(arguments);
        if let Some(validator) = self.schemas().await?.get(name)
            && let Err(error) = validator.validate(&arguments)
        {
            let path = error.instance_path().to_string();
            return Err(ClientError::InvalidArguments(if path.is_empty() {
                error.to_string()
            } else {
                format!("{error} (at {path})")
            }));
        }
        let Value::Object(arguments) = arguments else {
            unreachable!("built from an object above")
        };
        let params = m::CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        let result = self.bounded(self.session.call_tool(params)).await?;
        let raw = serde_json::to_value(&result).unwrap_or(Value::Null);
        let content: Vec<Content> = result.content.into_iter().map(from_block).collect();
        let text = content
            .iter()
            .filter_map(|block| block.as_text().map(str::to_owned))
            .collect();
        Ok(ToolResult {
            text,
            content,
            structured: result.structured_content,
            is_error: result.is_error.unwrap_or(false),
            raw,
        })
    }

    /// Every resource (all pages).
    pub async fn list_resources(&self) -> Result<Vec<ResourceInfo>, ClientError> {
        let resources = self.bounded(self.session.list_all_resources()).await?;
        Ok(resources
            .into_iter()
            .map(|resource| ResourceInfo {
                uri: resource.uri.clone(),
                name: resource.name.clone(),
                mime_type: resource.mime_type.clone(),
            })
            .collect())
    }

    /// Reads the resource at `uri`.
    pub async fn read_resource(&self, uri: &str) -> Result<Vec<ResourceContent>, ClientError> {
        let params = m::ReadResourceRequestParams::new(uri);
        let result = self.bounded(self.session.read_resource(params)).await?;
        Ok(result
            .contents
            .into_iter()
            // A kind of content of a later revision is not one this client can show.
            .filter_map(|contents| resource(contents).ok())
            .map(|(uri, _, body)| match body {
                ResourceBody::Text(text) => ResourceContent::Text { uri, text },
                ResourceBody::Blob(base64) => ResourceContent::Blob { uri, base64 },
            })
            .collect())
    }

    /// Every prompt (all pages).
    pub async fn list_prompts(&self) -> Result<Vec<PromptInfo>, ClientError> {
        let prompts = self.bounded(self.session.list_all_prompts()).await?;
        Ok(prompts
            .into_iter()
            .map(|prompt| PromptInfo {
                name: prompt.name,
                description: prompt.description,
                arguments: prompt
                    .arguments
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| (a.name, a.required.unwrap_or(false)))
                    .collect(),
            })
            .collect())
    }

    /// The messages of prompt `name` rendered with `arguments`.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: PromptArguments,
    ) -> Result<Vec<PromptMessage>, ClientError> {
        let arguments: JsonObject = arguments
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let params = m::GetPromptRequestParams::new(name).with_arguments(arguments);
        let result = self.bounded(self.session.get_prompt(params)).await?;
        Ok(result
            .messages
            .into_iter()
            .map(|message| {
                let role = match message.role {
                    m::Role::User => Role::User,
                    m::Role::Assistant => Role::Assistant,
                };
                PromptMessage::new(role, from_block(message.content))
            })
            .collect())
    }

    /// Ends the session (a spawned server sees its stdin close).
    pub async fn close(self) -> Result<(), ClientError> {
        self.session
            .cancel()
            .await
            .map(|_| ())
            .map_err(|e| ClientError::Closed(e.to_string()))
    }
}
