//! Validation errors with the location of the offending value.
//!
//! Every decode and validation failure in this crate is reported as a [`ValidationError`]: a
//! pydantic-compatible error `type` (`missing`, `extra_forbidden`, `string_type`,
//! `value_error`, …), the location `loc` of the value inside the document, and a message.
//! The server serializes it into `data.validation_errors` of a `-32602` reply.

mod classify;
pub(crate) mod de;
mod map_only;

pub use map_only::{MapOnly, map_only};
pub(crate) use map_only::{option_map_only, vec_map_only};

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

/// One element of a [`ValidationError`] location: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocItem {
    /// Object member name.
    Key(String),
    /// Array index.
    Index(usize),
}

impl Serialize for LocItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            LocItem::Key(k) => serializer.serialize_str(k),
            LocItem::Index(i) => serializer.serialize_u64(*i as u64),
        }
    }
}

impl From<&str> for LocItem {
    fn from(key: &str) -> Self {
        LocItem::Key(key.to_owned())
    }
}

impl From<usize> for LocItem {
    fn from(index: usize) -> Self {
        LocItem::Index(index)
    }
}

/// A validation failure: what is wrong (`type`), where (`loc`) and a human message (`msg`).
///
/// Serializes as `{"type": …, "loc": […], "msg": …}`, the shape the reference uses in
/// `validation_errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    /// Error kind, e.g. `missing`, `extra_forbidden`, `string_type`, `value_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Path of the offending value from the document root.
    pub loc: Vec<LocItem>,
    /// Human-readable message.
    pub msg: String,
}

impl ValidationError {
    /// Creates an error of `kind` at the document root.
    pub fn new(kind: impl Into<String>, msg: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            loc: Vec::new(),
            msg: msg.into(),
        }
    }

    /// Creates a `value_error` at the document root.
    pub fn value_error(msg: impl Into<String>) -> Self {
        Self::new("value_error", msg)
    }

    /// Returns the error with `prefix` prepended to its location.
    #[must_use]
    pub fn prefixed<I: Into<LocItem>>(mut self, prefix: impl IntoIterator<Item = I>) -> Self {
        let mut loc: Vec<LocItem> = prefix.into_iter().map(Into::into).collect();
        loc.append(&mut self.loc);
        self.loc = loc;
        self
    }

    /// The location as a JSON path, e.g. `$.payload.parts[0]`.
    pub fn json_path(&self) -> String {
        let mut out = String::from("$");
        for item in &self.loc {
            match item {
                LocItem::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                LocItem::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.json_path(), self.msg, self.kind)
    }
}

impl std::error::Error for ValidationError {}

/// Decodes `T` from a JSON object, reporting the first failure as a located [`ValidationError`].
///
/// This is the precise (slower) decoder used to explain a failure; hot paths deserialize
/// directly and fall back to it only when they fail.
///
/// ```
/// use asap_model::payload::TaskRequest;
/// use asap_model::validation::from_value;
///
/// let err = from_value::<TaskRequest>(serde_json::json!({"conversation_id": "c", "input": {}}))
///     .unwrap_err();
/// assert_eq!(err.kind, "missing");
/// assert_eq!(err.json_path(), "$.skill_id");
/// ```
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ValidationError> {
    if !value.is_object() {
        return Err(ValidationError::new(
            "dict_type",
            "Input should be a valid dictionary",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(classify::from_path_error)
}

/// Decodes `T` from JSON text; syntax errors are reported as `json_invalid`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ValidationError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ValidationError::new("json_invalid", format!("Invalid JSON: {e}")))?;
    from_value(value)
}
