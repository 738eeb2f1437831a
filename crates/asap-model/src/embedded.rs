//! Checks of protocol values embedded in free-form payload members.
//!
//! Parts travel inside free-form objects (conventionally `TaskRequest.input.parts`), and a
//! subtask's nesting depth rides in `TaskRequest.config.depth`. A server applies these checks
//! before dispatch so a FilePart with a traversal URI or a request nested deeper than
//! [`MAX_TASK_DEPTH`] never reaches a handler.
//!
//! The walk borrows everything it visits: the location of a value is a chain of borrowed
//! steps on the stack, turned into a [`ValidationError`] location only when a check fails,
//! and a part is first checked without copying it. On a typed payload only the free-form
//! members are walked: every other member is an id, a string, a number or an enum, where no
//! part can hide.

use serde::Deserialize;
use serde_json::Value;

use crate::entity::MAX_TASK_DEPTH;
use crate::json::JsonObject;
use crate::part::{DataPart, FilePart, Part, ResourcePart, TemplatePart, TextPart};
use crate::payload::Payload;
use crate::validation::{LocItem, ValidationError, from_value};

/// Deepest JSON nesting searched for embedded parts.
const MAX_SCAN_DEPTH: usize = 32;

/// Validates every object with a `type` member found in an array under a key named `parts`
/// anywhere in `payload` (as a [`Part`]: FilePart URI, MIME and base64 rules, required
/// members), and `config.depth` (an integer in 0‥=[`MAX_TASK_DEPTH`]) when present. Errors are
/// located from the payload root; the first one in document order is reported.
pub fn check_embedded(payload: &JsonObject) -> Result<(), ValidationError> {
    check_depth(payload.get("config").and_then(|c| c.get("depth")))?;
    scan_object(payload, &Path::ROOT)
}

/// [`check_embedded`] on a payload, typed or raw. A typed payload is checked member by
/// member in field order (its encoding order), walking only its free-form members; the
/// outcome is the one `check_embedded` gives on the object it was decoded from.
///
/// ```
/// use asap_model::embedded::check_payload;
/// use asap_model::{PayloadKind, payload::TaskRequest};
///
/// let object = serde_json::json!({
///     "conversation_id": "c1", "skill_id": "summarize",
///     "input": {"parts": [{"type": "file", "uri": "file:///etc/passwd", "mime_type": "text/plain"}]},
/// });
/// let typed = PayloadKind::TaskRequest.parse(object.as_object().unwrap().clone()).unwrap();
/// let err = check_payload(&typed).unwrap_err();
/// assert_eq!(err.json_path(), "$.input.parts[0].uri");
/// ```
pub fn check_payload(payload: &Payload) -> Result<(), ValidationError> {
    let members: [(&str, Option<&JsonObject>); 3] = match payload {
        Payload::Raw(object) => return check_embedded(object),
        Payload::TaskRequest(p) => {
            check_depth(p.config.as_ref().and_then(|c| c.get("depth")))?;
            [
                ("input", Some(&p.input)),
                ("config", p.config.as_ref()),
                ("", None),
            ]
        }
        Payload::TaskResponse(p) => [
            ("result", p.result.as_ref()),
            ("final_state", p.final_state.as_ref()),
            ("metrics", p.metrics.as_ref()),
        ],
        Payload::TaskUpdate(p) => [
            ("progress", p.progress.as_ref()),
            ("input_request", p.input_request.as_ref()),
            ("", None),
        ],
        Payload::McpToolCall(p) => [
            ("arguments", Some(&p.arguments)),
            ("mcp_context", p.mcp_context.as_ref()),
            ("", None),
        ],
        Payload::McpToolResult(p) => [("result", p.result.as_ref()), ("", None), ("", None)],
        Payload::McpResourceData(p) => [("content", Some(&p.content)), ("", None), ("", None)],
        // Ids, strings, numbers and enums only (`MessageSend.parts` holds part ids).
        Payload::TaskCancel(_)
        | Payload::MessageSend(_)
        | Payload::StateQuery(_)
        | Payload::StateRestore(_)
        | Payload::ArtifactNotify(_)
        | Payload::McpResourceFetch(_) => return Ok(()),
    };
    for (name, object) in members {
        if let Some(object) = object {
            scan_object(object, &Path::ROOT.key(name))?;
        }
    }
    Ok(())
}

/// `config.depth`, when present: an integer in 0‥=[`MAX_TASK_DEPTH`].
fn check_depth(depth: Option<&Value>) -> Result<(), ValidationError> {
    match depth {
        Some(d) if d.as_u64().is_none_or(|d| d > u64::from(MAX_TASK_DEPTH)) => {
            Err(ValidationError::new(
                "less_than_equal",
                format!("Task depth must be an integer between 0 and {MAX_TASK_DEPTH}"),
            )
            .prefixed(["config", "depth"]))
        }
        _ => Ok(()),
    }
}

/// The location of the value being checked: borrowed steps chained on the stack.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
    /// Number of steps from the root.
    len: usize,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        parent: None,
        step: Step::Root,
        len: 0,
    };

    fn key(&'a self, key: &'a str) -> Path<'a> {
        self.child(Step::Key(key))
    }

    fn index(&'a self, index: usize) -> Path<'a> {
        self.child(Step::Index(index))
    }

    fn child(&'a self, step: Step<'a>) -> Path<'a> {
        Path {
            parent: Some(self),
            step,
            len: self.len + 1,
        }
    }

    /// The location, root first.
    fn loc(&self) -> Vec<LocItem> {
        let mut loc = Vec::with_capacity(self.len);
        let mut at = Some(self);
        while let Some(path) = at {
            match path.step {
                Step::Root => {}
                Step::Key(key) => loc.push(LocItem::Key(key.to_owned())),
                Step::Index(index) => loc.push(LocItem::Index(index)),
            }
            at = path.parent;
        }
        loc.reverse();
        loc
    }
}

fn scan_object(object: &JsonObject, path: &Path<'_>) -> Result<(), ValidationError> {
    if path.len > MAX_SCAN_DEPTH {
        return Ok(());
    }
    for (key, value) in object {
        let here = path.key(key);
        if key == "parts"
            && let Value::Array(items) = value
        {
            for (i, item) in items.iter().enumerate() {
                if item.get("type").is_some() {
                    check_part(item, &here.index(i))?;
                }
            }
        }
        scan_value(value, &here)?;
    }
    Ok(())
}

fn scan_value(value: &Value, path: &Path<'_>) -> Result<(), ValidationError> {
    match value {
        Value::Object(object) => scan_object(object, path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                scan_value(item, &path.index(i))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Validates `item` as a [`Part`]: first borrowed, and only when that fails again through
/// [`from_value`], whose error (located under `path`) is the one reported.
fn check_part(item: &Value, path: &Path<'_>) -> Result<(), ValidationError> {
    if is_valid_part(item) {
        return Ok(());
    }
    match from_value::<Part>(item.clone()) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.prefixed(path.loc())),
    }
}

/// Whether `item` decodes as a [`Part`], read in place: the part struct its `type` names,
/// deserialized from the borrowed value (keys are never copied).
fn is_valid_part(item: &Value) -> bool {
    match item.get("type").and_then(Value::as_str) {
        Some("text") => TextPart::deserialize(item).is_ok(),
        Some("data") => DataPart::deserialize(item).is_ok(),
        Some("file") => FilePart::deserialize(item).is_ok(),
        Some("resource") => ResourcePart::deserialize(item).is_ok(),
        Some("template") => TemplatePart::deserialize(item).is_ok(),
        _ => false,
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
