//! The server's answers, as rmcp's `ServerHandler`: the one place rmcp's model types meet
//! ours.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use rmcp::model::{self as m, ErrorData};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use serde_json::Value;

use crate::prompt::{PromptArguments, Role};
use crate::server::McpServer;
use crate::tool::{ToolContext, ToolError};
use crate::{Content, ResourceBody};

/// What a tool that panicked answers (PROTOCOL §15): the panic's text stays in the log.
const INTERNAL_TOOL_ERROR: &str = "Internal tool error";

/// One served session's view of the server.
pub(crate) struct Handler {
    server: McpServer,
}

impl Handler {
    pub(crate) fn new(server: McpServer) -> Self {
        Self { server }
    }
}

/// The page of `items` that `request`'s cursor asks for, and the cursor of the next one.
///
/// A cursor is the offset of the page's first item, as text: opaque to clients, who only
/// send back what they were given; one that does not parse, or points past the end, is
/// refused with `-32602`. The lists are fixed once the server is built, so an offset
/// always names the same item.
fn page<T>(
    items: impl ExactSizeIterator<Item = T>,
    request: Option<&m::PaginatedRequestParams>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), ErrorData> {
    let total = items.len();
    let start = match request.and_then(|r| r.cursor.as_deref()) {
        None => 0,
        Some(cursor) => cursor
            .strip_prefix("offset:")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n < total)
            .ok_or_else(|| ErrorData::invalid_params(format!("Invalid cursor: {cursor}"), None))?,
    };
    let page: Vec<T> = items.skip(start).take(size).collect();
    let next = (start + page.len() < total).then(|| format!("offset:{}", start + page.len()));
    Ok((page, next))
}

/// The schema error's message and where in the arguments it is (`/a/0`), when not at the
/// top.
fn describe(error: &jsonschema::ValidationError<'_>) -> String {
    let path = error.instance_path().to_string();
    if path.is_empty() {
        error.to_string()
    } else {
        format!("{error} (at {path})")
    }
}

/// rmcp's form of a resource's content.
fn contents(uri: &str, mime_type: &str, body: ResourceBody) -> m::ResourceContents {
    match body {
        ResourceBody::Text(text) => m::ResourceContents::text(text, uri),
        ResourceBody::Blob(base64) => m::ResourceContents::blob(base64, uri),
    }
    .with_mime_type(mime_type)
}

/// rmcp's form of a content block.
fn block(content: Content) -> m::ContentBlock {
    match content {
        Content::Text(text) => m::ContentBlock::text(text),
        Content::Image { base64, mime_type } => m::ContentBlock::image(base64, mime_type),
        Content::Audio { base64, mime_type } => m::ContentBlock::audio(base64, mime_type),
        Content::Resource {
            uri,
            mime_type,
            body,
        } => m::ContentBlock::resource(contents(&uri, &mime_type, body)),
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> m::ServerConfig {
        let inner = &self.server.inner;
        let mut capabilities = m::ServerCapabilities::default();
        if !inner.tools.is_empty() {
            capabilities.tools = Some(m::ToolsCapability::default());
        }
        if !inner.resources.is_empty() {
            capabilities.resources = Some(m::ResourcesCapability::default());
        }
        if !inner.prompts.is_empty() {
            capabilities.prompts = Some(m::PromptsCapability::default());
        }
        let mut implementation = m::Implementation::new(&inner.name, &inner.version);
        implementation.title.clone_from(&inner.title);
        let mut config = m::ServerConfig::new(capabilities);
        config.server_info = implementation;
        config.instructions.clone_from(&inner.instructions);
        config
    }

    async fn list_tools(
        &self,
        request: Option<m::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<m::ListToolsResult, ErrorData> {
        let inner = &self.server.inner;
        let (tools, next) = page(inner.tools.values(), request.as_ref(), inner.page_size)?;
        let tools = tools
            .into_iter()
            .map(|registered| {
                let tool = &registered.tool;
                let listed = m::Tool::new(
                    tool.name.clone(),
                    tool.description.clone(),
                    registered.schema.clone(),
                );
                match &tool.title {
                    Some(title) => listed.with_title(title.clone()),
                    None => listed,
                }
            })
            .collect();
        let mut result = m::ListToolsResult::with_all_items(tools);
        result.next_cursor = next;
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: m::CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<m::CallToolResponse, ErrorData> {
        let Some(registered) = self.server.inner.tools.get(request.name.as_ref()) else {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool: {}", request.name),
                None,
            ));
        };
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let tool = &registered.tool;
        if let Err(error) = registered.validator.validate(&arguments) {
            return Err(ErrorData::invalid_params(
                format!("Invalid arguments: {}", describe(&error)),
                None,
            ));
        }
        let Value::Object(arguments) = arguments else {
            unreachable!("built from an object above")
        };
        let run = (tool.run)(
            arguments,
            ToolContext {
                request: Some(context),
            },
        );
        let result = match AssertUnwindSafe(run).catch_unwind().await {
            Ok(Ok(output)) => {
                let content = output.content.into_iter().map(block).collect();
                let mut result = m::CallToolResult::success(content);
                result.structured_content = output.structured.map(Value::Object);
                result
            }
            Ok(Err(ToolError(message))) => {
                m::CallToolResult::error(vec![m::ContentBlock::text(message)])
            }
            Err(_) => {
                tracing::error!(tool = %tool.name, "the tool panicked");
                m::CallToolResult::error(vec![m::ContentBlock::text(INTERNAL_TOOL_ERROR)])
            }
        };
        Ok(m::CallToolResponse::Complete(result))
    }

    async fn list_resources(
        &self,
        request: Option<m::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<m::ListResourcesResult, ErrorData> {
        let inner = &self.server.inner;
        let (resources, next) = page(inner.resources.values(), request.as_ref(), inner.page_size)?;
        let resources = resources
            .into_iter()
            .map(|resource| {
                let listed = m::Resource::new(&resource.uri, &resource.name)
                    .with_mime_type(&resource.mime_type);
                match &resource.description {
                    Some(description) => listed.with_description(description),
                    None => listed,
                }
            })
            .collect();
        let mut result = m::ListResourcesResult::with_all_items(resources);
        result.next_cursor = next;
        Ok(result)
    }

    async fn read_resource(
        &self,
        request: m::ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<m::ReadResourceResponse, ErrorData> {
        let Some(resource) = self.server.inner.resources.get(&request.uri) else {
            return Err(ErrorData::resource_not_found(
                format!("Resource not found: {}", request.uri),
                Some(serde_json::json!({ "uri": request.uri })),
            ));
        };
        let body = (resource.read)()
            .await
            .map_err(|error| ErrorData::internal_error(error.0, None))?;
        let contents = contents(&resource.uri, &resource.mime_type, body);
        Ok(m::ReadResourceResponse::Complete(
            m::ReadResourceResult::new(vec![contents]),
        ))
    }

    async fn list_prompts(
        &self,
        request: Option<m::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<m::ListPromptsResult, ErrorData> {
        let inner = &self.server.inner;
        let (prompts, next) = page(inner.prompts.values(), request.as_ref(), inner.page_size)?;
        let prompts = prompts
            .into_iter()
            .map(|prompt| {
                let arguments = prompt
                    .arguments
                    .iter()
                    .map(|argument| {
                        let listed =
                            m::PromptArgument::new(&argument.name).with_required(argument.required);
                        match &argument.description {
                            Some(description) => listed.with_description(description),
                            None => listed,
                        }
                    })
                    .collect();
                m::Prompt::new(&prompt.name, prompt.description.as_ref(), Some(arguments))
            })
            .collect();
        let mut result = m::ListPromptsResult::with_all_items(prompts);
        result.next_cursor = next;
        Ok(result)
    }

    async fn get_prompt(
        &self,
        request: m::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<m::GetPromptResponse, ErrorData> {
        let Some(prompt) = self.server.inner.prompts.get(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("Unknown prompt: {}", request.name),
                None,
            ));
        };
        let mut arguments = PromptArguments::new();
        for (name, value) in request.arguments.unwrap_or_default() {
            let Value::String(value) = value else {
                return Err(ErrorData::invalid_params(
                    format!("Invalid arguments: argument {name} must be a string"),
                    None,
                ));
            };
            arguments.insert(name, value);
        }
        if let Some(missing) = prompt
            .arguments
            .iter()
            .find(|argument| argument.required && !arguments.contains_key(&argument.name))
        {
            return Err(ErrorData::invalid_params(
                format!("Missing required argument: {}", missing.name),
                None,
            ));
        }
        let messages = (prompt.render)(arguments)
            .await
            .map_err(|error| ErrorData::internal_error(error.0, None))?;
        let messages = messages
            .into_iter()
            .map(|message| {
                let role = match message.role {
                    Role::User => m::Role::User,
                    Role::Assistant => m::Role::Assistant,
                };
                m::PromptMessage::new(role, block(message.content))
            })
            .collect();
        let result = m::GetPromptResult::new(messages);
        let result = match &prompt.description {
            Some(description) => result.with_description(description),
            None => result,
        };
        Ok(m::GetPromptResponse::Complete(result))
    }
}
