//! Which answer a request gets: its path relative to the base path, then its method.

use bytes::{Buf, Bytes};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;

use super::{Settings, api, body, reply};

/// The page, embedded whole.
const PAGE: &str = include_str!("page.html");

/// The answer to `request`.
pub(super) async fn answer<B>(settings: &Settings, request: Request<B>) -> Response<Full<Bytes>>
where
    B: http_body::Body,
    B::Data: Buf,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(rest) = relative(request.uri().path(), &settings.base) else {
        return reply::not_found();
    };
    let read = matches!(*request.method(), Method::GET | Method::HEAD);
    match rest {
        "" if read => to_page(&settings.base, request.uri().query()),
        "/" if read => reply::html(PAGE),
        "/api/log" if read => reply::json(StatusCode::OK, &api::preload(settings)),
        "" | "/" | "/api/log" => reply::method_not_allowed("GET, HEAD"),
        "/api/traces/list" | "/api/traces/visualize" if *request.method() != Method::POST => {
            reply::method_not_allowed("POST")
        }
        "/api/traces/list" => match body::read(request, settings.body_limit).await {
            Ok(bytes) => api::list(&bytes),
            Err(refusal) => refusal.into_response(),
        },
        "/api/traces/visualize" => match body::read(request, settings.body_limit).await {
            Ok(bytes) => api::visualize(&bytes),
            Err(refusal) => refusal.into_response(),
        },
        _ => reply::not_found(),
    }
}

/// `path` relative to `base` (empty or starting with `/`), or `None` when it is not under
/// it (`/asap/tracesX` is not under `/asap/traces`).
fn relative<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(base)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// The redirect from `<base>` to `<base>/`, so that the page's relative links resolve
/// under the base. The location is relative too (`traces/` for `/asap/traces`), so it stays
/// right behind a proxy that strips a prefix.
fn to_page(base: &str, query: Option<&str>) -> Response<Full<Bytes>> {
    let last = base.rsplit('/').next().unwrap_or_default();
    let mut location = format!("{last}/");
    if let Some(query) = query {
        location.push('?');
        location.push_str(query);
    }
    let mut response = reply::json(
        StatusCode::PERMANENT_REDIRECT,
        &serde_json::json!({"detail": "The page is at the base path with a trailing /"}),
    );
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn paths_under_the_base() {
        assert_eq!(relative("/", ""), Some("/"));
        assert_eq!(relative("/api/log", ""), Some("/api/log"));
        assert_eq!(relative("/asap/traces", "/asap/traces"), Some(""));
        assert_eq!(relative("/asap/traces/", "/asap/traces"), Some("/"));
        assert_eq!(relative("/asap/tracesX", "/asap/traces"), None);
        assert_eq!(relative("/asap", "/asap/traces"), None);
    }
}
