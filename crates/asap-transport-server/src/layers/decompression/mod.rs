//! Request decompression (PROTOCOL §10.2–§10.3, steps 3 and 5 of the processing order).
//!
//! - `Content-Encoding` other than the [accepted codings](accepted_encoding) → 415 at once;
//! - otherwise the request goes on with its body wrapped in a [`DecompressionBody`] and
//!   without `Content-Encoding` and `Content-Length` (the inflated length is not known
//!   before the body is read). Whoever reads the body gets the plain bytes, or an error of
//!   the body stream: inflated size over `max` → 413, corrupt data → 400
//!   ([`Rejection::from_body_error`]). Inflating streams from the received frames, so a
//!   bomb stops at `max + 1` bytes.
//!
//! Each inflated body is reported to the observer, if any
//! ([`Observer::on_coding`]: its size
//! received and inflated).
//!
//! Nothing is read here: the layer only wraps the body, the way tower-http's decompression
//! does, so the body is read once, by the endpoint (or by the host application's handler).
//! The layer is generic over request and response bodies; its own 415 travels in a
//! [`ResponseBody`].

mod body;
mod layer;
mod reader;

use std::sync::Arc;
use std::task::{Context, Poll};

use asap_codec::compression::Encoding;
use asap_observability::observe::Observer;
use http::{Request, Response, StatusCode, header};
use tower_service::Service;

pub use body::DecompressionBody;
pub use layer::DecompressionLayer;

use super::future::ResponseFuture;
use super::response_body::ResponseBody;
use crate::observe::Observation;
use crate::rejection::Rejection;

/// Decompresses request bodies; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Decompression<S> {
    inner: S,
    max: usize,
    observation: Option<Observation>,
}

impl<S> Decompression<S> {
    /// Wraps `inner`; inflated bodies may be at most `max` bytes.
    pub fn new(inner: S, max: usize) -> Self {
        Self {
            inner,
            max,
            observation: None,
        }
    }

    /// Reports each inflated body to `observer`.
    pub fn with_observer(self, observer: Arc<dyn Observer>) -> Self {
        self.observed(Some(Observation::new(observer, [])))
    }

    pub(crate) fn observed(mut self, observation: Option<Observation>) -> Self {
        self.observation = observation;
        self
    }
}

/// The coding of a request body, from its `Content-Encoding` header(s): `identity` when
/// absent or empty, a coding compiled into this build (`gzip`, `br` with their features),
/// else the 415 with the reference's message (`Unsupported Content-Encoding: … Supported: …`).
///
/// This is the one place that decides which request codings the server accepts.
pub fn accepted_encoding(headers: &http::HeaderMap) -> Result<Encoding, Rejection> {
    let mut values = headers.get_all(header::CONTENT_ENCODING).iter();
    let parsed = match (values.next(), values.next()) {
        (None, _) => return Ok(Encoding::Identity),
        (Some(v), None) => Encoding::from_content_encoding(v.to_str().unwrap_or("\u{fffd}")),
        (Some(a), Some(b)) => Encoding::from_content_encoding(&format!(
            "{}, {}",
            a.to_str().unwrap_or_default(),
            b.to_str().unwrap_or_default()
        )),
    };
    parsed.map_err(|e| Rejection::http(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string()))
}

impl<S, B, ResBody> Service<Request<B>> for Decompression<S>
where
    S: Service<Request<DecompressionBody<B>>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let encoding = match accepted_encoding(request.headers()) {
            Ok(encoding) => encoding,
            Err(rejection) => return ResponseFuture::own(rejection.into_response(None)),
        };
        let (mut parts, body) = request.into_parts();
        parts.headers.remove(header::CONTENT_ENCODING);
        if !encoding.is_identity() {
            parts.headers.remove(header::CONTENT_LENGTH);
        }
        let body = DecompressionBody::new(body, encoding, self.max).observed(&self.observation);
        ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)))
    }
}
