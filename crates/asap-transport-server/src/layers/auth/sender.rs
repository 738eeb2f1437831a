use std::task::{Context, Poll};

use asap_codec::rpc::RpcError;
use tower_layer::Layer;
use tower_service::Service;

use crate::context::AsapRequest;
use crate::layers::future::EnvelopeFuture;
use crate::rejection::Rejection;

/// Refuses envelopes whose `sender` is not the authenticated identity (`-32602`, 403).
/// Requests without an identity (authentication off) pass.
#[derive(Debug, Clone)]
pub struct SenderMatch<S> {
    inner: S,
}

impl<S> SenderMatch<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S> Service<AsapRequest> for SenderMatch<S>
where
    S: Service<AsapRequest, Error = Rejection>,
{
    type Response = S::Response;
    type Error = Rejection;
    type Future = EnvelopeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: AsapRequest) -> Self::Future {
        if let Some(identity) = &request.ctx.identity
            && *identity != request.envelope.sender
        {
            return EnvelopeFuture::rejected(Rejection::Rpc(RpcError::sender_mismatch()));
        }
        EnvelopeFuture::inner(self.inner.call(request))
    }
}

/// Applies [`SenderMatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SenderMatchLayer;

impl<S> Layer<S> for SenderMatchLayer {
    type Service = SenderMatch<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SenderMatch::new(inner)
    }
}
