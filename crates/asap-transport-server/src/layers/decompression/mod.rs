//! Request decompression (PROTOCOL §10.2–§10.3, steps 3–5 of the processing order).
//!
//! - `Content-Encoding` other than `gzip`, `br`, `identity` or empty → 415;
//! - the body is read (a [`BodyLimit`](super::body_limit::BodyLimit) in front turns an
//!   over-long body into 413);
//! - gzip/brotli bodies are inflated with a cap of `max` bytes, streaming, so a bomb stops at
//!   `max + 1` bytes → 413; corrupt data → 400.
//!
//! The inner service receives the plain body as `Full<Bytes>`, without `Content-Encoding`.

mod layer;

use std::task::{Context, Poll};

use asap_codec::compression::{DecompressError, Encoding, decompress_slice};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, Full};
use tower_service::Service;

pub use layer::DecompressionLayer;

use crate::endpoint::body_error;
use crate::registry::BoxError;
use crate::rejection::Rejection;
use crate::response::Body;

/// Reads and decompresses request bodies; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Decompression<S> {
    inner: S,
    max: usize,
}

impl<S> Decompression<S> {
    /// Wraps `inner`; inflated bodies may be at most `max` bytes.
    pub fn new(inner: S, max: usize) -> Self {
        Self { inner, max }
    }
}

fn content_encoding(headers: &http::HeaderMap) -> Result<Encoding, Rejection> {
    let mut values = headers.get_all(header::CONTENT_ENCODING).iter();
    let raw = match (values.next(), values.next()) {
        (None, _) => return Ok(Encoding::Identity),
        (Some(v), None) => v.to_str().unwrap_or("\u{fffd}").to_owned(),
        (Some(a), Some(b)) => format!(
            "{}, {}",
            a.to_str().unwrap_or_default(),
            b.to_str().unwrap_or_default()
        ),
    };
    Encoding::from_content_encoding(&raw)
        .map_err(|e| Rejection::http(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string()))
}

fn decompress_error(error: DecompressError) -> Rejection {
    let status = match error {
        DecompressError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        DecompressError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    Rejection::http(status, error.to_string())
}

impl<S, B> Service<Request<B>> for Decompression<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let encoding = match content_encoding(request.headers()) {
            Ok(encoding) => encoding,
            Err(rejection) => {
                let response = rejection.into_response(None);
                return Box::pin(async move { Ok(response) });
            }
        };
        // The clone is ready (it is a clone of a service whose readiness we just reported);
        // swap it in so the ready one is used, the tower idiom for boxed futures.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let max = self.max;
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) => return Ok(body_error(e.into()).into_response(None)),
            };
            let bytes = if encoding.is_identity() {
                bytes
            } else {
                match decompress_slice(encoding, &bytes, max).await {
                    Ok(plain) => Bytes::from(plain),
                    Err(e) => return Ok(decompress_error(e).into_response(None)),
                }
            };
            parts.headers.remove(header::CONTENT_ENCODING);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            inner
                .call(Request::from_parts(parts, Full::new(bytes)))
                .await
        })
    }
}
