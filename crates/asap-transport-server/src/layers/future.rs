//! The futures shared by layers that either refuse at once or call the inner service.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use http_body_util::Full;

use super::response_body::ResponseBody;
use crate::rejection::Rejection;

pin_project_lite::pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<F, T> {
        Ready { value: Option<T> },
        Inner { #[pin] future: F },
    }
}

pin_project_lite::pin_project! {
    /// Response future of HTTP-level layers: a response the layer wrote itself, or the inner
    /// service's future, its body wrapped in [`ResponseBody`].
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F, Response<Full<Bytes>>>,
    }
}

impl<F> ResponseFuture<F> {
    /// Resolves to `response` without calling the inner service.
    pub fn own(response: Response<Full<Bytes>>) -> Self {
        Self {
            kind: Kind::Ready {
                value: Some(response),
            },
        }
    }

    /// Drives the inner service's future.
    pub fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Ready { value } => value
                .take()
                .map_or(Poll::Pending, |r| Poll::Ready(Ok(r.map(ResponseBody::own)))),
            KindProj::Inner { future } => future
                .poll(cx)
                .map(|result| result.map(|r| r.map(ResponseBody::inner))),
        }
    }
}

pin_project_lite::pin_project! {
    /// Future of envelope-level layers: a ready [`Rejection`] or the inner future.
    #[derive(Debug)]
    pub struct EnvelopeFuture<F> {
        #[pin]
        kind: Kind<F, Rejection>,
    }
}

impl<F> EnvelopeFuture<F> {
    /// Resolves to `Err(rejection)` without calling the inner service.
    pub fn rejected(rejection: Rejection) -> Self {
        Self {
            kind: Kind::Ready {
                value: Some(rejection),
            },
        }
    }

    /// Drives the inner service's future.
    pub fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }
}

impl<F, T> Future for EnvelopeFuture<F>
where
    F: Future<Output = Result<T, Rejection>>,
{
    type Output = Result<T, Rejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Ready { value } => {
                value.take().map_or(Poll::Pending, |r| Poll::Ready(Err(r)))
            }
            KindProj::Inner { future } => future.poll(cx),
        }
    }
}
