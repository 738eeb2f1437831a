//! Dispatch: the innermost envelope-level service.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use asap_codec::rpc::RpcError;
use asap_model::{AsapError, Envelope};
use asap_observability::observe::{HandlerEvent, Observer};
use asap_observability::redact::sanitize_str;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tower_service::Service;
use tracing::Instrument;

use super::handler::HandlerError;
use super::{BlockingPool, Entry, HandlerRegistry};
use crate::context::AsapRequest;
use crate::rejection::Rejection;

/// Looks up the handler of `payload_type` and runs it.
///
/// - no handler → `-32601` with the `payload_type` (checked first, like the reference);
/// - a known payload type whose payload fails its model → `-32602 Invalid envelope structure`
///   located under `payload` (the reference answers `-32603` from inside its handler);
/// - blocking handlers take a slot of the [`BlockingPool`] or get HTTP 503 at once;
/// - a handler error or panic → `-32603`, sanitized unless `debug` is on. A panic never
///   drops the connection.
#[derive(Clone)]
pub struct Dispatch {
    registry: Arc<HandlerRegistry>,
    pool: BlockingPool,
    debug: bool,
    validate_payloads: bool,
    observer: Option<Arc<dyn Observer>>,
}

impl std::fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatch")
            .field("registry", &self.registry)
            .field("pool", &self.pool)
            .field("debug", &self.debug)
            .field("validate_payloads", &self.validate_payloads)
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

impl Dispatch {
    /// A dispatcher over `registry` with the default blocking pool, production output and
    /// payload validation on.
    pub fn new(registry: HandlerRegistry) -> Self {
        Self {
            registry: Arc::new(registry),
            pool: BlockingPool::default(),
            debug: false,
            validate_payloads: true,
            observer: None,
        }
    }

    /// Uses `pool` for blocking handlers.
    #[must_use]
    pub fn with_pool(mut self, pool: BlockingPool) -> Self {
        self.pool = pool;
        self
    }

    /// Full error detail in `-32603` replies (`ASAP_DEBUG`).
    #[must_use]
    pub fn with_debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Whether payloads of the twelve known types are validated before the handler runs.
    #[must_use]
    pub fn with_payload_validation(mut self, on: bool) -> Self {
        self.validate_payloads = on;
        self
    }

    /// Reports each handler run (its payload type, whether it returned a response, its
    /// duration) to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Reports a run of the handler of `payload_type` that began at `started`.
    fn ran(&self, payload_type: &str, started: Instant, ok: bool) {
        if let Some(observer) = &self.observer {
            observer.on_handler(&HandlerEvent::new(payload_type, ok, started.elapsed()));
        }
    }

    /// The reply to a handler failure, logged in full first (credentials redacted) whatever
    /// the reply reveals.
    fn internal(&self, payload_type: &str, error: &HandlerError) -> Rejection {
        tracing::error!(
            target: crate::LOG_TARGET,
            payload_type,
            error = %sanitize_str(&error.to_string()),
            "handler failed"
        );
        match error {
            HandlerError::Rpc(e) => Rejection::Rpc(e.clone()),
            _ if self.debug => {
                let kind = match error {
                    HandlerError::Asap(e) => e.code.as_str().to_owned(),
                    _ => "HandlerError".to_owned(),
                };
                Rejection::Rpc(RpcError::internal_debug(&error.to_string(), &kind, ""))
            }
            _ => Rejection::Rpc(RpcError::internal()),
        }
    }

    /// The reply to a handler panic, logged in full first whatever the reply reveals.
    fn panicked(&self, payload_type: &str, payload: &(dyn std::any::Any + Send)) -> Rejection {
        let text = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("handler panicked");
        tracing::error!(
            target: crate::LOG_TARGET,
            payload_type,
            panic = %sanitize_str(text),
            "handler panicked"
        );
        if self.debug {
            Rejection::Rpc(RpcError::internal_debug(text, "Panic", ""))
        } else {
            Rejection::Rpc(RpcError::internal())
        }
    }
}

impl Service<AsapRequest> for Dispatch {
    type Response = Envelope;
    type Error = Rejection;
    type Future = BoxFuture<'static, Result<Envelope, Rejection>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: AsapRequest) -> Self::Future {
        let payload_type = request.envelope.payload_type.as_str();
        let Some((name, entry)) = self.registry.get(payload_type) else {
            let error = RpcError::handler_not_found(payload_type);
            return Box::pin(async move { Err(Rejection::Rpc(error)) });
        };
        // The registered name, for the log and the metrics of the run: the envelope it
        // matches moves into the handler.
        let (name, entry) = (name.clone(), entry.clone());
        let started = self.observer.is_some().then(Instant::now);
        // Parsing in place leaves the typed payload for the handler (no second parse).
        if self.validate_payloads
            && let Err(e) = request.envelope.type_payload()
        {
            return Box::pin(async move { Err(Rejection::Rpc(RpcError::invalid_envelope(&e))) });
        }
        let span = handler_span(&name, &request);
        let this = self.clone();
        let ran = move |this: &Dispatch, name: &str, ok: bool| {
            if let Some(started) = started {
                this.ran(name, started, ok);
            }
        };
        match entry {
            Entry::Async(handler) => Box::pin(
                async move {
                    let result = match AssertUnwindSafe(handler.call(request)).catch_unwind().await
                    {
                        Ok(Ok(envelope)) => Ok(envelope),
                        Ok(Err(error)) => Err(this.internal(&name, &error)),
                        Err(panic) => Err(this.panicked(&name, panic.as_ref())),
                    };
                    ran(&this, &name, result.is_ok());
                    result
                }
                .instrument(span),
            ),
            Entry::Blocking(handler) => {
                let Some(permit) = self.pool.try_acquire() else {
                    let error =
                        AsapError::thread_pool_exhausted(self.pool.active(), self.pool.max());
                    return Box::pin(async move { Err(Rejection::Unavailable(error)) });
                };
                let inside = span.clone();
                Box::pin(
                    async move {
                        let joined = tokio::task::spawn_blocking(move || {
                            let _permit = permit;
                            inside.in_scope(|| handler.call(request))
                        })
                        .await;
                        let result = match joined {
                            Ok(Ok(envelope)) => Ok(envelope),
                            Ok(Err(error)) => Err(this.internal(&name, &error)),
                            Err(join) if join.is_panic() => {
                                Err(this.panicked(&name, join.into_panic().as_ref()))
                            }
                            Err(_) => Err(Rejection::Rpc(RpcError::internal())),
                        };
                        ran(&this, &name, result.is_ok());
                        result
                    }
                    .instrument(span),
                )
            }
        }
    }
}

/// The span of a handler run, `asap.handler.execute` with the attributes of PROTOCOL §14.3
/// (`asap.agent.urn` is the envelope's recipient: the agent it was accepted for), whose
/// parent may be the envelope's own trace fields (see `crate::otel`).
fn handler_span(payload_type: &str, request: &AsapRequest) -> tracing::Span {
    let envelope = &request.envelope;
    let span = tracing::info_span!(
        target: crate::LOG_TARGET,
        "asap.handler.execute",
        asap.payload_type = payload_type,
        asap.agent.urn = %envelope.recipient,
        asap.envelope.id = %envelope.id,
    );
    crate::otel::set_envelope_parent(&span, &request.ctx.trace, &request.ctx.headers);
    span
}
