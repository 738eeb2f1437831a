//! The §14.4 algorithm of `trace_view` on hand-written logs: filtering, indexing, ordering,
//! the chain and tree renderings and the reference's JSON.

use asap_observability::trace_view::{
    Shape, TraceCollector, format_ms, list_trace_ids, render_ascii, render_json, short,
};

fn collect(trace_id: &str, log: &str) -> TraceCollector {
    let mut collector = TraceCollector::new(trace_id);
    collector.push_log(log.as_bytes());
    collector
}

#[test]
fn fixture_log_gives_the_reference_outputs() {
    let dir = asap_testing::fixtures::examples_dir().join("trace");
    let log = std::fs::read(dir.join("two_hops.log.jsonl")).expect("log");
    let mut collector = TraceCollector::new("t-demo-1");
    collector.push_log(&log);
    let trace = collector.trace();
    assert_eq!(trace.shape(), Shape::Chain);
    let ascii = std::fs::read_to_string(dir.join("two_hops.expected.ascii.txt")).expect("ascii");
    let json = std::fs::read_to_string(dir.join("two_hops.expected.json")).expect("json");
    assert_eq!(render_ascii(&trace), ascii);
    assert_eq!(render_json(&trace), json);
    assert_eq!(list_trace_ids(&log), ["t-demo-1", "t-other"]);
}

#[test]
fn short_and_rounding() {
    assert_eq!(short("urn:asap:agent:echo"), "echo");
    assert_eq!(short("plain"), "plain");
    assert_eq!(short("ends:"), "");
    let ms = |text: &str| format_ms(&serde_json::from_str(text).expect("number"));
    assert_eq!(ms("15.4"), "15");
    assert_eq!(ms("22.5"), "22");
    assert_eq!(ms("23.5"), "24");
    assert_eq!(ms("-0.4"), "0");
    assert_eq!(ms("7"), "7");
}

#[test]
fn index_keeps_the_last_record_in_the_first_place_and_orders_by_timestamp() {
    let log = r#"
{"event": "asap.request.received", "trace_id": "t", "envelope_id": "b", "sender": "u:a", "recipient": "u:b", "timestamp": "2026-01-01T12:00:05Z"}
{"event": "asap.request.received", "trace_id": "t", "envelope_id": "a", "sender": "u:x", "recipient": "u:a", "timestamp": "2026-01-01T12:00:01Z"}
{"event": "asap.request.processed", "trace_id": "t", "envelope_id": "a", "duration_ms": 1.25}
{"event": "asap.request.processed", "trace_id": "t", "envelope_id": "a", "duration_ms": 3}
{"event": "asap.request.processed", "trace_id": "t", "envelope_id": "b", "duration_ms": "slow"}
{"event": "asap.request.received", "trace_id": "t", "envelope_id": "c", "sender": 5, "recipient": "u:z"}
{"event": "asap.request.received", "trace_id": "T", "envelope_id": "d", "sender": "u:q", "recipient": "u:r"}
[1, "t"]
not json t
"#;
    let trace = collect("t", log).trace();
    let pairs: Vec<(&str, &str)> = trace
        .hops
        .iter()
        .map(|h| (h.sender.as_str(), h.recipient.as_str()))
        .collect();
    assert_eq!(pairs, [("u:x", "u:a"), ("u:a", "u:b")]);
    assert_eq!(render_ascii(&trace), "x -> a (3ms) -> b (?)\n");
}

#[test]
fn missing_timestamps_sort_first_and_ties_keep_log_order() {
    let log = r#"{"event": "asap.request.received", "trace_id": "t", "envelope_id": "1", "sender": "u:b", "recipient": "u:c", "timestamp": "2026-01-01T12:00:00Z"}
{"event": "asap.request.received", "trace_id": "t", "envelope_id": "2", "sender": "u:a", "recipient": "u:b", "timestamp": "garbage"}
{"event": "asap.request.received", "trace_id": "t", "envelope_id": "3", "sender": "u:c", "recipient": "u:d", "timestamp": "2026-01-01T12:00:00Z"}"#;
    let trace = collect("t", log).trace();
    assert_eq!(render_ascii(&trace), "a -> b (?) -> c (?) -> d (?)\n");
    assert_eq!(trace.hops[0].timestamp_micros, 0);
}

#[test]
fn no_hops_renders_nothing() {
    let trace = collect("t", "").trace();
    assert!(trace.hops.is_empty());
    assert_eq!(render_ascii(&trace), "");
    assert_eq!(
        render_json(&trace),
        "{\n  \"trace_id\": \"t\",\n  \"hops\": []\n}\n"
    );
}

#[test]
fn several_roots_and_a_second_call_form_a_tree() {
    let hop = |id: &str, s: &str, r: &str, sec: u32| {
        format!(
            r#"{{"event": "asap.request.received", "trace_id": "t", "envelope_id": "{id}", "sender": "urn:asap:agent:{s}", "recipient": "urn:asap:agent:{r}", "timestamp": "2026-01-01T12:00:{sec:02}Z"}}"#
        )
    };
    let log = [
        hop("1", "a", "b", 0),
        hop("2", "b", "c", 1),
        hop("3", "b", "d", 2),
        hop("4", "x", "y", 3),
        hop("5", "a", "e", 4),
    ]
    .join("\n");
    let trace = collect("t", &log).trace();
    assert_eq!(trace.shape(), Shape::Tree);
    assert_eq!(
        render_ascii(&trace),
        "a\n|-- b (?)\n|   |-- c (?)\n|   `-- d (?)\n`-- e (?)\nx\n`-- y (?)\n"
    );
}

#[test]
fn deep_trees_stop_indenting() {
    // A long chain, then a hop from elsewhere: a tree 200 levels deep.
    let mut log = String::new();
    for i in 0..200 {
        log.push_str(&format!(
            "{{\"event\": \"asap.request.received\", \"trace_id\": \"t\", \"envelope_id\": \"{i}\", \"sender\": \"n{i}\", \"recipient\": \"n{}\", \"timestamp\": \"2026-01-01T12:00:00Z\"}}\n",
            i + 1
        ));
    }
    log.push_str("{\"event\": \"asap.request.received\", \"trace_id\": \"t\", \"envelope_id\": \"z\", \"sender\": \"other\", \"recipient\": \"n0\", \"timestamp\": \"2026-01-01T12:00:01Z\"}\n");
    let text = render_ascii(&collect("t", &log).trace());
    assert_eq!(text.lines().count(), 203);
    let widest = text.lines().map(str::len).max().unwrap_or(0);
    assert!(widest < 64 * 4 + 20, "indentation kept growing: {widest}");
}
