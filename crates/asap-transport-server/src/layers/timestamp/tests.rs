use std::time::Duration;

use asap_model::{Envelope, ErrorCode, Timestamp};
use serde_json::json;

use super::*;

fn envelope_at(timestamp: &str) -> Envelope {
    serde_json::from_value(json!({
        "id": "01KDWPVNG0DE3B4WZZ6KYE37BB",
        "asap_version": "0.1",
        "sender": "urn:asap:agent:coordinator",
        "recipient": "urn:asap:agent:echo-agent",
        "payload_type": "task.request",
        "payload": {},
        "timestamp": timestamp,
    }))
    .expect("valid envelope")
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("valid timestamp")
}

fn check(timestamp: &str, now: &str) -> Result<(), AsapError> {
    check_timestamp(&envelope_at(timestamp), ts(now), &Window::default())
}

#[test]
fn defaults_are_the_reference_constants() {
    assert_eq!(MAX_ENVELOPE_AGE_SECONDS, 300);
    assert_eq!(MAX_FUTURE_TOLERANCE_SECONDS, 30);
    assert_eq!(Window::default().max_age(), Duration::from_secs(300));
    assert_eq!(Window::default().max_future(), Duration::from_secs(30));
    let layer = TimestampWindowLayer::default();
    assert_eq!(layer.window(), Window::DEFAULT);
}

#[test]
fn current_timestamp_passes() {
    assert!(check("2026-01-01T12:00:00Z", "2026-01-01T12:00:00Z").is_ok());
    assert!(check("2026-01-01T12:00:00Z", "2026-01-01T12:02:00Z").is_ok());
    assert!(check("2026-01-01T12:00:10Z", "2026-01-01T12:00:00Z").is_ok());
}

#[test]
fn age_boundary_is_strict() {
    assert!(check("2026-01-01T12:00:00Z", "2026-01-01T12:05:00Z").is_ok());
    let one_micro = check("2026-01-01T12:00:00Z", "2026-01-01T12:05:00.000001Z").unwrap_err();
    assert_eq!(one_micro.code, ErrorCode::InvalidTimestamp);
    assert_eq!(
        one_micro.message,
        "Envelope timestamp is too old: 300.0 seconds (max: 300 seconds)"
    );
    let error = check("2026-01-01T12:00:00Z", "2026-01-01T12:05:00.1Z").unwrap_err();
    assert_eq!(
        error.message,
        "Envelope timestamp is too old: 300.1 seconds (max: 300 seconds)"
    );
    assert_eq!(error.details["age_seconds"], json!(300.1));
}

#[test]
fn future_boundary_is_strict() {
    assert!(check("2026-01-01T12:00:30Z", "2026-01-01T12:00:00Z").is_ok());
    let one_micro = check("2026-01-01T12:00:30.000001Z", "2026-01-01T12:00:00Z").unwrap_err();
    assert_eq!(one_micro.code, ErrorCode::InvalidTimestamp);
    let error = check("2026-01-01T12:00:30.1Z", "2026-01-01T12:00:00Z").unwrap_err();
    assert_eq!(
        error.message,
        "Envelope timestamp is too far in the future: 30.1 seconds (max tolerance: 30 seconds)"
    );
    assert_eq!(error.details["future_offset_seconds"], json!(30.1));
}

#[test]
fn too_old_details_match_the_reference() {
    // error_stale_timestamp.json: 2020-01-01T00:00:00Z seen 217643202.12694 s later.
    let envelope = envelope_at("2020-01-01T00:00:00Z");
    let now = Timestamp::from_unix_micros(envelope.timestamp.unix_micros() + 217_643_202_126_940);
    let error = check_timestamp(&envelope, now, &Window::default()).unwrap_err();
    let data = timestamp_rpc_error(&error);
    assert_eq!(data.code, -32602);
    let expected = json!({
        "error": "Invalid envelope timestamp",
        "code": "asap:protocol/invalid_timestamp",
        "message": "Envelope timestamp is too old: 217643202.1 seconds (max: 300 seconds)",
        "details": {
            "timestamp": "2020-01-01T00:00:00+00:00",
            "age_seconds": 217643202.12694,
            "envelope_id": "01KDWPVNG0DE3B4WZZ6KYE37BB",
            "max_age_seconds": 300
        }
    });
    // Serialized text, so key order and number formatting are compared too.
    assert_eq!(
        serde_json::to_string(&data.data).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
}

#[test]
fn future_details_in_reference_order() {
    let error = check("2026-01-01T12:01:00.250000Z", "2026-01-01T12:00:00Z").unwrap_err();
    let keys: Vec<&str> = error.details.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "timestamp",
            "future_offset_seconds",
            "envelope_id",
            "max_future_tolerance_seconds"
        ]
    );
    assert_eq!(
        error.details["timestamp"],
        json!("2026-01-01T12:01:00.250000+00:00")
    );
    assert_eq!(error.details["future_offset_seconds"], json!(60.25));
    assert_eq!(error.details["max_future_tolerance_seconds"], json!(30));
    // 60.25 is exact in binary: rounds half to even like Python's `:.1f`.
    assert!(
        error.message.contains(": 60.2 seconds"),
        "{}",
        error.message
    );
}

#[test]
fn naive_timestamps_are_utc() {
    assert!(check("2026-01-01T12:00:00", "2026-01-01T12:05:00Z").is_ok());
    let error = check("2026-01-01T12:00:00", "2026-01-01T12:05:01Z").unwrap_err();
    assert_eq!(
        error.details["timestamp"],
        json!("2026-01-01T12:00:00+00:00")
    );
    assert!(check("2026-01-01 12:00:30", "2026-01-01T12:00:00Z").is_ok());
    assert!(check("2026-01-01 12:00:31", "2026-01-01T12:00:00Z").is_err());
}

#[test]
fn offsets_are_compared_as_instants() {
    // 14:00+02:00 is 12:00Z.
    assert!(check("2026-01-01T14:00:00+02:00", "2026-01-01T12:05:00Z").is_ok());
    let error = check("2026-01-01T14:00:00+02:00", "2026-01-01T12:05:00.5Z").unwrap_err();
    assert_eq!(
        error.details["timestamp"],
        json!("2026-01-01T12:00:00+00:00")
    );
    // 07:00:31-05:00 is 12:00:31Z: 31 s ahead.
    let error = check("2026-01-01T07:00:31-05:00", "2026-01-01T12:00:00Z").unwrap_err();
    assert_eq!(error.details["future_offset_seconds"], json!(31.0));
    assert!(check("2026-01-01T07:00:30-05:00", "2026-01-01T12:00:00Z").is_ok());
    // A local time far from UTC that is still "now" in instant terms.
    assert!(check("2026-01-02T01:30:00+13:30", "2026-01-01T12:00:00Z").is_ok());
}

#[test]
fn custom_window_bounds() {
    let window = Window::new(Duration::from_secs(10), Duration::from_millis(1500));
    let envelope = envelope_at("2026-01-01T12:00:00Z");
    assert!(check_timestamp(&envelope, ts("2026-01-01T12:00:10Z"), &window).is_ok());
    let error = check_timestamp(&envelope, ts("2026-01-01T12:00:11Z"), &window).unwrap_err();
    assert_eq!(
        error.message,
        "Envelope timestamp is too old: 11.0 seconds (max: 10 seconds)"
    );
    assert_eq!(error.details["max_age_seconds"], json!(10));
    assert!(check_timestamp(&envelope, ts("2026-01-01T11:59:58.5Z"), &window).is_ok());
    let error = check_timestamp(&envelope, ts("2026-01-01T11:59:58Z"), &window).unwrap_err();
    assert_eq!(
        error.message,
        "Envelope timestamp is too far in the future: 2.0 seconds (max tolerance: 1.5 seconds)"
    );
    assert_eq!(error.details["max_future_tolerance_seconds"], json!(1.5));
}

#[test]
fn extreme_values_do_not_overflow() {
    let window = Window::new(Duration::MAX, Duration::MAX);
    let envelope = envelope_at("1970-01-01T00:00:00Z");
    assert!(check_timestamp(&envelope, ts("9999-12-31T23:59:59Z"), &window).is_ok());
    assert!(check("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z").is_err());
    assert!(check("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z").is_err());
}
