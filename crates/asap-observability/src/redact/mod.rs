//! Redaction of secrets before anything is logged (PROTOCOL §11.6).
//!
//! Logs only: responses are never sanitized. Whatever is redacted becomes the string
//! [`REDACTED`], `***REDACTED***`.
//!
//! # Sensitive names
//!
//! An object key, query parameter or header name is sensitive ([`is_sensitive_key`]) when it
//! contains, in any ASCII case, one of `password`, `passwd`, `secret`, `token`, `key`,
//! `authorization`, `credential` or `cookie`, or when one of its segments is `auth`
//! (`basic_auth`, `basicAuth`; not `author` nor `authenticated`).
//!
//! `key` as a substring is deliberately broad (`api_key`, `apikey`, `private_key`…), so a
//! short allow-list exempts names that are not secrets and that logs need: `idempotency_key`
//! (to correlate retries), `key_id` (which signing key), `public_key`, `token_type` and
//! `max_tokens`, in any spelling (`Idempotency-Key`, `idempotencyKey`, `keyId`). The
//! reference implementation redacts those too; we do not.
//!
//! # What happens to a JSON value
//!
//! [`sanitize_for_logging`] walks objects and arrays:
//!
//! - the value of a sensitive key becomes `"***REDACTED***"`, whatever its type (an object
//!   under `credentials` goes away whole);
//! - every string, under any key and also object keys themselves, goes through
//!   [`sanitize_str`];
//! - numbers, booleans and nulls pass through;
//! - an object or array nested [`MAX_DEPTH`] levels deep (the root being level 0) is
//!   replaced whole by `"***REDACTED***"`: the walk is recursive, and this bound keeps a
//!   hostile document from exhausting the stack while staying far above what real
//!   payloads nest.
//!
//! Sanitizing is idempotent: sanitizing a sanitized value changes nothing.
//!
//! ```
//! use asap_observability::redact::sanitize_for_logging;
//! use serde_json::json;
//!
//! let logged = sanitize_for_logging(&json!({
//!     "user": "ada",
//!     "password": "hunter2",
//!     "api_key": {"id": 7, "value": "k-123"},
//!     "idempotency_key": "req-42",
//!     "callback": "https://ada:hunter2@example.com/hook?token=abc&x=1",
//!     "note": "sent with Authorization: Bearer eyJhbGciOi",
//!     "retries": 3,
//! }));
//! assert_eq!(logged, json!({
//!     "user": "ada",
//!     "password": "***REDACTED***",
//!     "api_key": "***REDACTED***",
//!     "idempotency_key": "req-42",
//!     "callback": "https://ada:***REDACTED***@example.com/hook?token=***REDACTED***&x=1",
//!     "note": "sent with Authorization: Bearer ***REDACTED***",
//!     "retries": 3,
//! }));
//! ```
//!
//! # What happens to a string
//!
//! [`sanitize_str`] recognizes, anywhere in the text:
//!
//! - `Bearer <token>` and `Basic <credentials>` (scheme in any case, as a word): the
//!   credential, up to the next whitespace or quote, is replaced. Prose such as
//!   "Basic usage" is redacted as well; in logs, erring that way is the safe side;
//! - `scheme://user:password@host`: the password is replaced, the user and host are kept;
//! - `name=value` where `name` is sensitive and the pair starts the text or follows `?`, `&`,
//!   `;` or whitespace (`?token=abc&x=1`, `password=x` in a message, a cookie list): the value,
//!   up to the next `&`, `;`, `#`, whitespace or quote, is replaced.
//!
//! Other shapes (a secret inside JSON text held in a string, a percent-encoded parameter
//! name) are not recognized.

mod headers;
mod keys;
mod text;

use std::borrow::Cow;

use serde_json::{Map, Value};

pub use headers::sanitize_headers;

/// What every redacted value is replaced by.
pub const REDACTED: &str = "***REDACTED***";

/// Objects and arrays at this depth (the root being depth 0) are replaced whole by
/// [`REDACTED`] instead of being walked.
pub const MAX_DEPTH: usize = 64;

/// Whether the value under this object key, query parameter or header name is a secret
/// (see the [module documentation](self#sensitive-names) for the rule and the allow-list).
///
/// ```
/// use asap_observability::redact::is_sensitive_key;
///
/// assert!(is_sensitive_key("refresh_token"));
/// assert!(is_sensitive_key("X-Api-Key"));
/// assert!(!is_sensitive_key("idempotency_key"));
/// assert!(!is_sensitive_key("author"));
/// ```
pub fn is_sensitive_key(name: &str) -> bool {
    keys::is_sensitive_name(name)
}

/// A copy of `value` fit for a log: secrets under sensitive keys and inside strings replaced
/// by [`REDACTED`] (see the [module documentation](self)).
pub fn sanitize_for_logging(value: &Value) -> Value {
    sanitize_value(value, 0)
}

fn sanitize_value(value: &Value, depth: usize) -> Value {
    match value {
        Value::String(s) => Value::String(sanitize_str(s).into_owned()),
        Value::Array(_) | Value::Object(_) if depth >= MAX_DEPTH => redacted(),
        Value::Array(items) => items
            .iter()
            .map(|item| sanitize_value(item, depth + 1))
            .collect(),
        Value::Object(members) => {
            let mut out = Map::with_capacity(members.len());
            for (key, member) in members {
                let member = if is_sensitive_key(key) {
                    redacted()
                } else {
                    sanitize_value(member, depth + 1)
                };
                // Two keys that differ only by a secret become the same key; the later wins.
                out.insert(sanitize_str(key).into_owned(), member);
            }
            Value::Object(out)
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
    }
}

fn redacted() -> Value {
    Value::String(REDACTED.to_owned())
}

/// `s` with bearer and basic credentials, URL passwords and the values of sensitive
/// parameters replaced by [`REDACTED`]; borrowed (no allocation) when there is nothing to
/// redact.
///
/// ```
/// use std::borrow::Cow;
/// use asap_observability::redact::sanitize_str;
///
/// assert_eq!(sanitize_str("bearer abc.def"), "bearer ***REDACTED***");
/// assert_eq!(sanitize_str("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic ***REDACTED***");
/// assert_eq!(sanitize_str("db password=s3cret host=db"), "db password=***REDACTED*** host=db");
/// assert!(matches!(sanitize_str("nothing to hide"), Cow::Borrowed(_)));
/// ```
pub fn sanitize_str(s: &str) -> Cow<'_, str> {
    text::sanitize_str(s)
}

/// `url` with the password of its userinfo and the values of sensitive query parameters
/// replaced by [`REDACTED`]; borrowed when there is nothing to redact. Unlike
/// [`sanitize_str`], words such as `Bearer` are left alone.
///
/// ```
/// use asap_observability::redact::sanitize_url;
///
/// assert_eq!(
///     sanitize_url("postgres://asap:pw@db:5432/asap?sslmode=require&password=pw"),
///     "postgres://asap:***REDACTED***@db:5432/asap?sslmode=require&password=***REDACTED***",
/// );
/// assert_eq!(sanitize_url("https://example.com/a?b=1"), "https://example.com/a?b=1");
/// ```
pub fn sanitize_url(url: &str) -> Cow<'_, str> {
    text::sanitize_url(url)
}
