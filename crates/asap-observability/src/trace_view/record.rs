//! Reading log records: the filter and index steps of PROTOCOL §14.4.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::{Hop, Trace};

/// The event of a record written when a server receives an envelope.
const RECEIVED: &str = "asap.request.received";
/// The event of a record written when a server has answered an envelope.
const PROCESSED: &str = "asap.request.processed";

/// Splits a log into lines, the way the reference reads a text file: a line ends at `\n`,
/// `\r\n` or a lone `\r`. Bytes that are not UTF-8 are replaced (U+FFFD) within their line
/// only, so one damaged line cannot hide the others.
pub fn lines(log: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    log.split(|&b| b == b'\n' || b == b'\r')
        .map(String::from_utf8_lossy)
}

/// Records of one kind, indexed by `envelope_id`: a later record of an id replaces the
/// earlier one but keeps its place (the reference's dictionary does the same).
#[derive(Debug, Default, Clone)]
struct Index {
    records: Vec<Map<String, Value>>,
    position: HashMap<String, usize>,
}

impl Index {
    fn insert(&mut self, record: Map<String, Value>) {
        let key = envelope_key(&record);
        match self.position.get(&key) {
            Some(&at) => self.records[at] = record,
            None => {
                self.position.insert(key, self.records.len());
                self.records.push(record);
            }
        }
    }

    fn get(&self, record: &Map<String, Value>) -> Option<&Map<String, Value>> {
        self.position
            .get(&envelope_key(record))
            .map(|&at| &self.records[at])
    }
}

/// The index key of a record: its `envelope_id` as JSON text, so that a string id and a
/// numeric one never collide; a missing id and `null` share the key `null`, as they do in
/// the reference.
fn envelope_key(record: &Map<String, Value>) -> String {
    record
        .get("envelope_id")
        .map_or_else(|| "null".to_owned(), Value::to_string)
}

/// Builds one trace from log lines, a line at a time (so a growing log can be followed).
///
/// Only the records of the trace are kept, so memory grows with the trace, not the log.
#[derive(Debug, Clone)]
pub struct TraceCollector {
    trace_id: String,
    received: Index,
    processed: Index,
}

impl TraceCollector {
    /// A collector for the trace `trace_id` (compared exactly, case and spaces included).
    pub fn new(trace_id: impl Into<String>) -> Self {
        Self {
            trace_id: trace_id.into(),
            received: Index::default(),
            processed: Index::default(),
        }
    }

    /// The trace id this collector keeps.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// Reads one log line. Returns whether the line was a received or processed record of
    /// the trace (and so may change [`trace`](Self::trace)); any other line, JSON or not,
    /// is skipped.
    pub fn push_line(&mut self, line: &str) -> bool {
        // The substring test first: most lines of a busy log belong to other traces and
        // are never parsed.
        if !line.contains(self.trace_id.as_str()) {
            return false;
        }
        let Ok(Value::Object(record)) = serde_json::from_str::<Value>(line) else {
            return false;
        };
        if record.get("trace_id").and_then(Value::as_str) != Some(self.trace_id.as_str()) {
            return false;
        }
        match record.get("event").and_then(Value::as_str) {
            Some(RECEIVED) => self.received.insert(record),
            Some(PROCESSED) => self.processed.insert(record),
            _ => return false,
        }
        true
    }

    /// Reads every line of `log` (see [`lines`]).
    pub fn push_log(&mut self, log: &[u8]) {
        for line in lines(log) {
            self.push_line(&line);
        }
    }

    /// The hops read so far, in order.
    pub fn trace(&self) -> Trace {
        let mut hops: Vec<Hop> = self
            .received
            .records
            .iter()
            .filter_map(|received| {
                let sender = received.get("sender")?.as_str()?;
                let recipient = received.get("recipient")?.as_str()?;
                let duration_ms = self
                    .processed
                    .get(received)
                    .and_then(|processed| processed.get("duration_ms"))
                    .and_then(|d| match d {
                        Value::Number(n) => Some(n.clone()),
                        _ => None,
                    });
                let timestamp = received
                    .get("timestamp")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let timestamp_micros = timestamp.as_deref().and_then(parse_micros).unwrap_or(0);
                Some(Hop {
                    sender: sender.to_owned(),
                    recipient: recipient.to_owned(),
                    duration_ms,
                    timestamp,
                    timestamp_micros,
                })
            })
            .collect();
        // `sort_by_key` is stable: hops logged at the same instant keep the log's order.
        hops.sort_by_key(|hop| hop.timestamp_micros);
        Trace {
            trace_id: self.trace_id.clone(),
            hops,
        }
    }
}

/// Microseconds since the Unix epoch of an ISO 8601 timestamp: with an offset or `Z`
/// (RFC 3339, `T` or a space between date and time), or without one, taken as UTC; a bare
/// date is its midnight. `None` for anything else.
fn parse_micros(text: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};

    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp_micros());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc().timestamp_micros())
}

/// The trace ids of a log, sorted and unique: the string `trace_id`, when not empty, of
/// every received or processed record (what the web viewer offers to pick from).
pub fn list_trace_ids(log: &[u8]) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for line in lines(log) {
        if !line.contains("asap.request.") {
            continue;
        }
        let Ok(Value::Object(record)) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let event = record.get("event").and_then(Value::as_str);
        if !matches!(event, Some(RECEIVED | PROCESSED)) {
            continue;
        }
        if let Some(Value::String(id)) = record.get("trace_id")
            && !id.is_empty()
        {
            ids.insert(id.clone());
        }
    }
    ids.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_offsets() {
        let z = parse_micros("2026-01-01T12:00:00.015400Z");
        assert_eq!(z, Some(1_767_268_800_015_400));
        assert_eq!(parse_micros("2026-01-01T13:00:00.015400+01:00"), z);
        assert_eq!(parse_micros("2026-01-01 12:00:00.0154"), z);
        assert_eq!(parse_micros("2026-01-01"), Some(1_767_225_600_000_000));
        assert_eq!(parse_micros("yesterday"), None);
        assert_eq!(parse_micros(""), None);
    }

    #[test]
    fn lines_split_on_every_newline_kind() {
        let all: Vec<_> = lines(b"a\r\nb\rc\n\xffd").collect();
        assert_eq!(all, ["a", "", "b", "c", "\u{fffd}d"]);
    }
}
