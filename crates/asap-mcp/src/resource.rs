//! Resources: content an MCP host can list and read by URI.

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::ResourceBody;

type Read = Arc<dyn Fn() -> BoxFuture<'static, Result<ResourceBody, ResourceError>> + Send + Sync>;

/// A resource at a fixed URI, text or binary, read by an async function each time a host
/// asks.
#[derive(Clone)]
pub struct Resource {
    pub(crate) uri: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) mime_type: String,
    pub(crate) read: Read,
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource")
            .field("uri", &self.uri)
            .field("name", &self.name)
            .field("mime_type", &self.mime_type)
            .finish_non_exhaustive()
    }
}

impl Resource {
    /// A `text/plain` resource at `uri`, called `name`, whose content `read` returns.
    pub fn text<F, Fut>(uri: impl Into<String>, name: impl Into<String>, read: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, ResourceError>> + Send + 'static,
    {
        Self {
            uri: uri.into(),
            name: name.into(),
            description: None,
            mime_type: "text/plain".into(),
            read: Arc::new(move || {
                let reading = read();
                Box::pin(async move { reading.await.map(ResourceBody::Text) })
            }),
        }
    }

    /// A binary resource at `uri` of type `mime_type`, whose bytes `read` returns (sent
    /// base64-encoded).
    pub fn binary<F, Fut>(
        uri: impl Into<String>,
        name: impl Into<String>,
        mime_type: impl Into<String>,
        read: F,
    ) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<u8>, ResourceError>> + Send + 'static,
    {
        use base64::Engine as _;
        Self {
            uri: uri.into(),
            name: name.into(),
            description: None,
            mime_type: mime_type.into(),
            read: Arc::new(move || {
                let reading = read();
                Box::pin(async move {
                    let bytes = reading.await?;
                    Ok(ResourceBody::Blob(
                        base64::engine::general_purpose::STANDARD.encode(bytes),
                    ))
                })
            }),
        }
    }

    /// A description for hosts to show.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The media type of the content (default `text/plain`).
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = mime_type.into();
        self
    }

    /// The resource's URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }
}

/// Reading a resource failed; the host gets an internal error with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ResourceError(pub(crate) String);

impl ResourceError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
