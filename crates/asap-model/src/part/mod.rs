//! Parts: content units discriminated by `type`.
//!
//! No payload or entity embeds parts (they refer to part ids); parts travel inside free-form
//! objects such as `TaskRequest.input`. Decode one with `serde_json::from_value::<Part>`.

mod file;
mod tag;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use file::{FilePart, check_base64, check_mime, check_uri};
pub use tag::{DataTag, FileTag, ResourceTag, TemplateTag, TextTag};

use crate::json::JsonObject;
use crate::validation::{de, from_value};

/// Plain text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TextPart {
    /// Always `"text"`.
    #[serde(rename = "type")]
    pub part_type: TextTag,
    /// The text.
    pub content: String,
}

/// Structured JSON data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DataPart {
    /// Always `"data"`.
    #[serde(rename = "type")]
    pub part_type: DataTag,
    /// The data object.
    pub data: JsonObject,
    /// Optional schema the data conforms to.
    #[serde(default)]
    pub schema_uri: Option<String>,
}

/// Reference to an MCP resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourcePart {
    /// Always `"resource"`.
    #[serde(rename = "type")]
    pub part_type: ResourceTag,
    /// Resource URI.
    pub resource_uri: String,
}

/// A template with `{{name}}` placeholders (no substitution is performed by the protocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplatePart {
    /// Always `"template"`.
    #[serde(rename = "type")]
    pub part_type: TemplateTag,
    /// Template text.
    pub template: String,
    /// Variables (required, may be empty).
    pub variables: JsonObject,
}

impl TextPart {
    /// A text part.
    pub fn new(content: impl Into<String>) -> Self {
        Self {
            part_type: TextTag,
            content: content.into(),
        }
    }
}

/// Any part, selected by its `type` member.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Part {
    /// `text`.
    Text(TextPart),
    /// `data`.
    Data(DataPart),
    /// `file`.
    File(FilePart),
    /// `resource`.
    Resource(ResourcePart),
    /// `template`.
    Template(TemplatePart),
}

impl Serialize for Part {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Part::Text(p) => p.serialize(serializer),
            Part::Data(p) => p.serialize(serializer),
            Part::File(p) => p.serialize(serializer),
            Part::Resource(p) => p.serialize(serializer),
            Part::Template(p) => p.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = JsonObject::deserialize(deserializer)?;
        let tag = match object.get("type") {
            None => {
                return Err(de::error(
                    "union_tag_not_found",
                    "Unable to extract tag using discriminator 'type'",
                ));
            }
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(de::error("union_tag_invalid", "Input tag is not a string"));
            }
        };
        let value = serde_json::Value::Object(object);
        let parsed = match tag.as_str() {
            "text" => from_value(value).map(Part::Text),
            "data" => from_value(value).map(Part::Data),
            "file" => from_value(value).map(Part::File),
            "resource" => from_value(value).map(Part::Resource),
            "template" => from_value(value).map(Part::Template),
            other => {
                return Err(de::error(
                    "union_tag_invalid",
                    format_args!(
                        "Input tag '{other}' found using 'type' does not match any of the expected tags: 'text', 'data', 'file', 'resource', 'template'"
                    ),
                ));
            }
        };
        parsed.map_err(|e| de::located(&e))
    }
}
