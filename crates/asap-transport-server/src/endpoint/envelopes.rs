use std::task::{Context, Poll};

use tower_service::Service;

use crate::context::{AsapRequest, RpcCall};
use crate::layers::future::EnvelopeFuture;
use crate::rejection::Rejection;

/// The step from the RPC level to the envelope level: refuses a call whose envelope is
/// missing or invalid (`-32602`, the error decoding produced) and hands a valid one to the
/// envelope-level service `S` as an [`AsapRequest`], logging `asap.request.received`
/// (PROTOCOL §14.2) for it.
#[derive(Debug, Clone)]
pub struct Envelopes<S> {
    inner: S,
}

impl<S> Envelopes<S> {
    /// Wraps an envelope-level service.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S> Service<RpcCall> for Envelopes<S>
where
    S: Service<AsapRequest, Error = Rejection>,
{
    type Response = S::Response;
    type Error = Rejection;
    type Future = EnvelopeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: RpcCall) -> Self::Future {
        match call.envelope {
            Ok(envelope) => {
                crate::events::received(&envelope, &call.ctx);
                EnvelopeFuture::inner(self.inner.call(AsapRequest::new(envelope, call.ctx)))
            }
            Err(error) => EnvelopeFuture::rejected(Rejection::Rpc(error)),
        }
    }
}
