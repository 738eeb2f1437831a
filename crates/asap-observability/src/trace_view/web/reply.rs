//! Building the answers: the page, JSON documents and `{"detail": ...}` errors.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

/// What the page may load: only itself and its own API (no external resources).
const PAGE_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

fn with_type(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The page.
pub(super) fn html(page: &'static str) -> Response<Full<Bytes>> {
    let mut response = with_type(
        StatusCode::OK,
        "text/html; charset=utf-8",
        Bytes::from_static(page.as_bytes()),
    );
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `value` as compact JSON.
pub(super) fn json(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    with_type(
        status,
        "application/json",
        Bytes::from(value.to_string().into_bytes()),
    )
}

/// `{"detail": <text>}`.
pub(super) fn detail(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    json(status, &json!({ "detail": text }))
}

/// An error answer yet to be built: its status and `detail`.
#[derive(Debug)]
pub(super) struct Refusal {
    status: StatusCode,
    detail: Value,
}

impl Refusal {
    pub(super) fn new(status: StatusCode, detail: impl Into<Value>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    /// `{"detail": ...}` with the status.
    pub(super) fn into_response(self) -> Response<Full<Bytes>> {
        json(self.status, &json!({ "detail": self.detail }))
    }
}

/// 404 for a path the viewer does not serve.
pub(super) fn not_found() -> Response<Full<Bytes>> {
    detail(StatusCode::NOT_FOUND, "Not Found")
}

/// 405, with the methods the path allows.
pub(super) fn method_not_allowed(allow: &'static str) -> Response<Full<Bytes>> {
    let mut response = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}
