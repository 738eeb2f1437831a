//! The JSON API: listing the traces of a log, one trace's hops and diagram, and the log
//! the viewer was started with.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};

use super::reply::{self, Refusal};
use super::{MAX_LOG_CHARS, Settings};
use crate::trace_view::{Trace, TraceCollector, list_trace_ids, render_ascii};

/// Room in a request body for its members' names and the trace id, besides the log.
const BODY_MARGIN: usize = 64 * 1024;

/// `POST /api/traces/list`.
pub(super) fn list(body: &[u8]) -> Response<Full<Bytes>> {
    let [log] = match members(body, ["log_lines"]).and_then(check_length) {
        Ok(members) => members,
        Err(refusal) => return refusal.into_response(),
    };
    let ids = list_trace_ids(log.as_bytes());
    reply::json(StatusCode::OK, &json!({ "trace_ids": ids }))
}

/// `POST /api/traces/visualize`.
pub(super) fn visualize(body: &[u8]) -> Response<Full<Bytes>> {
    let [log, trace_id] = match members(body, ["log_lines", "trace_id"]).and_then(check_length) {
        Ok(members) => members,
        Err(refusal) => return refusal.into_response(),
    };
    let mut collector = TraceCollector::new(trace_id.trim());
    collector.push_log(log.as_bytes());
    let trace = collector.trace();
    if trace.hops.is_empty() {
        return reply::detail(
            StatusCode::NOT_FOUND,
            &format!("No trace found for: {trace_id}"),
        );
    }
    let diagram = render_ascii(&trace);
    let answer = json!({
        "trace_id": trace_id,
        "hops": hops(&trace),
        "diagram": diagram.trim_end_matches('\n'),
    });
    reply::json(StatusCode::OK, &answer)
}

/// `GET /api/log`.
pub(super) fn preload(settings: &Settings) -> Value {
    json!({ "log_lines": settings.log, "trace_id": settings.trace_id })
}

/// The hops of `trace` as the API gives them: the members of `asap trace -o json`, then
/// `started_at` and `offset_ms`.
fn hops(trace: &Trace) -> Vec<Value> {
    // A timestamp that is missing or does not parse is read as 0, the Unix epoch itself.
    let known = |micros: i64| (micros != 0).then_some(micros);
    let first = trace
        .hops
        .iter()
        .filter_map(|hop| known(hop.timestamp_micros))
        .min();
    trace
        .hops
        .iter()
        .map(|hop| {
            let at = known(hop.timestamp_micros);
            json!({
                "sender": hop.sender,
                "recipient": hop.recipient,
                "duration_ms": hop.duration_ms.clone().map(Value::Number),
                "started_at": at.and_then(rfc3339),
                "offset_ms": at.zip(first).map(|(at, first)| (at - first) as f64 / 1000.0),
            })
        })
        .collect()
}

/// Microseconds since the Unix epoch as `2026-01-01T12:00:00.000000Z`.
fn rfc3339(micros: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// The members, or 413 when the first, `log_lines`, is longer than [`MAX_LOG_CHARS`]
/// characters.
fn check_length<const N: usize>(members: [String; N]) -> Result<[String; N], Refusal> {
    let log = members.first().map_or("", String::as_str);
    // A string is never longer in characters than in bytes: most logs need no count.
    if log.len() > MAX_LOG_CHARS && log.chars().count() > MAX_LOG_CHARS {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Log lines payload too large (max {MAX_LOG_CHARS} characters)"),
        ));
    }
    Ok(members)
}

/// The string members `names` of the JSON object `body`, or 422 with a `detail` list of
/// what is wrong: `{"type", "loc", "msg"}` for each problem, `loc` being `["body"]` or
/// `["body", <member>]`.
fn members<const N: usize>(body: &[u8], names: [&'static str; N]) -> Result<[String; N], Refusal> {
    let invalid = |errors: Vec<Value>| Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, errors);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid(vec![problem("missing", None, "Field required")]));
    }
    let mut object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        Ok(_) => {
            return Err(invalid(vec![problem(
                "model_attributes_type",
                None,
                "Input should be a valid dictionary or object to extract fields from",
            )]));
        }
        Err(error) => {
            let mut error_json = problem("json_invalid", None, "JSON decode error");
            error_json["ctx"] = json!({ "error": error.to_string() });
            return Err(invalid(vec![error_json]));
        }
    };
    let mut errors = Vec::new();
    let values = names.map(|name| match object.get_mut(name).map(Value::take) {
        Some(Value::String(text)) => text,
        Some(_) => {
            errors.push(problem(
                "string_type",
                Some(name),
                "Input should be a valid string",
            ));
            String::new()
        }
        None => {
            errors.push(problem("missing", Some(name), "Field required"));
            String::new()
        }
    });
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(invalid(errors))
    }
}

fn problem(kind: &str, member: Option<&str>, message: &str) -> Value {
    let loc = match member {
        Some(member) => json!(["body", member]),
        None => json!(["body"]),
    };
    json!({ "type": kind, "loc": loc, "msg": message })
}

/// The size of the largest body the page sends with `log` (`log_lines` JSON-escaped, as
/// the browser's `JSON.stringify` escapes it, plus room for the rest).
pub(super) fn body_size_for(log: &str) -> usize {
    let escaped: usize = log
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            '\0'..='\u{1f}' => 6,
            _ => c.len_utf8(),
        })
        .sum();
    escaped.saturating_add(BODY_MARGIN)
}
