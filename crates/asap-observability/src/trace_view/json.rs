//! The `-o json` rendering of PROTOCOL §14.4, in the reference's exact text.
//!
//! The reference prints with Python's `json.dumps(value, indent=2)`: two-space indentation,
//! `", "` never at line ends, `": "` after keys, every character outside printable ASCII
//! escaped as `\uXXXX`, and floats as Python's `repr` writes them (`15.4`, `100.0`,
//! `1e+16`, `1.5e-05`). serde_json's pretty printer differs on the last two points, so the
//! text is written here.

use std::fmt::Write as _;

use serde_json::{Number, Value, json};

use super::Trace;

/// The JSON document `{"trace_id", "hops": [{"sender", "recipient", "duration_ms"}]}`,
/// pretty-printed as the reference prints it, ending with a newline.
pub fn render_json(trace: &Trace) -> String {
    let hops: Vec<Value> = trace
        .hops
        .iter()
        .map(|hop| {
            json!({
                "sender": hop.sender,
                "recipient": hop.recipient,
                "duration_ms": hop.duration_ms.clone().map(Value::Number),
            })
        })
        .collect();
    let mut text = to_python_json(&json!({"trace_id": trace.trace_id, "hops": hops}));
    text.push('\n');
    text
}

/// `value` as Python's `json.dumps(value, indent=2)` writes it (no trailing newline).
pub fn to_python_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out
}

fn write_value(out: &mut String, value: &Value, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(out, depth + 1);
                write_value(out, item, depth + 1);
            }
            out.push('\n');
            indent(out, depth);
            out.push(']');
        }
        Value::Object(members) if members.is_empty() => out.push_str("{}"),
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(out, depth + 1);
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item, depth + 1);
            }
            out.push('\n');
            indent(out, depth);
            out.push('}');
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// A string with `ensure_ascii` escaping: `\"`, `\\`, the five short control escapes, and
/// `\uXXXX` (lowercase hex, surrogate pairs above U+FFFF) for everything else outside
/// U+0020..U+007E.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Integers as they are; floats as Python's `repr`: the shortest digits that read back to
/// the same value, positional with at least one decimal from 1e-4 up to 1e16, scientific
/// (`1e+16`, `1.5e-05`) outside.
fn write_number(out: &mut String, number: &Number) {
    if !number.is_f64() {
        let _ = write!(out, "{number}");
        return;
    }
    let value = number.as_f64().unwrap_or(0.0);
    // `{:e}` gives the shortest round-trip digits: "1.54e1", "-5e-1".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    out.push_str(sign);
    if (-4..16).contains(&exponent) {
        // Positional: the decimal point goes `exponent + 1` digits into `digits`.
        let point = exponent + 1;
        if point <= 0 {
            out.push_str("0.");
            out.push_str(&"0".repeat(point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if digits.len() > point {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            } else {
                out.push_str(&digits);
                out.push_str(&"0".repeat(point - digits.len()));
                out.push_str(".0");
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.unsigned_abs()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(text: &str) -> String {
        let value: Value = serde_json::from_str(text).expect("a number");
        to_python_json(&value)
    }

    /// Expected texts are Python 3's `repr` of the same floats.
    #[test]
    fn floats_as_python_repr() {
        assert_eq!(float("15.4"), "15.4");
        assert_eq!(float("6.08"), "6.08");
        assert_eq!(float("15.0"), "15.0");
        assert_eq!(float("1E2"), "100.0");
        assert_eq!(float("0.0001"), "0.0001");
        assert_eq!(float("0.00001"), "1e-05");
        assert_eq!(float("0.000015"), "1.5e-05");
        assert_eq!(float("1e16"), "1e+16");
        assert_eq!(float("1234567890123456.0"), "1234567890123456.0");
        assert_eq!(float("1.5e300"), "1.5e+300");
        assert_eq!(float("-0.5"), "-0.5");
        assert_eq!(float("-0.0"), "-0.0");
        assert_eq!(float("0.1"), "0.1");
        assert_eq!(float("15"), "15");
        assert_eq!(float("-3"), "-3");
    }

    #[test]
    fn strings_are_ascii_escaped() {
        let value = json!({"k": "a\"\\\n\u{7f}é😀\u{1}"});
        assert_eq!(
            to_python_json(&value),
            "{\n  \"k\": \"a\\\"\\\\\\n\\u007f\\u00e9\\ud83d\\ude00\\u0001\"\n}"
        );
    }

    #[test]
    fn empty_containers_stay_on_one_line() {
        assert_eq!(
            to_python_json(&json!({"a": [], "b": {}})),
            "{\n  \"a\": [],\n  \"b\": {}\n}"
        );
    }
}
