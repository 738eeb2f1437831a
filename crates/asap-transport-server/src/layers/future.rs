//! The futures shared by layers that either refuse at once or call the inner service.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;

use crate::rejection::Rejection;
use crate::response::Body;

pin_project_lite::pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<F, T> {
        Ready { value: Option<T> },
        Inner { #[pin] future: F },
    }
}

pin_project_lite::pin_project! {
    /// Response future of HTTP-level layers: a ready rejection response or the inner future.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F, Response<Body>>,
    }
}

impl<F> ResponseFuture<F> {
    /// Resolves to `response` without calling the inner service.
    pub fn rejected(response: Response<Body>) -> Self {
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

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Ready { value } => value.take().map_or(Poll::Pending, |r| Poll::Ready(Ok(r))),
            KindProj::Inner { future } => future.poll(cx),
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
