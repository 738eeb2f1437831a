//! `asap serve --debug` also serves the trace viewer's page and API (PROTOCOL §14.4) under
//! [`TRACES_PATH`]: a layer in front of the agent's service, a pass-through without
//! `--debug`.

use std::convert::Infallible;
use std::task::{Context, Poll};

use asap_observability::trace_view::web::{TraceUi, TraceUiFuture};
use bytes::Bytes;
use futures_util::future::{Either, FutureExt, Map};
use http::{Request, Response};
use http_body_util::{Either as EitherBody, Full};
use hyper::body::Incoming;
use tower_service::Service;

/// Where the viewer is mounted.
pub(crate) const TRACES_PATH: &str = "/asap/traces";

/// A layer mounting the viewer when `ui` is set.
#[derive(Clone)]
pub(crate) struct TraceUiLayer(pub(crate) Option<TraceUi>);

impl<S> tower_layer::Layer<S> for TraceUiLayer {
    type Service = WithTraceUi<S>;

    fn layer(&self, inner: S) -> WithTraceUi<S> {
        WithTraceUi {
            inner,
            ui: self.0.clone(),
        }
    }
}

/// The agent's service, with the viewer under [`TRACES_PATH`] when set.
#[derive(Clone)]
pub(crate) struct WithTraceUi<S> {
    inner: S,
    ui: Option<TraceUi>,
}

type Body<B> = EitherBody<B, Full<Bytes>>;
type Left<B> = fn(Result<Response<B>, Infallible>) -> Result<Response<Body<B>>, Infallible>;
type Right<B> =
    fn(Result<Response<Full<Bytes>>, Infallible>) -> Result<Response<Body<B>>, Infallible>;

fn left<B>(result: Result<Response<B>, Infallible>) -> Result<Response<Body<B>>, Infallible> {
    result.map(|r| r.map(EitherBody::Left))
}

fn right<B>(
    result: Result<Response<Full<Bytes>>, Infallible>,
) -> Result<Response<Body<B>>, Infallible> {
    result.map(|r| r.map(EitherBody::Right))
}

/// Whether `path` is the viewer's.
fn is_viewer(path: &str) -> bool {
    path.strip_prefix(TRACES_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl<S, B> Service<Request<Incoming>> for WithTraceUi<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>,
{
    type Response = Response<Body<B>>;
    type Error = Infallible;
    type Future = Either<Map<S::Future, Left<B>>, Map<TraceUiFuture, Right<B>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        match &mut self.ui {
            Some(ui) if is_viewer(request.uri().path()) => {
                Either::Right(ui.call(request).map(right::<B> as Right<B>))
            }
            _ => Either::Left(self.inner.call(request).map(left::<B> as Left<B>)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_viewer;

    #[test]
    fn the_viewer_owns_its_path_only() {
        assert!(is_viewer("/asap/traces"));
        assert!(is_viewer("/asap/traces/"));
        assert!(is_viewer("/asap/traces/api/traces/list"));
        assert!(!is_viewer("/asap/tracesx"));
        assert!(!is_viewer("/asap"));
        assert!(!is_viewer("/asap/metrics"));
    }
}
