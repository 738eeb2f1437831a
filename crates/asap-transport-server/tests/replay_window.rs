//! The timestamp window as a tower layer (PROTOCOL §11.2), checked against the reference
//! capture `jsonrpc/error_stale_timestamp.json` of the fixtures.

use std::time::Duration;

use asap_codec::rpc::{Id, RpcError};
use asap_model::{Envelope, Timestamp};
use asap_testing::fixtures::jsonrpc_dir;
use asap_transport_server::layers::nonce::NonceLayer;
use asap_transport_server::layers::timestamp::{TimestampWindow, TimestampWindowLayer, Window};
use asap_transport_server::{AsapRequest, Rejection, RequestContext};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::{Layer, ServiceBuilder, ServiceExt};

fn capture(name: &str) -> Value {
    let path = jsonrpc_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("capture is JSON")
}

fn capture_envelope(capture: &Value) -> Value {
    capture["request"]["body"]["params"]["envelope"].clone()
}

fn envelope_from(value: Value) -> Envelope {
    serde_json::from_value(value).expect("valid envelope")
}

fn request(envelope: Envelope) -> AsapRequest {
    AsapRequest::new(envelope, RequestContext::default())
}

/// An envelope stamped `offset_micros` from now (negative: in the past).
fn envelope_at_offset(offset_micros: i64) -> Envelope {
    let timestamp = Timestamp::from_unix_micros(Timestamp::now().unix_micros() + offset_micros);
    envelope_from(json!({
        "id": "env-offset",
        "asap_version": "0.1",
        "sender": "urn:asap:agent:coordinator",
        "recipient": "urn:asap:agent:echo-agent",
        "payload_type": "task.request",
        "payload": {},
        "timestamp": timestamp.to_string(),
    }))
}

fn echo() -> impl tower::Service<
    AsapRequest,
    Response = Envelope,
    Error = Rejection,
    Future = impl Future<Output = Result<Envelope, Rejection>>,
> + Clone {
    tower::service_fn(|req: AsapRequest| async move { Ok::<_, Rejection>(req.envelope) })
}

fn rpc_error(result: Result<Envelope, Rejection>) -> RpcError {
    match result {
        Err(Rejection::Rpc(error)) => error,
        other => panic!("expected a JSON-RPC rejection, got {other:?}"),
    }
}

/// The moment the reference's capture was taken: 217643202.12694 s after 2020-01-01.
fn capture_now() -> Timestamp {
    Timestamp::from_unix_micros(1_577_836_800_000_000 + 217_643_202_126_940)
}

#[tokio::test]
async fn stale_capture_is_refused_like_the_reference() {
    let capture = capture("error_stale_timestamp.json");
    let expected = &capture["response"]["body"]["error"];
    let service = TimestampWindowLayer::new().layer(echo());
    let error = rpc_error(
        service
            .oneshot(request(envelope_from(capture_envelope(&capture))))
            .await,
    );

    assert_eq!(error.code, expected["code"].as_i64().unwrap() as i32);
    assert_eq!(error.message, expected["message"].as_str().unwrap());
    let data = error.data.as_ref().expect("data");
    let want = &expected["data"];
    assert_eq!(data["error"], want["error"]);
    assert_eq!(data["code"], want["code"]);
    let message = data["message"].as_str().unwrap();
    assert!(
        message.starts_with("Envelope timestamp is too old: "),
        "{message}"
    );
    assert!(
        message.ends_with(" seconds (max: 300 seconds)"),
        "{message}"
    );
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(data), keys(want));
    assert_eq!(keys(&data["details"]), keys(&want["details"]));
    for key in ["timestamp", "envelope_id", "max_age_seconds"] {
        assert_eq!(data["details"][key], want["details"][key], "{key}");
    }
    assert!(data["details"]["age_seconds"].as_f64().unwrap() > 217_643_202.0);
}

#[tokio::test]
async fn stale_capture_response_body_is_byte_identical_at_the_capture_time() {
    let capture = capture("error_stale_timestamp.json");
    let service = TimestampWindowLayer::new()
        .with_clock(capture_now)
        .layer(echo());
    let rejection = service
        .oneshot(request(envelope_from(capture_envelope(&capture))))
        .await
        .expect_err("refused");
    let response = rejection.into_response(Some(Id::from("req-1")));
    assert_eq!(response.status().as_u16(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let expected = serde_json::to_string(&capture["response"]["body"]).unwrap();
    assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
}

#[tokio::test]
async fn recent_envelope_reaches_the_inner_service() {
    let service = TimestampWindowLayer::new().layer(echo());
    let envelope = envelope_at_offset(-10_000_000);
    let passed = service
        .oneshot(request(envelope.clone()))
        .await
        .expect("accepted");
    assert_eq!(passed, envelope);
}

#[tokio::test]
async fn envelope_without_timestamp_passes() {
    let mut value = capture_envelope(&capture("error_stale_timestamp.json"));
    value.as_object_mut().unwrap().remove("timestamp");
    let service = TimestampWindowLayer::new().layer(echo());
    assert!(service.oneshot(request(envelope_from(value))).await.is_ok());
}

#[tokio::test]
async fn future_envelope_is_refused() {
    let service = TimestampWindowLayer::new().layer(echo());
    let error = rpc_error(
        service
            .oneshot(request(envelope_at_offset(120_000_000)))
            .await,
    );
    assert_eq!(error.code, -32602);
    let data = error.data.unwrap();
    assert_eq!(data["error"], "Invalid envelope timestamp");
    assert_eq!(data["code"], "asap:protocol/invalid_timestamp");
    let message = data["message"].as_str().unwrap();
    assert!(
        message.starts_with("Envelope timestamp is too far in the future: 1"),
        "{message}"
    );
    assert!(message.ends_with(" seconds (max tolerance: 30 seconds)"));
    let keys: Vec<&str> = data["details"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "timestamp",
            "future_offset_seconds",
            "envelope_id",
            "max_future_tolerance_seconds"
        ]
    );
    assert_eq!(data["details"]["envelope_id"], "env-offset");
    assert_eq!(data["details"]["max_future_tolerance_seconds"], 30);
    assert!(
        data["details"]["timestamp"]
            .as_str()
            .unwrap()
            .ends_with("+00:00")
    );
}

/// Fixed clock for the boundary tests: 2026-01-01T12:00:00Z.
fn noon() -> Timestamp {
    "2026-01-01T12:00:00Z".parse().unwrap()
}

fn stamped(timestamp: &str) -> AsapRequest {
    let mut value = capture_envelope(&capture("error_stale_timestamp.json"));
    value["timestamp"] = json!(timestamp);
    request(envelope_from(value))
}

#[tokio::test]
async fn boundaries_through_the_layer() {
    let layer = TimestampWindowLayer::new().with_clock(noon);
    let cases = [
        ("2026-01-01T11:55:00Z", true),
        ("2026-01-01T11:54:59.9Z", false),
        ("2026-01-01T12:00:30Z", true),
        ("2026-01-01T12:00:30.1Z", false),
        ("2026-01-01T11:55:00", true),        // naive = UTC
        ("2026-01-01T06:55:00-05:00", true),  // = 11:55Z
        ("2026-01-01T06:54:59-05:00", false), // = 11:54:59Z
        ("2026-01-01T13:00:31+01:00", false), // = 12:00:31Z
    ];
    for (timestamp, accepted) in cases {
        let result = layer.layer(echo()).oneshot(stamped(timestamp)).await;
        assert_eq!(result.is_ok(), accepted, "{timestamp}: {result:?}");
    }
}

#[tokio::test]
async fn configured_window() {
    let layer = TimestampWindowLayer::new()
        .with_clock(noon)
        .with_max_age(Duration::from_secs(60))
        .with_max_future(Duration::ZERO);
    assert_eq!(
        layer.window(),
        Window::new(Duration::from_secs(60), Duration::ZERO)
    );
    let error = rpc_error(
        layer
            .layer(echo())
            .oneshot(stamped("2026-01-01T11:58:30Z"))
            .await,
    );
    let data = error.data.unwrap();
    assert_eq!(
        data["message"],
        "Envelope timestamp is too old: 90.0 seconds (max: 60 seconds)"
    );
    assert_eq!(data["details"]["max_age_seconds"], 60);
    assert!(
        layer
            .layer(echo())
            .oneshot(stamped("2026-01-01T12:00:00.000001Z"))
            .await
            .is_err()
    );
    let direct = TimestampWindow::new(echo(), layer.window()).with_clock(noon);
    assert!(
        direct
            .oneshot(stamped("2026-01-01T12:00:00Z"))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn composes_with_the_nonce_layer_timestamp_first() {
    let service = ServiceBuilder::new()
        .layer(TimestampWindowLayer::new().with_clock(noon))
        .layer(NonceLayer::memory())
        .service(echo());
    let mut value = capture_envelope(&capture("error_stale_timestamp.json"));
    value["timestamp"] = json!("2026-01-01T11:59:00Z");
    value["extensions"] = json!({"nonce": "n-compose"});
    let fresh = envelope_from(value.clone());
    assert!(
        service
            .clone()
            .oneshot(request(fresh.clone()))
            .await
            .is_ok()
    );

    // Stale and replayed: the window (step 15) answers before the nonce check (step 16).
    value["timestamp"] = json!("2020-01-01T00:00:00Z");
    let error = rpc_error(service.clone().oneshot(request(envelope_from(value))).await);
    assert_eq!(error.data_error(), Some("Invalid envelope timestamp"));

    // In the window but replayed: the nonce check answers.
    let error = rpc_error(service.oneshot(request(fresh)).await);
    assert_eq!(error.data_error(), Some("Invalid envelope nonce"));
}
