//! Turns serde error messages into typed [`ValidationError`]s.

use super::de::MARK;
use super::{LocItem, ValidationError};

pub(super) fn from_path_error(
    err: serde_path_to_error::Error<serde_json::Error>,
) -> ValidationError {
    let mut loc: Vec<LocItem> = Vec::new();
    for segment in err.path().iter() {
        match segment {
            serde_path_to_error::Segment::Map { key } => loc.push(LocItem::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => loc.push(LocItem::Index(*index)),
            serde_path_to_error::Segment::Enum { variant } => {
                loc.push(LocItem::Key(variant.clone()))
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let message = err.into_inner().to_string();
    let mut error = classify_message(&message);
    // An unknown member fails while its key is read, so the path already ends with it.
    if error.kind == "extra_forbidden" && loc.last() == error.loc.first() {
        error.loc.clear();
    }
    loc.append(&mut error.loc);
    error.loc = loc;
    error
}

/// Classifies one serde message; the returned location holds only what the message names.
pub(crate) fn classify_message(message: &str) -> ValidationError {
    if let Some((kind, rest)) = message
        .strip_prefix(MARK)
        .and_then(|rest| rest.split_once(MARK))
    {
        let (msg, loc) = rest.split_once(MARK).unwrap_or((rest, "[]"));
        let mut error = ValidationError::new(kind, msg);
        error.loc = parse_loc(loc);
        return error;
    }
    if let Some(field) = quoted_after(message, "missing field `") {
        return ValidationError {
            kind: "missing".into(),
            loc: vec![LocItem::Key(field)],
            msg: "Field required".into(),
        };
    }
    if let Some(field) = quoted_after(message, "unknown field `") {
        return ValidationError {
            kind: "extra_forbidden".into(),
            loc: vec![LocItem::Key(field)],
            msg: "Extra inputs are not permitted".into(),
        };
    }
    if message.starts_with("unknown variant") {
        return ValidationError::new("enum", format!("Input should be {}", expected(message)));
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let expected = expected(message);
        let kind = if expected.contains("string") || expected.contains("str") {
            "string_type"
        } else if expected.contains("map")
            || expected.contains("struct")
            || expected.contains("object")
        {
            "dict_type"
        } else if expected.contains("sequence") || expected.contains("array") {
            "list_type"
        } else if expected.contains("bool") {
            "bool_type"
        } else if expected.contains("integer")
            || expected.contains("i64")
            || expected.contains("u64")
        {
            "int_type"
        } else if expected.contains("f64") || expected.contains("number") {
            "float_type"
        } else {
            "type_error"
        };
        return ValidationError::new(kind, format!("Input should be {expected}"));
    }
    ValidationError::value_error(message)
}

fn parse_loc(loc: &str) -> Vec<LocItem> {
    let items: Vec<serde_json::Value> = serde_json::from_str(loc).unwrap_or_default();
    items
        .into_iter()
        .filter_map(|item| match item {
            serde_json::Value::String(k) => Some(LocItem::Key(k)),
            serde_json::Value::Number(n) => n.as_u64().map(|i| LocItem::Index(i as usize)),
            _ => None,
        })
        .collect()
}

fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    let end = rest.find('`')?;
    Some(rest[..end].to_owned())
}

fn expected(message: &str) -> String {
    match message.split_once("expected ") {
        Some((_, e)) => e.trim_end_matches('.').to_owned(),
        None => "valid".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_serde_messages() {
        let e = classify_message("missing field `sender`");
        assert_eq!(
            (e.kind.as_str(), e.loc.clone()),
            ("missing", vec![LocItem::Key("sender".into())])
        );
        let e = classify_message("unknown field `priority`, expected one of `id`, `sender`");
        assert_eq!(e.kind, "extra_forbidden");
        assert_eq!(e.loc, vec![LocItem::Key("priority".into())]);
        assert_eq!(
            classify_message("invalid type: integer `5`, expected a string").kind,
            "string_type"
        );
        assert_eq!(
            classify_message("invalid type: sequence, expected a map").kind,
            "dict_type"
        );
        assert_eq!(
            classify_message("unknown variant `done`, expected one of `a`").kind,
            "enum"
        );
        let custom = format!("{MARK}too_short{MARK}List should have at least 1 item");
        let e = classify_message(&custom);
        assert_eq!(
            (e.kind.as_str(), e.msg.as_str()),
            ("too_short", "List should have at least 1 item")
        );
    }
}
