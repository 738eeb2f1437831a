//! `GET /asap/metrics`: the exposition of a [`Metrics`] registry (PROTOCOL §14.1).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, header};
use http_body_util::Full;

use asap_observability::metrics::{Format, Metrics};

use crate::response::Body;

/// The metrics in the format the request's `Accept` asks for: OpenMetrics 1.0 when it
/// names `application/openmetrics-text`, else the 0.0.4 text format (what Prometheus
/// falls back to and what the reference serves). `Vary: Accept` tells caches the body
/// depends on it.
pub fn respond(metrics: &Metrics, headers: &HeaderMap) -> Response<Body> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    let mut response = Response::new(Full::new(Bytes::from(metrics.encode(format))));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
