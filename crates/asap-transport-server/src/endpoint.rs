//! `POST /asap`: JSON-RPC framing around the envelope-level service stack.

use std::convert::Infallible;
use std::task::{Context, Poll};

use asap_codec::rpc::{decode_request, encode_error, encode_success};
use asap_model::Envelope;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response, StatusCode};
use http_body::Body as HttpBody;
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_service::Service;

use crate::context::{AsapRequest, PeerAddr, RequestContext};
use crate::layers::auth::AuthOutcome;
use crate::layers::body_limit::BodyTooLarge;
use crate::registry::BoxError;
use crate::rejection::Rejection;
use crate::response::{self, Body};
use crate::trace::TraceContext;

/// Turns HTTP requests into [`AsapRequest`]s for `S` and its results into JSON-RPC replies.
///
/// Steps, in the protocol's order: read the body, decode the JSON-RPC framing (parse error,
/// invalid request, method not found), apply the authentication outcome left by
/// [`AuthLayer`](crate::layers::auth::AuthLayer) if any, reject a missing or invalid
/// envelope, then call `S`. Successful responses get trace ids injected (PROTOCOL §14.3).
#[derive(Debug, Clone)]
pub struct RpcEndpoint<S> {
    inner: S,
}

impl<S> RpcEndpoint<S> {
    /// Wraps an envelope-level service.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, B> Service<Request<B>> for RpcEndpoint<S>
where
    S: Service<AsapRequest, Response = Envelope, Error = Rejection> + Clone + Send + 'static,
    S::Future: Send,
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { Ok(handle(inner, request).await) })
    }
}

/// Maps a body read error to its HTTP rejection (413 for an over-long body).
pub(crate) fn body_error(error: BoxError) -> Rejection {
    match error.downcast::<BodyTooLarge>() {
        Ok(too_large) => Rejection::http(StatusCode::PAYLOAD_TOO_LARGE, too_large.to_string()),
        Err(other) => Rejection::http(
            StatusCode::BAD_REQUEST,
            format!("Failed to read request body: {other}"),
        ),
    }
}

async fn handle<S, B>(inner: S, request: Request<B>) -> Response<Body>
where
    S: Service<AsapRequest, Response = Envelope, Error = Rejection>,
    B: HttpBody,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let bytes: Bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return body_error(e.into()).into_response(None),
    };
    let call = match decode_request(&bytes) {
        Ok(call) => call,
        Err(error) => return response::json(StatusCode::OK, encode_error(&error)),
    };
    let identity = match parts.extensions.remove::<AuthOutcome>() {
        Some(AuthOutcome::Rejected(error)) => {
            return Rejection::Rpc(error).into_response(Some(call.id));
        }
        Some(AuthOutcome::Authenticated(identity)) => Some(identity.0),
        None => None,
    };
    let envelope = match call.envelope {
        Ok(envelope) => envelope,
        Err(error) => return Rejection::Rpc(error).into_response(Some(call.id)),
    };
    let trace = TraceContext::from_request(&envelope, &parts.headers);
    let mut ctx = RequestContext::with_trace(parts.headers, trace.clone());
    ctx.peer_addr = parts.extensions.get::<PeerAddr>().map(|p| p.0);
    ctx.identity = identity;
    match inner.oneshot(AsapRequest::new(envelope, ctx)).await {
        Ok(mut reply) => {
            trace.inject(&mut reply);
            response::json(StatusCode::OK, encode_success(&call.id, &reply))
        }
        Err(rejection) => rejection.into_response(Some(call.id)),
    }
}
