//! Parse-error messages in the reference's wording.
//!
//! The reference reports invalid JSON with Python's `json` messages, e.g.
//! `Expecting value: line 1 column 30 (char 29)`. serde_json detects the same failures; this
//! module rephrases its errors and converts its positions (1-based byte column of the last
//! byte read) to Python's (1-based column of the offending character, 0-based char index).

/// Describes a serde_json syntax error the way the reference does.
///
/// ```
/// use asap_codec::rpc::describe_json_error;
///
/// let text = r#"{"jsonrpc": "2.0", "method": "#;
/// let err = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
/// assert_eq!(describe_json_error(text, &err), "Expecting value: line 1 column 30 (char 29)");
/// ```
pub fn describe_json_error(text: &str, error: &serde_json::Error) -> String {
    let full = error.to_string();
    let reason = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(reason, _)| reason);
    let phrase = match reason {
        "EOF while parsing a value" | "expected value" => "Expecting value",
        "EOF while parsing a string" => "Unterminated string starting at",
        "EOF while parsing an object" | "EOF while parsing a list" => "Expecting ',' delimiter",
        "key must be a string" => "Expecting property name enclosed in double quotes",
        "expected `:`" => "Expecting ':' delimiter",
        "expected `,` or `}`" | "expected `,` or `]`" => "Expecting ',' delimiter",
        "trailing characters" | "trailing comma" => "Extra data",
        "invalid escape" => "Invalid \\escape",
        r if r.starts_with("control character") => "Invalid control character at",
        other => other,
    };
    let line = error.line().max(1);
    let eof = error.classify() == serde_json::error::Category::Eof;
    let byte_column = error.column() + usize::from(eof);
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let line_text = text.get(line_start..).unwrap_or_default();
    let column_bytes = byte_column.saturating_sub(1).min(line_text.len());
    let column_chars = line_text
        .get(..column_bytes)
        .map_or(column_bytes, |s| s.chars().count());
    let char_index = text.get(..line_start).map_or(0, |s| s.chars().count()) + column_chars;
    format!(
        "{phrase}: line {line} column {} (char {char_index})",
        column_chars + 1
    )
}

#[cfg(test)]
mod tests {
    use super::describe_json_error;

    fn describe(text: &str) -> String {
        let err = serde_json::from_str::<serde_json::Value>(text).expect_err(text);
        describe_json_error(text, &err)
    }

    #[test]
    fn matches_python_messages() {
        assert_eq!(describe(""), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(
            describe("{\"a\": }"),
            "Expecting value: line 1 column 7 (char 6)"
        );
        assert_eq!(
            describe("{\"a\": 1} x"),
            "Extra data: line 1 column 10 (char 9)"
        );
        assert_eq!(
            describe("{\n  \"a\" 1}"),
            "Expecting ':' delimiter: line 2 column 7 (char 8)"
        );
    }
}
