use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::BoxFuture;
use serde_json::json;
use tower::ServiceExt;

use super::*;
use crate::context::RequestContext;

fn envelope(extensions: Value) -> Envelope {
    serde_json::from_value(json!({
        "id": "01KDWPVNG0DE3B4WZZ6KYE37BB",
        "asap_version": "0.1",
        "sender": "urn:asap:agent:coordinator",
        "recipient": "urn:asap:agent:echo-agent",
        "payload_type": "task.request",
        "payload": {},
        "extensions": extensions,
    }))
    .expect("valid envelope")
}

#[test]
fn absent_nonce_passes() {
    assert_eq!(envelope_nonce(&envelope(Value::Null)).unwrap(), None);
    assert_eq!(envelope_nonce(&envelope(json!({}))).unwrap(), None);
    assert_eq!(
        envelope_nonce(&envelope(json!({"client_version": "1"}))).unwrap(),
        None
    );
}

#[test]
fn string_nonce_is_returned() {
    let e = envelope(json!({"nonce": "n-7f3a9c1d2e"}));
    assert_eq!(envelope_nonce(&e).unwrap(), Some("n-7f3a9c1d2e"));
}

#[test]
fn invalid_nonces_get_the_reference_messages() {
    for (value, got, shown) in [
        (json!(""), "empty string", ""),
        (json!(123), "int", "123"),
        (json!(1.5), "float", "1.5"),
        (json!(true), "bool", "True"),
        (json!(null), "NoneType", "None"),
        (json!(["a", 1]), "list", "['a', 1]"),
        (json!({"k": null}), "dict", "{'k': None}"),
    ] {
        let error = envelope_nonce(&envelope(json!({ "nonce": value }))).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidNonce);
        assert_eq!(
            error.message,
            format!("Nonce must be a non-empty string, got {got}")
        );
        assert_eq!(
            serde_json::to_value(&error.details).unwrap(),
            json!({"nonce": shown, "envelope_id": "01KDWPVNG0DE3B4WZZ6KYE37BB"})
        );
    }
}

#[test]
fn duplicate_error_matches_the_capture() {
    let error = NonceError::Replayed(duplicate_nonce(
        "n-7f3a9c1d2e",
        "01KDWPVNG0DE3B4WZZ6KYE37BB",
    ));
    let rpc = error.to_rpc_error();
    assert_eq!(rpc.code, -32602);
    assert_eq!(rpc.message, "Invalid params");
    let expected = json!({
        "error": "Invalid envelope nonce",
        "code": "asap:protocol/invalid_nonce",
        "message": "Duplicate nonce detected: n-7f3a9c1d2e",
        "details": {"nonce": "n-7f3a9c1d2e", "envelope_id": "01KDWPVNG0DE3B4WZZ6KYE37BB"}
    });
    assert_eq!(
        serde_json::to_string(&rpc.data).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
}

#[test]
fn store_errors_are_internal() {
    let rpc = NonceError::Store(NonceStoreError::new("down")).to_rpc_error();
    assert_eq!(rpc, RpcError::internal());
}

/// A store that always fails and counts its calls.
#[derive(Default)]
struct Broken(AtomicUsize);

impl NonceStore for Broken {
    fn check_and_mark<'a>(
        &'a self,
        _: &'a str,
        _: Duration,
    ) -> BoxFuture<'a, Result<bool, NonceStoreError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(NonceStoreError::new("connection refused")) })
    }
}

fn echo() -> impl Service<
    AsapRequest,
    Response = Envelope,
    Error = Rejection,
    Future = impl Future<Output = Result<Envelope, Rejection>> + Send,
> + Clone {
    tower::service_fn(|req: AsapRequest| async move { Ok::<_, Rejection>(req.envelope) })
}

fn request(extensions: Value) -> AsapRequest {
    AsapRequest::new(envelope(extensions), RequestContext::default())
}

#[tokio::test]
async fn failing_store_refuses_with_internal_error() {
    let store = Arc::new(Broken::default());
    let service = NonceCheck::new(echo(), store.clone(), Duration::from_secs(600));
    let result = service
        .clone()
        .oneshot(request(json!({"nonce": "n-1"})))
        .await;
    assert_eq!(result, Err(Rejection::Rpc(RpcError::internal())));
    assert_eq!(store.0.load(Ordering::SeqCst), 1);
    // Envelopes without a nonce never reach the store.
    assert!(service.oneshot(request(Value::Null)).await.is_ok());
    assert_eq!(store.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn invalid_nonce_never_reaches_the_store() {
    let store = Arc::new(Broken::default());
    let service = NonceCheck::new(echo(), store.clone(), Duration::from_secs(600));
    let Err(Rejection::Rpc(error)) = service.oneshot(request(json!({"nonce": ""}))).await else {
        panic!("expected a rejection");
    };
    assert_eq!(error.code, -32602);
    assert_eq!(store.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn check_nonce_uses_the_ttl() {
    let store = MemoryNonceStore::new();
    let e = envelope(json!({"nonce": "n-ttl"}));
    assert!(check_nonce(&e, &store, Duration::ZERO).await.is_ok());
    assert!(check_nonce(&e, &store, Duration::ZERO).await.is_ok());
    assert!(
        check_nonce(&e, &store, Duration::from_secs(5))
            .await
            .is_ok()
    );
    assert!(matches!(
        check_nonce(&e, &store, Duration::from_secs(5)).await,
        Err(NonceError::Replayed(_))
    ));
}

#[test]
fn layer_defaults() {
    let layer = NonceLayer::default();
    assert_eq!(layer.ttl(), Duration::from_secs(NONCE_TTL_SECONDS));
    let service = tower_layer::Layer::layer(&layer.with_ttl(Duration::from_secs(9)), ());
    assert_eq!(service.ttl(), Duration::from_secs(9));
    assert!(format!("{service:?}").starts_with("NonceCheck"));
}
