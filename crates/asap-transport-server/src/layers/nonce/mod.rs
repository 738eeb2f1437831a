//! Nonce replay protection (PROTOCOL §11.3, processing step 16).
//!
//! Opt-in, like the reference's `create_app(require_nonce=True)`. Envelopes **without**
//! `extensions.nonce` still pass. When the key is present (even as `null`) its value must be a
//! non-empty string, and it must not have been seen within the TTL
//! ([`NONCE_TTL_SECONDS`] = 600 s, twice the timestamp window's maximum age, so a replay old
//! enough to be forgotten is also refused by the [timestamp window](super::timestamp)).
//!
//! Refusals are `-32602` with the ASAP error in `data`:
//!
//! ```json
//! {"error": "Invalid envelope nonce",
//!  "code": "asap:protocol/invalid_nonce",
//!  "message": "Duplicate nonce detected: n-7f3a9c1d2e",
//!  "details": {"nonce": "n-7f3a9c1d2e", "envelope_id": "01KDWPVNG0DE3B4WZZ6KYE37BB"}}
//! ```
//!
//! The full nonce is echoed in the response, as the reference does even in production (I-10);
//! logs show it truncated (its first 8 characters). For a nonce that is not a string,
//! `details.nonce` is Python's `str()` of the value (`"123"`, `"None"`, `"['a']"`), again
//! like the reference. A failing [`NonceStore`] gives `-32603`.
//!
//! Seen nonces live in a [`NonceStore`]: [`MemoryNonceStore`] in-process (bounded, sharded),
//! or a shared implementation for several replicas.

mod future;
mod layer;
mod memory;
mod python;
mod store;

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use asap_codec::rpc::RpcError;
use asap_model::json::python_type_name;
use asap_model::{AsapError, Envelope, ErrorCode};
use serde_json::Value;
use tower_service::Service;

pub use future::NonceFuture;
pub use layer::NonceLayer;
pub use memory::{DEFAULT_NONCE_CAPACITY, DEFAULT_NONCE_SHARDS, MemoryNonceStore};
pub use store::{NonceStore, NonceStoreError};

use crate::context::AsapRequest;
use crate::rejection::Rejection;
use crate::sanitize::truncate_secret;

/// How long a seen nonce is remembered, in seconds (reference constant; 2 × the maximum
/// envelope age).
pub const NONCE_TTL_SECONDS: u64 = 600;

/// `data.error` of a nonce refusal.
pub const INVALID_NONCE_SUMMARY: &str = "Invalid envelope nonce";

/// Why an envelope's nonce was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NonceError {
    /// Empty or not a string: `asap:protocol/invalid_nonce` (`-32602`).
    #[error("{0}")]
    Invalid(AsapError),
    /// Seen within its TTL: `asap:protocol/invalid_nonce` (`-32602`).
    #[error("{0}")]
    Replayed(AsapError),
    /// The store could not answer (`-32603`).
    #[error(transparent)]
    Store(#[from] NonceStoreError),
}

impl NonceError {
    /// The JSON-RPC error sent for this refusal.
    pub fn to_rpc_error(&self) -> RpcError {
        match self {
            NonceError::Invalid(error) | NonceError::Replayed(error) => {
                RpcError::asap(INVALID_NONCE_SUMMARY, error)
            }
            NonceError::Store(_) => RpcError::internal(),
        }
    }
}

/// The envelope's nonce: `Ok(None)` when `extensions.nonce` is absent, `Ok(Some(nonce))` when
/// it is a non-empty string, and the reference's `asap:protocol/invalid_nonce` error
/// otherwise (`Nonce must be a non-empty string, got empty string` / `got int`, …).
///
/// ```
/// use asap_model::Envelope;
/// use asap_transport_server::layers::nonce::envelope_nonce;
///
/// let mut envelope: Envelope = serde_json::from_value(serde_json::json!({
///     "asap_version": "0.1",
///     "sender": "urn:asap:agent:a",
///     "recipient": "urn:asap:agent:b",
///     "payload_type": "task.request",
///     "payload": {},
/// }))
/// .unwrap();
/// assert_eq!(envelope_nonce(&envelope).unwrap(), None);
///
/// envelope = envelope.with_extension("nonce", "n-1");
/// assert_eq!(envelope_nonce(&envelope).unwrap(), Some("n-1"));
///
/// envelope = envelope.with_extension("nonce", 7);
/// let error = envelope_nonce(&envelope).unwrap_err();
/// assert_eq!(error.message, "Nonce must be a non-empty string, got int");
/// assert_eq!(error.details["nonce"], "7");
/// ```
pub fn envelope_nonce(envelope: &Envelope) -> Result<Option<&str>, AsapError> {
    match envelope.nonce() {
        None => Ok(None),
        Some(Value::String(nonce)) if !nonce.is_empty() => Ok(Some(nonce)),
        Some(value) => {
            let got = match value {
                Value::String(_) => "empty string",
                other => python_type_name(other),
            };
            Err(invalid_nonce(
                &python::python_str(value),
                format!("Nonce must be a non-empty string, got {got}"),
                envelope.id.as_str(),
            ))
        }
    }
}

/// The reference's error for a replayed nonce: `Duplicate nonce detected: <nonce>`, with the
/// full nonce in the message and `details.nonce`.
pub fn duplicate_nonce(nonce: &str, envelope_id: &str) -> AsapError {
    invalid_nonce(
        nonce,
        format!("Duplicate nonce detected: {nonce}"),
        envelope_id,
    )
}

fn invalid_nonce(nonce: &str, message: String, envelope_id: &str) -> AsapError {
    AsapError::new(ErrorCode::InvalidNonce, message)
        .with_detail("nonce", nonce)
        .with_detail("envelope_id", envelope_id)
}

/// Checks the envelope's nonce and, when it is fresh, marks it in `store` for `ttl`: the whole
/// of PROTOCOL §11.3 without tower. Envelopes without a nonce pass without touching the store.
///
/// ```
/// use std::time::Duration;
///
/// use asap_model::Envelope;
/// use asap_transport_server::layers::nonce::{MemoryNonceStore, NonceError, check_nonce};
///
/// let envelope: Envelope = serde_json::from_value(serde_json::json!({
///     "id": "env-1",
///     "asap_version": "0.1",
///     "sender": "urn:asap:agent:a",
///     "recipient": "urn:asap:agent:b",
///     "payload_type": "task.request",
///     "payload": {},
///     "extensions": {"nonce": "n-1"},
/// }))
/// .unwrap();
/// let store = MemoryNonceStore::new();
/// let ttl = Duration::from_secs(600);
/// # futures_util::FutureExt::now_or_never(async {
/// assert!(check_nonce(&envelope, &store, ttl).await.is_ok());
/// match check_nonce(&envelope, &store, ttl).await {
///     Err(NonceError::Replayed(error)) => {
///         assert_eq!(error.message, "Duplicate nonce detected: n-1")
///     }
///     other => panic!("{other:?}"),
/// }
/// # }).unwrap();
/// ```
pub async fn check_nonce(
    envelope: &Envelope,
    store: &dyn NonceStore,
    ttl: Duration,
) -> Result<(), NonceError> {
    let Some(nonce) = envelope_nonce(envelope).map_err(NonceError::Invalid)? else {
        return Ok(());
    };
    if store.check_and_mark(nonce, ttl).await? {
        Ok(())
    } else {
        Err(NonceError::Replayed(duplicate_nonce(
            nonce,
            envelope.id.as_str(),
        )))
    }
}

/// Logs a refusal; the nonce is truncated, the store error kept whole.
fn log_refusal(envelope: &Envelope, error: &NonceError) {
    let nonce = envelope.nonce().map(|value| match value {
        Value::String(text) => truncate_secret(text),
        other => truncate_secret(&python::python_str(other)),
    });
    let nonce = nonce.unwrap_or_default();
    match error {
        NonceError::Replayed(_) => tracing::warn!(
            target: crate::LOG_TARGET,
            envelope_id = %envelope.id.as_str(),
            sender = %envelope.sender,
            nonce = %nonce,
            "Duplicate nonce detected"
        ),
        NonceError::Invalid(asap) => tracing::warn!(
            target: crate::LOG_TARGET,
            envelope_id = %envelope.id.as_str(),
            sender = %envelope.sender,
            nonce = %nonce,
            reason = %asap.message,
            "invalid envelope nonce"
        ),
        NonceError::Store(store) => tracing::error!(
            target: crate::LOG_TARGET,
            envelope_id = %envelope.id.as_str(),
            nonce = %nonce,
            error = %store,
            "nonce store failed; envelope refused"
        ),
    }
}

/// Refuses envelopes with an invalid or replayed nonce; see the [module docs](self).
///
/// Envelopes without a nonce go straight to the inner service; the others wait for the
/// [`NonceStore`], holding the inner service that was made ready (the service is cloned, as
/// tower recommends for services that call their inner service from a later future).
#[derive(Clone)]
pub struct NonceCheck<S> {
    inner: S,
    store: Arc<dyn NonceStore>,
    ttl: Duration,
}

impl<S> NonceCheck<S> {
    /// Wraps `inner`, remembering nonces in `store` for `ttl`.
    pub fn new(inner: S, store: Arc<dyn NonceStore>, ttl: Duration) -> Self {
        Self { inner, store, ttl }
    }

    /// The store in use.
    pub fn store(&self) -> &Arc<dyn NonceStore> {
        &self.store
    }

    /// How long nonces are remembered.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for NonceCheck<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceCheck")
            .field("inner", &self.inner)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<S> Service<AsapRequest> for NonceCheck<S>
where
    S: Service<AsapRequest, Error = Rejection> + Clone,
{
    type Response = S::Response;
    type Error = Rejection;
    type Future = NonceFuture<S, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: AsapRequest) -> Self::Future {
        match envelope_nonce(&request.envelope) {
            Ok(None) => NonceFuture::inner(self.inner.call(request)),
            Err(error) => {
                let error = NonceError::Invalid(error);
                log_refusal(&request.envelope, &error);
                NonceFuture::rejected(Rejection::Rpc(error.to_rpc_error()))
            }
            Ok(Some(_)) => {
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                let store = Arc::clone(&self.store);
                let ttl = self.ttl;
                NonceFuture::checking(
                    Box::pin(async move {
                        let outcome = check_nonce(&request.envelope, store.as_ref(), ttl).await;
                        (request, outcome)
                    }),
                    ready,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
