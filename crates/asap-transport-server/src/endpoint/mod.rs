//! `POST /asap`: JSON-RPC framing around the RPC-level and envelope-level services.

mod envelopes;
mod future;

use std::convert::Infallible;
use std::task::{Context, Poll};

use asap_model::Envelope;
use http::{Request, Response};
use http_body::Body as HttpBody;
use http_body_util::BodyExt;
use tower_service::Service;

pub use envelopes::Envelopes;
pub use future::EndpointFuture;
pub(crate) use future::body_size;

use crate::context::RpcCall;
use crate::observe::Observation;
use crate::registry::BoxError;
use crate::rejection::Rejection;
use crate::response::Body;

/// Turns HTTP requests into [`RpcCall`]s for the RPC-level service `R` and its results into
/// JSON-RPC replies.
///
/// Steps, in the protocol's order: read the body (the only place it is read; a body error
/// such as an over-long or corrupt body is answered through
/// [`Rejection::from_body_error`]), decode the JSON-RPC framing (parse error, invalid request,
/// method not found), then call `R` with the decoded call. `R` is typically
/// [`Auth`](crate::layers::auth::Auth) (which may refuse the call) around [`Envelopes`]
/// (which refuses a missing or invalid envelope) around the envelope-level stack.
/// Successful responses get trace ids injected (PROTOCOL §14.3). Each answer is logged as
/// `asap.request.processed` or `asap.request.error` (PROTOCOL §14.2, see `LOG_TARGET`).
///
/// `poll_ready` is `R`'s; the ready service is the one the request is given to.
#[derive(Debug, Clone)]
pub struct RpcEndpoint<R> {
    inner: R,
    /// The inner service's readiness error, answered to the next request.
    refused: Option<Rejection>,
    /// Who hears of each answered request.
    observation: Option<Observation>,
    /// Whether request and response envelopes are logged (`ASAP_DEBUG_LOG`).
    debug_log: bool,
}

impl<S> RpcEndpoint<Envelopes<S>> {
    /// An endpoint in front of the envelope-level service `inner`, without RPC-level layers.
    pub fn new(inner: S) -> Self {
        Self::from_rpc(Envelopes::new(inner))
    }
}

impl<R> RpcEndpoint<R> {
    /// An endpoint in front of the RPC-level service `inner`.
    pub fn from_rpc(inner: R) -> Self {
        Self {
            inner,
            refused: None,
            observation: None,
            debug_log: false,
        }
    }

    /// Logs every request and response envelope, sanitized (`ASAP_DEBUG_LOG`, PROTOCOL
    /// §11.6), at info under [`LOG_TARGET`](crate::LOG_TARGET).
    #[must_use]
    pub fn with_debug_log(mut self, on: bool) -> Self {
        self.debug_log = on;
        self
    }

    /// Reports every answered request to `observation`.
    pub(crate) fn observed(mut self, observation: Option<Observation>) -> Self {
        self.observation = observation;
        self
    }
}

impl<R, B> Service<Request<B>> for RpcEndpoint<R>
where
    R: Service<RpcCall, Response = Envelope, Error = Rejection> + Clone,
    B: HttpBody,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = EndpointFuture<R, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The endpoint never fails: a refusal of the inner service is the answer to the next
        // request.
        if self.refused.is_some() {
            return Poll::Ready(Ok(()));
        }
        match self.inner.poll_ready(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(rejection)) => {
                self.refused = Some(rejection);
                Poll::Ready(Ok(()))
            }
        }
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if let Some(rejection) = self.refused.take() {
            let outcome = crate::observe::Observation::outcome(Err(&rejection));
            if let Some(logged) = crate::events::Logged::start(false) {
                logged.rejected(&rejection);
            }
            let response = rejection.into_response(None);
            if let Some(observation) = &self.observation {
                observation.respond(
                    crate::observe::OTHER,
                    std::time::Instant::now(),
                    outcome,
                    (None, future::body_size(&response)),
                );
            }
            return EndpointFuture::answered(response);
        }
        // The ready service goes into the future; a clone stays for the next request.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let (parts, body) = request.into_parts();
        EndpointFuture::new(
            parts,
            body.collect(),
            inner,
            self.observation.as_ref(),
            self.debug_log,
        )
    }
}
