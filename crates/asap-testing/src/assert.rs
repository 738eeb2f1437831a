//! Assertions on envelopes.

use asap_model::payload::TaskResponse;
use asap_model::{Envelope, TaskStatus};
use serde_json::Value;

/// Decodes `value` as an envelope, checks its payload against its model when known, and
/// returns it; panics with the located error otherwise.
pub fn assert_envelope_valid(value: &Value) -> Envelope {
    let envelope: Envelope = asap_model::validation::from_value(value.clone())
        .unwrap_or_else(|e| panic!("invalid envelope: {e}\n{value:#}"));
    if let Err(e) = envelope.validate_payload() {
        panic!("invalid payload: {e}\n{value:#}");
    }
    envelope
}

/// Checks that `envelope` is a `task.response` with status `completed` correlated to
/// `request_id` (when given), and returns the response payload.
pub fn assert_task_completed(envelope: &Envelope, request_id: Option<&str>) -> TaskResponse {
    assert_eq!(envelope.payload_type, "task.response", "payload_type");
    let response: TaskResponse = envelope
        .payload_as()
        .unwrap_or_else(|e| panic!("not a TaskResponse: {e}"));
    assert_eq!(response.status, TaskStatus::Completed, "task status");
    if let Some(id) = request_id {
        assert_eq!(
            envelope.correlation_id.as_deref(),
            Some(id),
            "correlation_id"
        );
    }
    response
}
