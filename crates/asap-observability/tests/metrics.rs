//! `Metrics` as an observer: what each event counts, the exposition in both formats with
//! cumulative buckets (the reference's I-13 fixed), and `promtool check metrics` on it when
//! promtool is installed (CI installs it; a missing promtool fails under `CI=true`).

use std::time::Duration;

use asap_observability::metrics::{Format, Metrics};
use asap_observability::observe::{ErrorType, HandlerEvent, Observer, Outcome, ResponseEvent};
use asap_testing::prometheus::sample;

fn observed() -> Metrics {
    let metrics = Metrics::new();
    let ms = Duration::from_millis;
    for duration in [ms(1), ms(3), ms(7), ms(30), ms(600), ms(20_000)] {
        metrics.on_response(&ResponseEvent::new(
            "task.request",
            Outcome::Success,
            duration,
        ));
        metrics.on_handler(&HandlerEvent::new("task.request", true, duration));
    }
    metrics.on_handler(&HandlerEvent::new("task.request", false, ms(2)));
    let errors = [
        ("task.request", ErrorType::InternalError),
        ("task.request", ErrorType::InvalidTimestamp),
        ("other", ErrorType::ParseError),
        ("other", ErrorType::AuthFailed),
        ("other", ErrorType::AuthFailed),
        ("other", ErrorType::InvalidEnvelope),
        ("task.request", ErrorType::InvalidNonce),
        ("task.request", ErrorType::SenderMismatch),
        ("task.request", ErrorType::ThreadPoolExhausted),
        ("other", ErrorType::RateLimited),
    ];
    for (payload_type, kind) in errors {
        metrics.on_response(&ResponseEvent::new(
            payload_type,
            Outcome::Error(kind),
            ms(4),
        ));
    }
    metrics.state_transition("submitted", "working");
    metrics
}

#[test]
fn events_are_counted_under_the_names_of_the_protocol() {
    let text = observed().encode(Format::Prometheus);
    let expect = [
        (
            "asap_requests_total{payload_type=\"task.request\",status=\"success\"}",
            6.0,
        ),
        (
            "asap_requests_total{payload_type=\"task.request\",status=\"error\"}",
            5.0,
        ),
        (
            "asap_requests_total{payload_type=\"other\",status=\"error\"}",
            5.0,
        ),
        (
            "asap_requests_success_total{payload_type=\"task.request\"}",
            6.0,
        ),
        (
            "asap_requests_error_total{error_type=\"auth_failed\",payload_type=\"other\"}",
            2.0,
        ),
        (
            "asap_handler_executions_total{payload_type=\"task.request\"}",
            7.0,
        ),
        (
            "asap_handler_errors_total{payload_type=\"task.request\"}",
            1.0,
        ),
        ("asap_parse_errors_total", 1.0),
        ("asap_auth_failures_total", 2.0),
        ("asap_invalid_timestamp_total", 1.0),
        ("asap_invalid_nonce_total", 1.0),
        ("asap_sender_mismatch_total", 1.0),
        ("asap_thread_pool_exhausted_total", 1.0),
        ("asap_rate_limited_total", 1.0),
        (
            "asap_validation_errors_total{reason=\"invalid_envelope\"}",
            1.0,
        ),
        (
            "asap_state_transitions_total{from_status=\"submitted\",to_status=\"working\"}",
            1.0,
        ),
        // Unused counters are exported at zero.
        ("asap_transport_retries_total", 0.0),
        ("asap_build_info{version=\"0.1.0\"}", 1.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    assert!(sample(&text, "asap_process_uptime_seconds").is_some());
    assert!(!text.contains("# EOF"), "0.0.4 has no EOF marker");
}

/// Buckets are cumulative: each at least the one before, `+Inf` equal to `_count`.
#[test]
fn histogram_buckets_are_cumulative() {
    let text = observed().encode(Format::Prometheus);
    let mut buckets = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("asap_request_duration_seconds_bucket{")
            && rest.starts_with("payload_type=\"task.request\",status=\"success\",")
        {
            let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            buckets.push((line.to_owned(), value));
        }
    }
    assert_eq!(buckets.len(), 12, "11 bounds and +Inf: {buckets:?}");
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    let count = sample(
        &text,
        "asap_request_duration_seconds_count{payload_type=\"task.request\",status=\"success\"}",
    );
    assert_eq!(Some(buckets[11].1), count);
    assert!(buckets[11].0.contains("le=\"+Inf\""));
    // 1 ms and 3 ms are ≤ 5 ms; 7 ms ≤ 10 ms; 30 ms ≤ 50 ms; 600 ms ≤ 1 s; 20 s only +Inf.
    let values: Vec<f64> = buckets.iter().map(|b| b.1).collect();
    assert_eq!(
        values,
        [2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 5.0, 5.0, 5.0, 5.0, 6.0]
    );
}

#[test]
fn openmetrics_ends_with_eof() {
    let text = observed().encode(Format::OpenMetrics);
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("# TYPE asap_requests counter"), "{text}");
    assert!(
        text.contains("asap_requests_total{payload_type=\"task.request\",status=\"success\"} 6")
    );
}

#[test]
fn counters_read_at_scrape_time() {
    let metrics = Metrics::new();
    let value = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(3));
    let read = value.clone();
    metrics.register_counter_fn("asap_idempotent_replays", "Replays served", move || {
        read.load(std::sync::atomic::Ordering::Relaxed)
    });
    assert_eq!(
        sample(
            &metrics.encode(Format::Prometheus),
            "asap_idempotent_replays_total"
        ),
        Some(3.0)
    );
    value.store(8, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        sample(
            &metrics.encode(Format::Prometheus),
            "asap_idempotent_replays_total"
        ),
        Some(8.0)
    );
}

/// `promtool check metrics` (Prometheus's own linter) accepts the exposition. It reads
/// the 0.0.4 text format only; the OpenMetrics form is checked by a Prometheus server
/// scraping a live agent (asap-transport-server's tests/metrics_scrape.rs).
#[test]
fn promtool_accepts_the_exposition() {
    let Some(promtool) = asap_testing::services::require_tool("promtool") else {
        return;
    };
    let text = observed().encode(Format::Prometheus);
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
