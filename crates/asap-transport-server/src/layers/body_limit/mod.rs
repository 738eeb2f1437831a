//! Request size limit (PROTOCOL §10.3, checks 1 and 2).
//!
//! A declared `Content-Length` above the limit is refused at once with 413; otherwise the
//! body is wrapped so that reading more than the limit fails with [`BodyTooLarge`], which the
//! reader turns into the same 413 ([`Rejection::from_body_error`]). Exactly `max` bytes are
//! allowed.
//!
//! The layer is generic over request and response bodies: it wraps an axum `Router` or any
//! hyper service as well as this crate's endpoint. Its own 413 travels in a
//! [`ResponseBody`].

mod body;
mod layer;

use std::task::{Context, Poll};

use http::{Request, Response, StatusCode, header};
use tower_service::Service;

pub use body::{BodyTooLarge, LimitedBody};
pub use layer::BodyLimitLayer;

use super::future::ResponseFuture;
use super::response_body::ResponseBody;
use crate::rejection::Rejection;

/// Enforces a maximum request body size; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct BodyLimit<S> {
    inner: S,
    max: usize,
}

impl<S> BodyLimit<S> {
    /// Wraps `inner` with a limit of `max` bytes.
    pub fn new(inner: S, max: usize) -> Self {
        Self { inner, max }
    }
}

impl<S, B, ResBody> Service<Request<B>> for BodyLimit<S>
where
    S: Service<Request<LimitedBody<B>>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(length) = declared.filter(|l| *l > self.max as u64) {
            let detail = BodyTooLarge {
                received: length,
                limit: self.max,
            }
            .to_string();
            return ResponseFuture::own(
                Rejection::http(StatusCode::PAYLOAD_TOO_LARGE, detail).into_response(None),
            );
        }
        let max = self.max;
        ResponseFuture::inner(self.inner.call(request.map(|b| LimitedBody::new(b, max))))
    }
}
