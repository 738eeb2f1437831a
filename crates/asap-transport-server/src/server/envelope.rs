//! The innermost envelope-level service of an assembled server, and the hook that wraps it.

use std::task::{Context, Poll};

use asap_model::Envelope;
use futures_util::future::BoxFuture;
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

use crate::context::AsapRequest;
use crate::registry::Dispatch;
use crate::rejection::Rejection;

/// The service an envelope-level hook ([`AsapServerBuilder::envelope_layer`]) wraps: the
/// handler dispatch, behind any hooks added before.
///
/// It sits after every envelope check of the protocol (sender, timestamp, nonce, per-sender
/// rate limit), so a hook sees only envelopes that will be dispatched, and before the
/// handler, so it can answer instead of it (an idempotency cache) or measure it.
///
/// [`AsapServerBuilder::envelope_layer`]: super::AsapServerBuilder::envelope_layer
#[derive(Clone)]
pub struct EnvelopeService {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Dispatch(Dispatch),
    Hooked(BoxCloneSyncService<AsapRequest, Envelope, Rejection>),
}

impl std::fmt::Debug for EnvelopeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Dispatch(dispatch) => f.debug_tuple("EnvelopeService").field(dispatch).finish(),
            Inner::Hooked(_) => f.write_str("EnvelopeService(hooked)"),
        }
    }
}

impl EnvelopeService {
    pub(super) fn dispatch(dispatch: Dispatch) -> Self {
        Self {
            inner: Inner::Dispatch(dispatch),
        }
    }
}

impl Service<AsapRequest> for EnvelopeService {
    type Response = Envelope;
    type Error = Rejection;
    type Future = BoxFuture<'static, Result<Envelope, Rejection>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        match &mut self.inner {
            Inner::Dispatch(dispatch) => dispatch.poll_ready(cx),
            Inner::Hooked(hooked) => hooked.poll_ready(cx),
        }
    }

    fn call(&mut self, request: AsapRequest) -> Self::Future {
        match &mut self.inner {
            Inner::Dispatch(dispatch) => dispatch.call(request),
            Inner::Hooked(hooked) => hooked.call(request),
        }
    }
}

/// One envelope-level hook, type-erased so that the server's type does not depend on it.
pub(super) type Hook = Box<dyn Fn(EnvelopeService) -> EnvelopeService + Send + Sync>;

/// Erases `layer`: the service it makes is boxed (per request, one allocation for its future
/// and one for the clone the endpoint takes: the price of keeping the hook out of
/// [`ServerService`](super::ServerService)'s type).
pub(super) fn hook<L>(layer: L) -> Hook
where
    L: Layer<EnvelopeService> + Send + Sync + 'static,
    L::Service: Service<AsapRequest, Response = Envelope, Error = Rejection>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as Service<AsapRequest>>::Future: Send + 'static,
{
    Box::new(move |inner| EnvelopeService {
        inner: Inner::Hooked(BoxCloneSyncService::new(layer.layer(inner))),
    })
}
