//! HTTP headers for logs.

use http::HeaderMap;

use super::{REDACTED, is_sensitive_key, sanitize_str};

/// Headers whose values are credentials although their names contain none of the sensitive
/// words.
const CREDENTIAL_HEADERS: &[&str] = &[
    "proxy-authorization",
    "authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// The headers as `(name, value)` pairs fit for a log, in the map's order (a repeated header
/// appears once per value).
///
/// The values of `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`
/// and any header with a [sensitive name](super::is_sensitive_key) (`X-Auth-Token`,
/// `X-Client-Secret`…) become [`REDACTED`]; other values go through [`sanitize_str`].
/// Bytes that are not UTF-8 are shown as U+FFFD.
///
/// ```
/// use asap_observability::redact::sanitize_headers;
/// use http::{HeaderMap, HeaderValue, header};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
/// headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
/// headers.insert("idempotency-key", HeaderValue::from_static("req-1"));
/// assert_eq!(sanitize_headers(&headers), [
///     ("authorization".to_owned(), "***REDACTED***".to_owned()),
///     ("content-type".to_owned(), "application/json".to_owned()),
///     ("idempotency-key".to_owned(), "req-1".to_owned()),
/// ]);
/// ```
pub fn sanitize_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let value = if CREDENTIAL_HEADERS.contains(&name) || is_sensitive_key(name) {
                REDACTED.to_owned()
            } else {
                sanitize_str(&String::from_utf8_lossy(value.as_bytes())).into_owned()
            };
            (name.to_owned(), value)
        })
        .collect()
}
