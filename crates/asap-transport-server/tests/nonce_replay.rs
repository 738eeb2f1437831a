//! Nonce replay protection as a tower layer (PROTOCOL §11.3), checked against the reference
//! capture `jsonrpc/error_duplicate_nonce.json` of the fixtures.

use std::sync::Arc;
use std::time::Duration;

use asap_codec::rpc::{Id, RpcError};
use asap_model::Envelope;
use asap_testing::fixtures::jsonrpc_dir;
use asap_transport_server::layers::nonce::{
    MemoryNonceStore, NONCE_TTL_SECONDS, NonceCheck, NonceLayer, NonceStore,
};
use asap_transport_server::layers::timestamp::TimestampWindowLayer;
use asap_transport_server::{AsapRequest, Rejection, RequestContext};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::{Layer, ServiceBuilder, ServiceExt};

fn capture() -> Value {
    let path = jsonrpc_dir().join("error_duplicate_nonce.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("capture is JSON")
}

/// The capture's envelope (it has no timestamp, so it is stamped "now" when decoded).
fn capture_envelope_value() -> Value {
    capture()["request"]["body"]["params"]["envelope"].clone()
}

fn envelope_with(extensions: Value) -> Envelope {
    let mut value = capture_envelope_value();
    value["extensions"] = extensions;
    serde_json::from_value(value).expect("valid envelope")
}

fn request(envelope: Envelope) -> AsapRequest {
    AsapRequest::new(envelope, RequestContext::default())
}

fn echo() -> impl tower::Service<
    AsapRequest,
    Response = Envelope,
    Error = Rejection,
    Future = impl Future<Output = Result<Envelope, Rejection>> + Send,
> + Clone
+ Send {
    tower::service_fn(|req: AsapRequest| async move { Ok::<_, Rejection>(req.envelope) })
}

fn rpc_error(result: Result<Envelope, Rejection>) -> RpcError {
    match result {
        Err(Rejection::Rpc(error)) => error,
        other => panic!("expected a JSON-RPC rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn duplicate_capture_is_refused_like_the_reference() {
    let capture = capture();
    let expected = &capture["response"]["body"]["error"];
    let service = NonceLayer::memory().layer(echo());
    let envelope: Envelope = serde_json::from_value(capture_envelope_value()).unwrap();

    let first = service.clone().oneshot(request(envelope.clone())).await;
    assert_eq!(first.expect("first use accepted"), envelope);

    let error = rpc_error(service.oneshot(request(envelope)).await);
    assert_eq!(error.code, expected["code"].as_i64().unwrap() as i32);
    assert_eq!(error.message, expected["message"].as_str().unwrap());
    let data = error.data.as_ref().expect("data");
    let want = &expected["data"];
    assert_eq!(data["error"], want["error"]);
    assert_eq!(data["code"], want["code"]);
    assert!(
        data["message"]
            .as_str()
            .unwrap()
            .starts_with("Duplicate nonce detected: ")
    );
    // The whole data object, key order included.
    assert_eq!(
        serde_json::to_string(data).unwrap(),
        serde_json::to_string(want).unwrap()
    );
}

#[tokio::test]
async fn duplicate_response_body_is_byte_identical() {
    let capture = capture();
    let service = NonceLayer::memory().layer(echo());
    let envelope: Envelope = serde_json::from_value(capture_envelope_value()).unwrap();
    service
        .clone()
        .oneshot(request(envelope.clone()))
        .await
        .unwrap();
    let rejection = service.oneshot(request(envelope)).await.unwrap_err();
    let response = rejection.into_response(Some(Id::from("req-1")));
    assert_eq!(response.status().as_u16(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        serde_json::to_string(&capture["response"]["body"]).unwrap()
    );
}

#[tokio::test]
async fn envelopes_without_a_nonce_always_pass() {
    let service = NonceLayer::memory().layer(echo());
    for extensions in [Value::Null, json!({}), json!({"client_version": "1.0"})] {
        for _ in 0..3 {
            let result = service
                .clone()
                .oneshot(request(envelope_with(extensions.clone())))
                .await;
            assert!(result.is_ok(), "{extensions}");
        }
    }
}

#[tokio::test]
async fn distinct_nonces_pass() {
    let service = NonceLayer::memory().layer(echo());
    for i in 0..100 {
        let envelope = envelope_with(json!({ "nonce": format!("n-{i}") }));
        assert!(service.clone().oneshot(request(envelope)).await.is_ok());
    }
}

#[tokio::test]
async fn invalid_nonce_values_are_refused() {
    let service = NonceLayer::memory().layer(echo());
    for (value, got, shown) in [
        (json!(""), "empty string", json!("")),
        (json!(42), "int", json!("42")),
        (json!(4.5), "float", json!("4.5")),
        (json!(false), "bool", json!("False")),
        (json!(null), "NoneType", json!("None")),
        (json!(["x"]), "list", json!("['x']")),
        (json!({"a": 1}), "dict", json!("{'a': 1}")),
    ] {
        let envelope = envelope_with(json!({ "nonce": value }));
        let error = rpc_error(service.clone().oneshot(request(envelope)).await);
        assert_eq!(error.code, -32602);
        let data = error.data.unwrap();
        assert_eq!(data["error"], "Invalid envelope nonce");
        assert_eq!(data["code"], "asap:protocol/invalid_nonce");
        assert_eq!(
            data["message"],
            format!("Nonce must be a non-empty string, got {got}")
        );
        assert_eq!(
            data["details"],
            json!({"nonce": shown, "envelope_id": "01KDWPVNG0DE3B4WZZ6KYE37BB"})
        );
    }
}

#[tokio::test]
async fn accepted_nonce_is_marked_in_the_given_store() {
    let store = Arc::new(MemoryNonceStore::new());
    let service = NonceLayer::new(store.clone()).layer(echo());
    let envelope = envelope_with(json!({"nonce": "n-once"}));
    assert!(
        service
            .clone()
            .oneshot(request(envelope.clone()))
            .await
            .is_ok()
    );
    assert_eq!(store.len(), 1);
    assert!(!store.try_mark("n-once", Duration::from_secs(NONCE_TTL_SECONDS)));
}

#[tokio::test]
async fn shared_store_spans_services() {
    let store: Arc<dyn NonceStore> = Arc::new(MemoryNonceStore::new());
    let a = NonceLayer::new(store.clone()).layer(echo());
    let b = NonceCheck::new(echo(), store, Duration::from_secs(600));
    let envelope = envelope_with(json!({"nonce": "n-shared"}));
    assert!(a.oneshot(request(envelope.clone())).await.is_ok());
    let error = rpc_error(b.oneshot(request(envelope)).await);
    assert_eq!(error.data_error(), Some("Invalid envelope nonce"));
}

#[tokio::test]
async fn nonce_is_fresh_again_after_its_ttl() {
    let service = NonceLayer::memory()
        .with_ttl(Duration::from_millis(30))
        .layer(echo());
    let envelope = envelope_with(json!({"nonce": "n-ttl"}));
    assert!(
        service
            .clone()
            .oneshot(request(envelope.clone()))
            .await
            .is_ok()
    );
    assert!(
        service
            .clone()
            .oneshot(request(envelope.clone()))
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert!(service.oneshot(request(envelope)).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replays_are_accepted_once() {
    let service = NonceLayer::memory().layer(echo());
    let envelope = envelope_with(json!({"nonce": "n-race"}));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let service = service.clone();
            let envelope = envelope.clone();
            tokio::spawn(async move { service.oneshot(request(envelope)).await.is_ok() })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        accepted += usize::from(task.await.unwrap());
    }
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn composes_with_the_timestamp_window() {
    let service = ServiceBuilder::new()
        .layer(TimestampWindowLayer::new())
        .layer(NonceLayer::memory())
        .service(echo());
    let fresh = envelope_with(json!({"nonce": "n-both"}));
    assert!(
        service
            .clone()
            .oneshot(request(fresh.clone()))
            .await
            .is_ok()
    );
    let error = rpc_error(service.clone().oneshot(request(fresh.clone())).await);
    assert_eq!(error.data_error(), Some("Invalid envelope nonce"));

    // A stale envelope is refused by the window and never reaches the nonce store, so its
    // nonce stays usable.
    let mut stale = capture_envelope_value();
    stale["timestamp"] = json!("2020-01-01T00:00:00Z");
    stale["extensions"] = json!({"nonce": "n-stale"});
    let stale: Envelope = serde_json::from_value(stale).unwrap();
    let error = rpc_error(service.clone().oneshot(request(stale)).await);
    assert_eq!(error.data_error(), Some("Invalid envelope timestamp"));
    let later = envelope_with(json!({"nonce": "n-stale"}));
    assert!(service.oneshot(request(later)).await.is_ok());
}
