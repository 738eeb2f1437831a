//! Content blocks: what a tool result or a prompt message carries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// One block of a tool result or a prompt message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// Text.
    Text(String),
    /// An image: base64 data and its media type (`image/png`…).
    Image {
        /// The image, base64-encoded.
        base64: String,
        /// Its media type.
        mime_type: String,
    },
    /// A sound: base64 data and its media type (`audio/wav`…).
    Audio {
        /// The sound, base64-encoded.
        base64: String,
        /// Its media type.
        mime_type: String,
    },
    /// A resource embedded whole: text, or base64 data.
    Resource {
        /// Its URI.
        uri: String,
        /// Its media type.
        mime_type: String,
        /// The content.
        body: ResourceBody,
    },
}

/// The content of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceBody {
    /// Text.
    Text(String),
    /// Binary data, base64-encoded.
    Blob(String),
}

impl Content {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Content::Text(text.into())
    }

    /// An image block of `bytes` (encoded here) of type `mime_type`.
    pub fn image(bytes: &[u8], mime_type: impl Into<String>) -> Self {
        Content::Image {
            base64: STANDARD.encode(bytes),
            mime_type: mime_type.into(),
        }
    }

    /// An audio block of `bytes` (encoded here) of type `mime_type`.
    pub fn audio(bytes: &[u8], mime_type: impl Into<String>) -> Self {
        Content::Audio {
            base64: STANDARD.encode(bytes),
            mime_type: mime_type.into(),
        }
    }

    /// An embedded text resource.
    pub fn embedded_text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Content::Resource {
            uri: uri.into(),
            mime_type: mime_type.into(),
            body: ResourceBody::Text(text.into()),
        }
    }

    /// An embedded binary resource of `bytes` (encoded here).
    pub fn embedded_blob(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        bytes: &[u8],
    ) -> Self {
        Content::Resource {
            uri: uri.into(),
            mime_type: mime_type.into(),
            body: ResourceBody::Blob(STANDARD.encode(bytes)),
        }
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text(text) => Some(text),
            _ => None,
        }
    }
}
