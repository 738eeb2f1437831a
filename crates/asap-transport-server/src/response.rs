//! Building HTTP responses.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// The response body type of every service in this crate.
pub type Body = Full<Bytes>;

static JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A JSON response with the given status and already-encoded body.
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, JSON.clone());
    response
}

/// `{"detail": "<text>"}` with `status`, the shape of the reference's HTTP errors.
pub fn detail(status: StatusCode, text: &str) -> Response<Body> {
    let body = serde_json::to_vec(&serde_json::json!({ "detail": text })).unwrap_or_default();
    json(status, body)
}

/// 404 `{"detail":"Not Found"}`.
pub fn not_found() -> Response<Body> {
    detail(StatusCode::NOT_FOUND, "Not Found")
}

/// 405 `{"detail":"Method Not Allowed"}` with `Allow`.
pub fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}
