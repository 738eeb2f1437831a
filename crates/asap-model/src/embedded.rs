//! Checks of protocol values embedded in free-form payload members.
//!
//! Parts travel inside free-form objects (conventionally `TaskRequest.input.parts`), and a
//! subtask's nesting depth rides in `TaskRequest.config.depth`. A server applies these checks
//! before dispatch so a FilePart with a traversal URI or a request nested deeper than
//! [`MAX_TASK_DEPTH`] never reaches a handler.

use serde_json::Value;

use crate::entity::MAX_TASK_DEPTH;
use crate::json::JsonObject;
use crate::part::Part;
use crate::validation::{LocItem, ValidationError, from_value};

/// Deepest JSON nesting searched for embedded parts.
const MAX_SCAN_DEPTH: usize = 32;

/// Validates every object with a `type` member found in an array under a key named `parts`
/// anywhere in `payload` (as a [`Part`]: FilePart URI, MIME and base64 rules, required
/// members), and `config.depth` (an integer in 0‥=[`MAX_TASK_DEPTH`]) when present. Errors are
/// located from the payload root.
pub fn check_embedded(payload: &JsonObject) -> Result<(), ValidationError> {
    if let Some(depth) = payload.get("config").and_then(|c| c.get("depth")) {
        let ok = depth
            .as_u64()
            .is_some_and(|d| d <= u64::from(MAX_TASK_DEPTH));
        if !ok {
            return Err(ValidationError::new(
                "less_than_equal",
                format!("Task depth must be an integer between 0 and {MAX_TASK_DEPTH}"),
            )
            .prefixed(["config", "depth"]));
        }
    }
    let mut path = Vec::new();
    scan_object(payload, &mut path)
}

fn scan_object(object: &JsonObject, path: &mut Vec<LocItem>) -> Result<(), ValidationError> {
    if path.len() > MAX_SCAN_DEPTH {
        return Ok(());
    }
    for (key, value) in object {
        path.push(LocItem::Key(key.clone()));
        if key == "parts"
            && let Value::Array(items) = value
        {
            for (i, item) in items.iter().enumerate() {
                if item.get("type").is_some() {
                    from_value::<Part>(item.clone()).map_err(|e| {
                        let mut prefix = path.clone();
                        prefix.push(LocItem::Index(i));
                        e.prefixed(prefix)
                    })?;
                }
            }
        }
        scan_value(value, path)?;
        path.pop();
    }
    Ok(())
}

fn scan_value(value: &Value, path: &mut Vec<LocItem>) -> Result<(), ValidationError> {
    match value {
        Value::Object(object) => scan_object(object, path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(LocItem::Index(i));
                scan_value(item, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(v: Value) -> Result<(), ValidationError> {
        check_embedded(v.as_object().expect("object"))
    }

    #[test]
    fn file_parts_in_inputs_are_checked() {
        let ok = json!({"input": {"parts": [{"type": "file", "uri": "https://x/a.pdf", "mime_type": "application/pdf"}, "part_1"]}});
        assert!(check(ok).is_ok());
        let bad = json!({"input": {"parts": [{"type": "text", "content": "x"}, {"type": "file", "uri": "../etc/passwd", "mime_type": "text/plain"}]}});
        let e = check(bad).unwrap_err();
        assert_eq!(e.json_path(), "$.input.parts[1].uri");
        assert!(e.msg.starts_with("URI must not contain path traversal"));
        let bad = json!({"input": {"doc": {"parts": [{"type": "file", "uri": "file:///x", "mime_type": "text/plain"}]}}});
        assert_eq!(
            check(bad).unwrap_err().json_path(),
            "$.input.doc.parts[0].uri"
        );
    }

    #[test]
    fn depth_is_bounded() {
        assert!(check(json!({"config": {"depth": 10}})).is_ok());
        let e = check(json!({"config": {"depth": 11}})).unwrap_err();
        assert_eq!(e.json_path(), "$.config.depth");
        assert!(check(json!({"config": {"depth": -1}})).is_err());
        assert!(check(json!({"config": {"depth": "3"}})).is_err());
        assert!(check(json!({"config": null})).is_ok());
    }
}
