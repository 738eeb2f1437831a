//! Prompts: message templates an MCP host fills in with arguments.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::Content;

/// Arguments of a prompt, by name.
pub type PromptArguments = BTreeMap<String, String>;

type Render = Arc<
    dyn Fn(PromptArguments) -> BoxFuture<'static, Result<Vec<PromptMessage>, PromptError>>
        + Send
        + Sync,
>;

/// A prompt with named string arguments, rendered into messages by an async function.
///
/// A `get` missing a required argument is refused with `-32602` naming it, before the
/// function runs.
#[derive(Clone)]
pub struct Prompt {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) arguments: Vec<PromptArgument>,
    pub(crate) render: Render,
}

impl fmt::Debug for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prompt")
            .field("name", &self.name)
            .field("arguments", &self.arguments)
            .finish_non_exhaustive()
    }
}

impl Prompt {
    /// A prompt `name`, rendered by `render`.
    pub fn new<F, Fut>(name: impl Into<String>, render: F) -> Self
    where
        F: Fn(PromptArguments) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<PromptMessage>, PromptError>> + Send + 'static,
    {
        Self {
            name: name.into(),
            description: None,
            arguments: Vec::new(),
            render: Arc::new(move |arguments| Box::pin(render(arguments))),
        }
    }

    /// A description for hosts to show.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Declares an argument.
    pub fn argument(mut self, argument: PromptArgument) -> Self {
        self.arguments.push(argument);
        self
    }

    /// The prompt's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// One declared argument of a [`Prompt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptArgument {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) required: bool,
}

impl PromptArgument {
    /// An argument a `get` must give.
    pub fn required(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: Some(description.into()),
            required: true,
        }
    }

    /// An argument a `get` may leave out.
    pub fn optional(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            required: false,
            ..Self::required(name, description)
        }
    }
}

/// Who a prompt message is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The user.
    User,
    /// The assistant.
    Assistant,
}

/// A message of a rendered prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptMessage {
    pub(crate) role: Role,
    pub(crate) content: Content,
}

impl PromptMessage {
    /// A text message from the user.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, Content::text(text))
    }

    /// A text message from the assistant.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, Content::text(text))
    }

    /// A message from `role` carrying `content` (an image, an embedded resource…).
    pub fn new(role: Role, content: Content) -> Self {
        Self { role, content }
    }

    /// Who it is from.
    pub fn role(&self) -> Role {
        self.role
    }

    /// What it carries.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// Its text, when it is a text message.
    pub fn text(&self) -> Option<&str> {
        self.content.as_text()
    }
}

/// Rendering a prompt failed; the host gets an internal error with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PromptError(pub(crate) String);

impl PromptError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
