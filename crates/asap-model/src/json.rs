//! Free-form JSON values carried inside ASAP messages.

/// A free-form JSON object (`payload`, `extensions`, `input`, `config`, `result`, …).
///
/// Key order is preserved, so a document is re-encoded with its keys in the order they were
/// received.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// Python type name of a JSON value, as the reference reports it (`received_type`).
pub fn python_type_name(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}
