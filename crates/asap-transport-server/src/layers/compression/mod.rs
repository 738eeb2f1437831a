//! Response compression.
//!
//! Responses of at least `threshold` bytes (default 1 KiB) are compressed with brotli or gzip
//! when the request's `Accept-Encoding` allows it (q-values honoured, brotli preferred on
//! ties), and only when the result is smaller. `Vary: Accept-Encoding` is added, and a strong
//! `ETag` gets the encoding appended (`"…-br"`) so caches keep the representations apart.
//! Requests without `Accept-Encoding`, or allowing only `identity`, are not touched and cost
//! no allocation. The reference server never compresses; its clients send
//! `Accept-Encoding: br, gzip, identity` and decompress transparently.

mod layer;

use std::task::{Context, Poll};

use asap_codec::compression::{Encoding, compress, negotiate, supported_encodings};
use bytes::Bytes;
use futures_util::future::{BoxFuture, Either};
use http::{HeaderValue, Request, Response, header};
use http_body::Body as _;
use http_body_util::{BodyExt, Full};
use tower_service::Service;

pub use layer::ResponseCompressionLayer;

use crate::response::Body;

/// Compresses large responses; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct ResponseCompression<S> {
    inner: S,
    threshold: Option<usize>,
}

impl<S> ResponseCompression<S> {
    /// Wraps `inner`; bodies of at least `threshold` bytes are compressed, none when `None`.
    pub fn new(inner: S, threshold: Option<usize>) -> Self {
        Self { inner, threshold }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

fn chosen_encoding(headers: &http::HeaderMap) -> Encoding {
    let Some(accept) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return Encoding::Identity;
    };
    negotiate(accept, supported_encodings())
}

async fn compress_response(
    response: Response<Body>,
    encoding: Encoding,
    threshold: usize,
) -> Response<Body> {
    let big_enough = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|len| len as usize >= threshold);
    if !big_enough || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await;
    let plain = collected.to_bytes();
    let compressed = match compress(encoding, &plain).await {
        Ok(c) if c.len() < plain.len() => c,
        _ => return Response::from_parts(parts, Full::new(plain)),
    };
    let headers = &mut parts.headers;
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.as_str()),
    );
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(compressed.len()));
    let tagged = headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .and_then(|etag| etag.strip_prefix('"')?.strip_suffix('"'))
        .and_then(|inner| {
            HeaderValue::from_str(&format!("\"{inner}-{}\"", encoding.as_str())).ok()
        });
    if let Some(tagged) = tagged {
        headers.insert(header::ETAG, tagged);
    }
    Response::from_parts(parts, Full::new(Bytes::from(compressed)))
}

impl<S, B> Service<Request<B>> for ResponseCompression<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let Some(threshold) = self.threshold else {
            return Either::Left(self.inner.call(request));
        };
        let encoding = chosen_encoding(request.headers());
        let future = self.inner.call(request);
        if encoding.is_identity() {
            return Either::Left(future);
        }
        Either::Right(Box::pin(async move {
            let response = future.await?;
            Ok(compress_response(response, encoding, threshold).await)
        }))
    }
}
