//! `asap serve` serves its metrics at `GET /asap/metrics` (PROTOCOL §14.1), idempotency
//! counters and task transitions included, unless started with `--no-metrics`.

mod durable_support;

use asap_testing::prometheus::sample;
use durable_support::{Serve, get_text, post, submit_body, wait_for};
use serde_json::{Value, json};

fn echo_body(key: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "asap.send",
        "id": "req-1",
        "params": {
            "idempotency_key": key,
            "envelope": {
                "asap_version": "0.1",
                "sender": "urn:asap:agent:client",
                "recipient": "urn:asap:agent:default-server",
                "payload_type": "task.request",
                "payload": {
                    "conversation_id": "conv_metrics",
                    "skill_id": "echo",
                    "input": {"text": "hi"},
                },
            },
        },
    })
}

/// A keyed request sent twice: two successes, one handler run, one replay.
#[test]
fn a_replayed_request_counts_as_a_success_without_a_handler_run() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start(data.path());
    let first = post(&server.addr, &echo_body("metrics-1"));
    let second = post(&server.addr, &echo_body("metrics-1"));
    // The replay is the stored response (each reply gets its request's trace ids).
    assert_eq!(
        first["result"]["envelope"]["id"],
        second["result"]["envelope"]["id"]
    );

    let (status, text) = get_text(&server.addr, "/asap/metrics");
    assert_eq!(status, 200, "{text}");
    let expect = [
        (
            r#"asap_requests_total{payload_type="task.request",status="success"}"#,
            2.0,
        ),
        (
            r#"asap_handler_executions_total{payload_type="task.request"}"#,
            1.0,
        ),
        (
            r#"asap_idempotent_replays_total{payload_type="task.request"}"#,
            1.0,
        ),
        ("asap_idempotency_runs_total", 1.0),
        ("asap_idempotency_replays_total", 1.0),
        ("asap_idempotency_mismatches_total", 0.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    server.kill();
}

#[test]
fn no_metrics_leaves_the_path_unserved() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start_with(data.path(), &["--rate-limit", "off", "--no-metrics"]);
    let (status, _) = get_text(&server.addr, "/asap/metrics");
    assert_eq!(status, 404);
    server.kill();
}

/// A long-running task counts its two stored transitions.
#[test]
fn a_long_running_task_counts_its_transitions() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start(data.path());
    let reply = post(&server.addr, &submit_body("metrics-task", 2, 1));
    assert!(reply["result"].is_object(), "{reply}");
    let series = |from: &str, to: &str| {
        format!(r#"asap_state_transitions_total{{from_status="{from}",to_status="{to}"}}"#)
    };
    wait_for("the task completes", || {
        let (_, text) = get_text(&server.addr, "/asap/metrics");
        sample(&text, &series("working", "completed")) == Some(1.0)
    });
    let (_, text) = get_text(&server.addr, "/asap/metrics");
    assert_eq!(
        sample(&text, &series("submitted", "working")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, &series("working", "failed")), None, "{text}");
    // Every store call of the task is timed: its creation, both transitions, and the
    // checkpoints (one snapshot per step, the first with the task).
    let calls = |store: &str, operation: &str| {
        sample(
            &text,
            &format!(
                r#"asap_state_store_duration_seconds_count{{operation="{operation}",store="{store}"}}"#
            ),
        )
    };
    assert_eq!(calls("tasks", "create"), Some(1.0), "{text}");
    assert_eq!(calls("tasks", "transition"), Some(2.0), "{text}");
    assert!(
        calls("snapshots", "save").is_some_and(|n| n >= 2.0),
        "{text}"
    );
    assert!(
        calls("idempotency", "begin").is_some_and(|n| n >= 1.0),
        "{text}"
    );
    // The task store is counted every few seconds: the task ends up among the completed.
    wait_for("the completed task is counted", || {
        let (_, text) = get_text(&server.addr, "/asap/metrics");
        sample(&text, r#"asap_tasks{status="completed"}"#) == Some(1.0)
            && sample(&text, r#"asap_tasks{status="working"}"#) == Some(0.0)
    });
    server.kill();
}
