//! The assembled server as one opaque `tower::Service`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use tower_service::Service;

use super::Assembled as Stack;
use crate::endpoint::EndpointFuture;
use crate::layers::ResponseBody;
use crate::layers::access_log::AccessLogFuture;
use crate::layers::body_limit::LimitedBody;
use crate::layers::compression::{CompressionBody, CompressionFuture};
use crate::layers::decompression::DecompressionBody;
use crate::layers::future::ResponseFuture;
use crate::registry::BoxError;
use crate::routes::Readiness;

/// The body type every layer of the stack wraps around the endpoint's.
type StackBody =
    CompressionBody<ResponseBody<ResponseBody<ResponseBody<ResponseBody<Full<Bytes>>>>>>;

/// The RPC-level service behind the endpoint.
type Rpc = super::Authenticated;

/// The stack's future for a request body `B`.
type StackFuture<B> = AccessLogFuture<
    CompressionFuture<
        ResponseFuture<
            ResponseFuture<
                ResponseFuture<
                    ResponseFuture<EndpointFuture<Rpc, DecompressionBody<LimitedBody<B>>>>,
                >,
            >,
        >,
        ResponseBody<ResponseBody<ResponseBody<ResponseBody<Full<Bytes>>>>>,
    >,
>;

/// The whole server (routes, every protocol layer, response compression) as a
/// `tower::Service<http::Request<B>>` for any request body `B`: mount it in an axum
/// `Router` or serve it on a hyper connection.
///
/// It never fails (`Error = Infallible`), is `Clone + Send + Sync`, and answers with a
/// [`ServerBody`]. The layers inside are not part of its type, so their order and number
/// can change without breaking code that names it.
#[derive(Debug, Clone)]
pub struct ServerService {
    inner: Stack,
}

impl ServerService {
    pub(super) fn new(inner: Stack) -> Self {
        Self { inner }
    }

    /// Readiness of `/ready`: the accept loop sets it; when the service is mounted in another
    /// server, call `set_ready(true)` once that server listens.
    pub fn readiness(&self) -> &Readiness {
        self.inner.get_ref().get_ref().readiness()
    }
}

impl<B> Service<Request<B>> for ServerService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ServerBody>;
    type Error = Infallible;
    type Future = ServerFuture<B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        <Stack as Service<Request<B>>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ServerFuture {
            inner: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`ServerService`].
    pub struct ServerFuture<B>
    where
        B: Body,
        B: Send,
        B: 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        #[pin]
        inner: StackFuture<B>,
    }
}

impl<B> std::fmt::Debug for ServerFuture<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerFuture").finish_non_exhaustive()
    }
}

impl<B> Future for ServerFuture<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ServerBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll(cx)
            .map(|result| result.map(|r| r.map(|inner| ServerBody { inner })))
    }
}

pin_project_lite::pin_project! {
    /// The response body of [`ServerService`]: `Bytes` frames, never an error.
    pub struct ServerBody {
        #[pin]
        inner: StackBody,
    }
}

impl std::fmt::Debug for ServerBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBody")
            .field("size_hint", &self.inner.size_hint())
            .finish()
    }
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
