//! Response compression.
//!
//! Responses of at least `threshold` bytes (default 1 KiB, known from the body's exact size
//! hint) are compressed with one of the [offered codings](response_encodings) when the
//! request's `Accept-Encoding` allows it (q-values honoured, the first offered coding
//! preferred on ties), and only when the result is smaller. `Vary: Accept-Encoding` is added
//! and a strong `ETag` gets the coding appended (`"tag"` → `"tag-br"`); the manifest route
//! matches a conditional request carrying either tag.
//! Requests without `Accept-Encoding`, or allowing only `identity`, are not touched and cost
//! no allocation. The reference server never compresses; its clients send
//! `Accept-Encoding: br, gzip, identity` and decompress transparently.
//!
//! `asap-zstd-v1` (feature `zstd`) goes only to clients that name it in `Accept-Encoding`
//! (asap-rs clients of a `zstd` build); their responses, and only theirs, also carry an
//! `Accept-Encoding` header saying the server decodes it in requests (RFC 7694).
//!
//! Each compressed reply is reported to the observer, if any
//! ([`Observer::on_coding`]: its size
//! before and after).
//!
//! The layer is generic over request and response bodies (the response's must carry
//! `Bytes`), so it can wrap an axum `Router` or any hyper service; bodies without an exact
//! size (streams) pass through.

mod body;
mod future;
mod layer;

use std::sync::Arc;
use std::task::{Context, Poll};

use asap_codec::compression::{
    Encoding, advertised_request_encodings, compress, negotiate, peer_encodings,
};
use asap_observability::observe::{BodyKind, Observer};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body::Body;
use http_body_util::BodyExt;
use tower_service::Service;

pub use body::CompressionBody;
pub use future::CompressionFuture;
pub use layer::ResponseCompressionLayer;

use crate::observe::Observation;

/// Compresses large responses; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct ResponseCompression<S> {
    inner: S,
    threshold: Option<usize>,
    observation: Option<Observation>,
}

impl<S> ResponseCompression<S> {
    /// Wraps `inner`; bodies of at least `threshold` bytes are compressed, none when `None`.
    pub fn new(inner: S, threshold: Option<usize>) -> Self {
        Self {
            inner,
            threshold,
            observation: None,
        }
    }

    /// Reports each compressed reply to `observer`.
    pub fn with_observer(self, observer: Arc<dyn Observer>) -> Self {
        self.observed(Some(Observation::new(observer, [])))
    }

    pub(crate) fn observed(mut self, observation: Option<Observation>) -> Self {
        self.observation = observation;
        self
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// The response codings offered, most preferred first: the one place that decides which
/// codings the server may answer with. `asap-zstd-v1` (feature `zstd`) comes first but is
/// chosen only for a request that names it, which only asap-rs clients of a `zstd` build do
/// (`docs/adr/0003-zstd-dictionary-coding.md`).
pub fn response_encodings() -> &'static [Encoding] {
    peer_encodings()
}

/// The `Accept-Encoding` response header (RFC 7694) telling an asap-rs client of a `zstd`
/// build that `asap-zstd-v1` request bodies are decoded here; `None` for every other
/// client, whose responses stay as without the feature ([`advertised_request_encodings`]).
/// Added whether or not response compression is on.
fn request_encodings_advert(headers: &http::HeaderMap) -> Option<&'static str> {
    advertised_request_encodings(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    )
}

fn chosen_encoding(headers: &http::HeaderMap) -> Encoding {
    let Some(accept) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return Encoding::Identity;
    };
    negotiate(accept, response_encodings())
}

/// Whether `response` is worth compressing with `encoding`.
fn qualifies<B: Body>(response: &Response<B>, encoding: Encoding, threshold: usize) -> bool {
    !encoding.is_identity()
        && response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|len| len >= threshold as u64)
        && !response.headers().contains_key(header::CONTENT_ENCODING)
}

async fn compress_response<B>(
    response: Response<B>,
    encoding: Encoding,
    observation: Option<Observation>,
) -> Response<CompressionBody<B>>
where
    B: Body<Data = Bytes>,
{
    let (mut parts, body) = response.into_parts();
    let plain = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Response::from_parts(parts, CompressionBody::failed(error)),
    };
    let compressed = match compress(encoding, &plain).await {
        Ok(c) if c.len() < plain.len() => c,
        _ => return Response::from_parts(parts, CompressionBody::compressed(plain)),
    };
    if let Some(observation) = observation {
        observation.coded(BodyKind::Response, encoding, compressed.len(), plain.len());
    }
    let headers = &mut parts.headers;
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.as_str()),
    );
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(compressed.len()));
    crate::etag::tag_encoded(headers, encoding);
    Response::from_parts(parts, CompressionBody::compressed(Bytes::from(compressed)))
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ResponseCompression<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Send,
{
    type Response = Response<CompressionBody<ResBody>>;
    type Error = S::Error;
    type Future = CompressionFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (encoding, threshold) = match self.threshold {
            Some(threshold) => (chosen_encoding(request.headers()), threshold),
            None => (Encoding::Identity, usize::MAX),
        };
        let advert = request_encodings_advert(request.headers());
        let observation = if encoding.is_identity() {
            None
        } else {
            self.observation.clone()
        };
        CompressionFuture::new(
            self.inner.call(request),
            (encoding, threshold),
            advert,
            observation,
        )
    }
}
