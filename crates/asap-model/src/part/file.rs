//! `file` parts and their URI, MIME type and base64 rules.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};

use super::tag::FileTag;
use crate::validation::de;

/// A binary or text file, by URI and optionally inline.
///
/// Validated on decode and by [`FilePart::validate`]: no `..` in `uri`, no `file://` URIs,
/// a `type/subtype` MIME type without parameters, and strict base64 `inline_data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FilePart {
    /// Always `"file"`.
    #[serde(rename = "type")]
    pub part_type: FileTag,
    /// File URI (`asap://`, `https://`, `data:`…).
    #[serde(deserialize_with = "de_uri")]
    pub uri: String,
    /// MIME type such as `application/pdf`.
    #[serde(deserialize_with = "de_mime")]
    pub mime_type: String,
    /// Optional base64 content.
    #[serde(default, deserialize_with = "de_inline")]
    pub inline_data: Option<String>,
}

impl FilePart {
    /// A file part referring to `uri`.
    pub fn new(uri: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self {
            part_type: FileTag,
            uri: uri.into(),
            mime_type: mime_type.into(),
            inline_data: None,
        }
    }

    /// Checks every rule, returning the first violation's message and field.
    pub fn validate(&self) -> Result<(), crate::ValidationError> {
        check_uri(&self.uri)
            .map_err(|m| crate::ValidationError::value_error(m).prefixed(["uri"]))?;
        check_mime(&self.mime_type)
            .map_err(|m| crate::ValidationError::value_error(m).prefixed(["mime_type"]))?;
        if let Some(data) = &self.inline_data {
            check_base64(data)
                .map_err(|m| crate::ValidationError::value_error(m).prefixed(["inline_data"]))?;
        }
        Ok(())
    }
}

/// FilePart `uri` rule: no `..` anywhere, no `file://` scheme (case-insensitive, trimmed).
///
/// ```
/// use asap_model::part::check_uri;
///
/// assert!(check_uri("https://example.com/a.pdf").is_ok());
/// assert!(check_uri("asap://x/../etc/passwd").is_err());
/// assert!(check_uri(" FILE:///etc/passwd").is_err());
/// ```
pub fn check_uri(uri: &str) -> Result<(), String> {
    if uri.contains("..") {
        return Err(format!("URI must not contain path traversal (..): '{uri}'"));
    }
    let trimmed = uri.trim_start();
    if trimmed.len() >= 7 && trimmed[..7].eq_ignore_ascii_case("file://") {
        return Err("file:// URIs are not allowed for security (path traversal risk)".to_owned());
    }
    Ok(())
}

/// FilePart `mime_type` rule: lower-cased value matches `^[a-z0-9-]+/[a-z0-9.+\-]+$`.
pub fn check_mime(mime: &str) -> Result<(), String> {
    let valid = mime.split_once('/').is_some_and(|(t, s)| {
        !t.is_empty()
            && !s.is_empty()
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
    });
    if valid {
        Ok(())
    } else {
        Err(format!("Invalid MIME type format: {mime}"))
    }
}

/// FilePart `inline_data` rule: strict standard base64 with padding; `""` is valid.
pub fn check_base64(data: &str) -> Result<(), String> {
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map(drop)
        .map_err(|e| {
            let reason = match e {
                base64::DecodeError::InvalidPadding | base64::DecodeError::InvalidLength(_) => {
                    "Incorrect padding".to_owned()
                }
                other => other.to_string(),
            };
            format!("inline_data must be valid base64: {reason}")
        })
}

fn de_uri<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let uri = String::deserialize(d)?;
    check_uri(&uri).map_err(de::value_error)?;
    Ok(uri)
}

fn de_mime<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let mime = String::deserialize(d)?;
    check_mime(&mime).map_err(de::value_error)?;
    Ok(mime)
}

fn de_inline<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let data = Option::<String>::deserialize(d)?;
    if let Some(data) = &data {
        check_base64(data).map_err(de::value_error)?;
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_rules() {
        assert!(check_uri("").is_ok());
        assert!(check_uri("https://x/a..b").is_err());
        assert!(check_mime("text/plain").is_ok());
        assert!(check_mime("Application/VND.ms-excel+xml").is_ok());
        assert_eq!(
            check_mime("text/plain; charset=utf-8").unwrap_err(),
            "Invalid MIME type format: text/plain; charset=utf-8"
        );
        assert!(check_base64("").is_ok());
        assert!(check_base64("SGVsbG8gV29ybGQ=").is_ok());
        assert_eq!(
            check_base64("SGVsbG8gV29ybGQ").unwrap_err(),
            "inline_data must be valid base64: Incorrect padding"
        );
        assert!(check_base64("SGVs\nbG8=").is_err());
    }
}
