//! The layer and its service: claim, run or replay, wait.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use asap_codec::rpc::RpcError;
use asap_model::Envelope;
use asap_model::error::rpc::{INTERNAL_ERROR, INVALID_PARAMS};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Either, Ready, ready};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;
use tower::ServiceExt;
use tower_layer::Layer;
use tower_service::Service;

use super::{
    Begin, HEADER, INVALID_KEY, IdempotencyConfig, IdempotencyCounters, IdempotencyKey,
    IdempotencyStore, KEY_CONFLICT, KEY_REUSED, MAX_KEY_LEN, MISMATCH_CODE, STILL_IN_PROGRESS,
    STORE_UNAVAILABLE, StoredResponse, bump, fingerprint,
};
use crate::config::ServerConfig;
use crate::context::{AsapRequest, RequestContext};
use crate::rejection::Rejection;

/// Longest pause between two looks at the store while another replica runs the request.
const MAX_POLL: Duration = Duration::from_millis(250);

/// A `tower::Layer` adding [`Idempotency`] in front of an envelope-level service; attach it
/// with [`AsapServerBuilder::idempotency`](crate::AsapServerBuilder::idempotency).
#[derive(Clone)]
pub struct IdempotencyLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for IdempotencyLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyLayer")
            .field("lease", &self.shared.lease)
            .field("ttl", &self.shared.ttl)
            .field("wait", &self.shared.wait)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Shared {
    store: Arc<dyn IdempotencyStore>,
    lease: Duration,
    ttl: Duration,
    wait: Duration,
    counters: Arc<IdempotencyCounters>,
    /// Told of each replay, by payload type (the server's metrics), when set.
    observation: Option<crate::observe::Observation>,
    /// Runs in progress in this process that someone waits for.
    waiters: Mutex<HashMap<IdempotencyKey, Arc<Notify>>>,
}

impl Shared {
    fn waiter(&self, key: &IdempotencyKey) -> Arc<Notify> {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        waiters.entry(key.clone()).or_default().clone()
    }

    /// Wakes whoever waits for `key` (its run finished here).
    fn wake(&self, key: &IdempotencyKey) {
        let notify = {
            let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            if waiters.is_empty() {
                return;
            }
            waiters.remove(key)
        };
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }

    /// Drops the waiter entry of `key` when only `notify`'s holder still uses it (the run
    /// was elsewhere, nobody here will wake it).
    fn forget(&self, key: &IdempotencyKey, notify: &Arc<Notify>) {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = waiters.get(key)
            && Arc::ptr_eq(entry, notify)
            && Arc::strong_count(notify) <= 2
        {
            waiters.remove(key);
        }
    }
}

impl IdempotencyLayer {
    /// A layer over `store`; unset durations of `config` are derived from the default
    /// [`ServerConfig`] (the builder derives them from the server's own configuration).
    pub fn new(store: Arc<dyn IdempotencyStore>, config: &IdempotencyConfig) -> Self {
        Self::for_server(store, config, &ServerConfig::default(), None)
    }

    pub(crate) fn for_server(
        store: Arc<dyn IdempotencyStore>,
        config: &IdempotencyConfig,
        server: &ServerConfig,
        observation: Option<crate::observe::Observation>,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                lease: config.lease.unwrap_or(server.request_timeout),
                ttl: config.ttl.unwrap_or(server.max_envelope_age * 2),
                wait: config.wait.unwrap_or(server.request_timeout),
                counters: Arc::default(),
                observation,
                waiters: Mutex::default(),
            }),
        }
    }

    /// The counters of this layer (shared by every service it makes).
    pub fn counters(&self) -> Arc<IdempotencyCounters> {
        self.shared.counters.clone()
    }
}

impl<S> Layer<S> for IdempotencyLayer {
    type Service = Idempotency<S>;

    fn layer(&self, inner: S) -> Idempotency<S> {
        Idempotency {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// Runs a keyed request's handler once per key and sender; see the
/// [module docs](super).
#[derive(Clone)]
pub struct Idempotency<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Idempotency<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S> Service<AsapRequest> for Idempotency<S>
where
    S: Service<AsapRequest, Response = Envelope, Error = Rejection> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Envelope;
    type Error = Rejection;
    type Future = Either<
        Either<S::Future, Ready<Result<Envelope, Rejection>>>,
        BoxFuture<'static, Result<Envelope, Rejection>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: AsapRequest) -> Self::Future {
        let key = match request_key(&request.ctx) {
            Ok(None) => return Either::Left(Either::Left(self.inner.call(request))),
            Ok(Some(key)) => key,
            Err(rejection) => return Either::Left(Either::Right(ready(Err(rejection)))),
        };
        let key = IdempotencyKey {
            sender: request.envelope.sender.to_string(),
            key,
        };
        // The ready service goes with the request; a clone stays for the next one.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Either::Right(Box::pin(keyed(self.shared.clone(), inner, request, key)))
    }
}

/// The request's key: `params.idempotency_key` and/or `X-Idempotency-Key` (equal when both
/// are present), 1 to [`MAX_KEY_LEN`] bytes.
fn request_key(ctx: &RequestContext) -> Result<Option<String>, Rejection> {
    let header = ctx.headers.get(HEADER);
    let key = match (ctx.idempotency_key.as_deref(), header) {
        (None, None) => return Ok(None),
        (Some(param), None) => param,
        (Some(param), Some(header)) => {
            if header.as_bytes() != param.as_bytes() {
                return Err(invalid(KEY_CONFLICT));
            }
            param
        }
        (None, Some(header)) => header.to_str().map_err(|_| invalid(INVALID_KEY))?,
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(invalid(INVALID_KEY));
    }
    Ok(Some(key.to_owned()))
}

fn invalid(error: &str) -> Rejection {
    Rejection::Rpc(RpcError::new(
        INVALID_PARAMS,
        serde_json::json!({ "error": error, "max_length": MAX_KEY_LEN }),
    ))
}

/// What is stored for replay: `{"envelope": …}` or `{"error": …}` (the JSON-RPC error).
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Stored {
    Envelope(Box<Envelope>),
    Error(RpcError),
}

/// [`Stored`], borrowed for writing.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum StoredRef<'a> {
    Envelope(&'a Envelope),
    Error(&'a RpcError),
}

/// The body to store for `result`, or `None` when the key is to be released: `-32603`
/// (a handler failure or panic), 429, 503 and HTTP-level refusals may not happen again.
fn stored_body(result: &Result<Envelope, Rejection>) -> Option<Vec<u8>> {
    let stored = match result {
        Ok(envelope) => serde_json::to_vec(&StoredRef::Envelope(envelope)),
        Err(Rejection::Rpc(error)) if error.code != INTERNAL_ERROR => {
            serde_json::to_vec(&StoredRef::Error(error))
        }
        Err(_) => return None,
    };
    stored.ok()
}

fn replay(stored: &StoredResponse) -> Result<Envelope, Rejection> {
    match serde_json::from_slice::<Stored>(&stored.body) {
        Ok(Stored::Envelope(envelope)) => Ok(*envelope),
        Ok(Stored::Error(error)) => Err(Rejection::Rpc(error)),
        Err(error) => {
            tracing::error!(target: crate::LOG_TARGET, %error, "stored idempotent response unreadable");
            Err(Rejection::Rpc(RpcError::internal()))
        }
    }
}

async fn keyed<S>(
    shared: Arc<Shared>,
    inner: S,
    request: AsapRequest,
    key: IdempotencyKey,
) -> Result<Envelope, Rejection>
where
    S: Service<AsapRequest, Response = Envelope, Error = Rejection> + Send,
    S::Future: Send,
{
    let fingerprint = fingerprint(&request.envelope);
    let deadline = Instant::from_std(request.ctx.received_at) + shared.wait;
    let mut waiting = Waiting {
        shared: &shared,
        key: &key,
        notify: None,
    };
    let mut poll = Duration::from_millis(2);
    loop {
        let notified = waiting.notify.clone().map(|notify| {
            let mut notified = Box::pin(notify.notified_owned());
            notified.as_mut().enable();
            notified
        });
        let begun = shared
            .store
            .begin(&key, &fingerprint, shared.lease, shared.ttl)
            .await;
        match begun {
            Ok(Begin::Started) => {
                bump(&shared.counters.runs);
                drop(waiting);
                return run(&shared, inner, request, key, fingerprint).await;
            }
            Ok(Begin::Completed(stored)) => {
                bump(&shared.counters.replays);
                if let Some(observation) = &shared.observation {
                    observation.replay(&request.envelope.payload_type);
                }
                return replay(&stored);
            }
            Ok(Begin::Mismatch) => {
                bump(&shared.counters.mismatches);
                return Err(Rejection::Rpc(RpcError::new(
                    INVALID_PARAMS,
                    serde_json::json!({ "error": KEY_REUSED, "code": MISMATCH_CODE,
                                        "idempotency_key": key.key }),
                )));
            }
            Ok(Begin::InProgress) => {
                let Some(notified) = notified else {
                    // Register for the wake-up first, then look again: a run finishing in
                    // between is not missed.
                    bump(&shared.counters.waits);
                    waiting.notify = Some(shared.waiter(&key));
                    continue;
                };
                let now = Instant::now();
                if now >= deadline {
                    return Err(Rejection::http(
                        StatusCode::SERVICE_UNAVAILABLE,
                        STILL_IN_PROGRESS,
                    ));
                }
                let pause = poll.min(deadline - now);
                tokio::select! {
                    () = notified => {}
                    () = tokio::time::sleep(pause) => {}
                }
                poll = (poll * 2).min(MAX_POLL);
            }
            Err(error) => {
                bump(&shared.counters.store_errors);
                tracing::warn!(target: crate::LOG_TARGET, %error, "idempotency store failed");
                return Err(Rejection::http(
                    StatusCode::SERVICE_UNAVAILABLE,
                    STORE_UNAVAILABLE,
                ));
            }
        }
    }
}

/// Runs the handler holding the claim, then stores its result or releases the key.
async fn run<S>(
    shared: &Arc<Shared>,
    inner: S,
    request: AsapRequest,
    key: IdempotencyKey,
    fingerprint: String,
) -> Result<Envelope, Rejection>
where
    S: Service<AsapRequest, Response = Envelope, Error = Rejection> + Send,
    S::Future: Send,
{
    let mut claim = Claim {
        shared: shared.clone(),
        key: Some(key),
    };
    let outcome = AssertUnwindSafe(async move { inner.oneshot(request).await })
        .catch_unwind()
        .await;
    let result = outcome.unwrap_or_else(|_| Err(Rejection::Rpc(RpcError::internal())));
    let Some(key) = claim.key.as_ref() else {
        return result;
    };
    if let Some(body) = stored_body(&result) {
        let response = StoredResponse { fingerprint, body };
        match shared.store.complete(key, &response, shared.ttl).await {
            Ok(()) => {
                if let Some(key) = claim.key.take() {
                    shared.wake(&key);
                }
                return result;
            }
            Err(error) => {
                tracing::warn!(target: crate::LOG_TARGET, %error, "idempotent response not stored");
            }
        }
    }
    claim.release().await;
    result
}

/// A claimed key: released when its run does not complete it, even when the request is
/// dropped mid-run.
struct Claim {
    shared: Arc<Shared>,
    key: Option<IdempotencyKey>,
}

impl Claim {
    async fn release(&mut self) {
        if let Some(key) = self.key.take() {
            bump(&self.shared.counters.releases);
            if let Err(error) = self.shared.store.release(&key).await {
                tracing::warn!(target: crate::LOG_TARGET, %error, "idempotency key not released");
            }
            self.shared.wake(&key);
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        bump(&self.shared.counters.releases);
        let shared = self.shared.clone();
        // Dropped mid-run (the request was cancelled): release in the background.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = shared.store.release(&key).await {
                    tracing::warn!(target: crate::LOG_TARGET, %error, "idempotency key not released");
                }
                shared.wake(&key);
            });
        }
    }
}

/// A duplicate's registration for the first run's wake-up, forgotten when it stops waiting.
struct Waiting<'a> {
    shared: &'a Shared,
    key: &'a IdempotencyKey,
    notify: Option<Arc<Notify>>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(notify) = &self.notify {
            self.shared.forget(self.key, notify);
        }
    }
}
