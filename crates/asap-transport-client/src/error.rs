//! Client-side errors (PROTOCOL §12.7): never on the wire.
//!
//! Errors caused by an underlying error (hyper, hyper-util, I/O, TLS, JSON) keep it as their
//! [`source`](std::error::Error::source), shared in an [`ErrorSource`] so that
//! [`ClientError`] stays [`Clone`]. Their messages also name the causes, on one line.

mod kind;
mod source;

use std::error::Error;
use std::fmt;
use std::time::Duration;

use asap_model::{AsapError, ErrorCode};
use serde_json::Value;

pub use source::ErrorSource;
pub(crate) use source::chain_text;

/// Why a send (or a manifest fetch) failed.
///
/// | variant | when | retried | circuit breaker |
/// |---|---|---|---|
/// | [`Connection`](Self::Connection) | connect/IO error, HTTP ≥ 400 (after retries for 5xx and 429; at once for a `Retry-After` beyond `max_retry_after`) | 5xx, 429, connect errors | failure |
/// | [`Timeout`](Self::Timeout) | an attempt exceeded the request timeout | yes | failure |
/// | [`DeadlineExceeded`](Self::DeadlineExceeded) | the send's overall deadline ran out, or the next wait would pass it | — | failure |
/// | [`Remote`](Self::Remote) | the server answered a JSON-RPC error, a non-JSON body (`-32700`) or no `result.envelope` (`-32603`) | no | **success** |
/// | [`InvalidResponse`](Self::InvalidResponse) | undecodable body: bad compression, too large, invalid envelope | no | failure |
/// | [`CircuitOpen`](Self::CircuitOpen) | the breaker refused the send; no request was made | — | — |
/// | [`PoolTimeout`](Self::PoolTimeout) | no free request slot within the pool-acquire timeout | no | not counted |
/// | [`InvalidUrl`](Self::InvalidUrl), [`InsecureUrl`](Self::InsecureUrl), [`InvalidConfig`](Self::InvalidConfig) | building the client | — | — |
/// | [`EmptyBatch`](Self::EmptyBatch) | `send_batch` with no envelope | — | — |
/// | [`Manifest`](Self::Manifest) | a manifest fetch failed | no | not used |
///
/// Rather than matching variants, callers can ask what kind of failure it was:
/// [`is_connect`](Self::is_connect), [`is_timeout`](Self::is_timeout),
/// [`is_status`](Self::is_status) / [`status`](Self::status), [`is_remote`](Self::is_remote),
/// [`is_decode`](Self::is_decode), [`is_builder`](Self::is_builder). The underlying error,
/// when there is one, is the error's [`source`](std::error::Error::source); for
/// [`DeadlineExceeded`](Self::DeadlineExceeded) it is the last attempt's error.
///
/// The error is `Clone`, `Send`, `Sync` and `'static`. Equality compares every field; two
/// sources are equal when they are the same shared error (see [`ErrorSource`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached, or answered with an HTTP error status.
    #[non_exhaustive]
    Connection {
        /// What happened, causes included; for HTTP errors, the status and up to 200
        /// characters of the body (and the server's `Retry-After`, when it sent one).
        message: String,
        /// The HTTP status, when the server answered.
        status: Option<u16>,
        /// The `Retry-After` of a 429 or 503 answer: when the server asked to be called
        /// again. Set when the send gave up on such an answer — after its last attempt, or
        /// at once because the hint is longer than `max_retry_after`.
        retry_after: Option<Duration>,
        /// The hyper-util, hyper, I/O or TLS error, when connecting, writing or reading
        /// failed (also the error's [`source`](std::error::Error::source)).
        source: Option<ErrorSource>,
    },

    /// An attempt took longer than the request timeout.
    Timeout {
        /// The timeout that elapsed.
        after: Duration,
    },

    /// The send's overall deadline (`ClientConfig::deadline`) ran out: an attempt was cut
    /// short, or the wait before the next attempt would have passed the deadline (that wait
    /// is not started).
    DeadlineExceeded {
        /// The configured deadline.
        deadline: Duration,
        /// Time from the start of the send to this error.
        elapsed: Duration,
        /// Attempts started; the last one may have been cut short by the deadline.
        attempts: u32,
        /// The last `Retry-After` the server sent during this send, if any.
        retry_after: Option<Duration>,
        /// The error of the last attempt that finished, if any (also the error's
        /// [`source`](std::error::Error::source)).
        last_error: Option<Box<ClientError>>,
    },

    /// A JSON-RPC error from the server (or a response that is not a usable JSON-RPC reply).
    Remote {
        /// JSON-RPC error code.
        code: i32,
        /// Error message.
        message: String,
        /// Error `data`.
        data: Option<Value>,
    },

    /// The circuit breaker is open for the base URL; no request was sent.
    CircuitOpen {
        /// The base URL (credentials masked).
        base_url: String,
        /// Consecutive failed sends recorded by the breaker.
        consecutive_failures: u32,
    },

    /// No request slot became free within the pool-acquire timeout.
    PoolTimeout {
        /// `host:port` whose slots were all in use.
        host: String,
        /// The pool-acquire timeout.
        after: Duration,
    },

    /// The URL cannot be used (not `http`/`https`, no host, unparsable).
    #[non_exhaustive]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
        /// The URI parser's error, when parsing failed (also the error's
        /// [`source`](std::error::Error::source)).
        source: Option<ErrorSource>,
    },

    /// Plain `http://` to a non-loopback host while `require_https` is on (PROTOCOL §11.7).
    InsecureUrl {
        /// The URL (credentials masked).
        url: String,
    },

    /// The response could not be decoded (bad compression, too large, invalid envelope).
    #[non_exhaustive]
    InvalidResponse {
        /// What is wrong with it.
        message: String,
        /// The decompression, size-limit or JSON error, when there is one (also the error's
        /// [`source`](std::error::Error::source)).
        source: Option<ErrorSource>,
    },

    /// A configuration value cannot be used.
    #[non_exhaustive]
    InvalidConfig {
        /// What is wrong.
        message: String,
        /// The TLS or header error, when there is one (also the error's
        /// [`source`](std::error::Error::source)).
        source: Option<ErrorSource>,
    },

    /// `send_batch` was called with no envelope.
    EmptyBatch,

    /// Fetching a manifest failed.
    #[non_exhaustive]
    Manifest {
        /// The manifest URL.
        url: String,
        /// Why.
        message: String,
        /// The cache's [`FetchError`](asap_cache::FetchError), when there is one (also the
        /// error's [`source`](std::error::Error::source)).
        source: Option<ErrorSource>,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connection { message, .. } => f.write_str(message),
            Self::Timeout { after } => write!(f, "Request timeout after {}s", format_secs(*after)),
            Self::DeadlineExceeded {
                deadline,
                elapsed,
                attempts,
                retry_after,
                ..
            } => f.write_str(&deadline_message(
                *deadline,
                *elapsed,
                *attempts,
                *retry_after,
            )),
            Self::Remote { code, message, .. } => write!(f, "JSON-RPC error {code}: {message}"),
            Self::CircuitOpen {
                base_url,
                consecutive_failures,
            } => write!(
                f,
                "Circuit breaker is OPEN for {base_url}. Too many consecutive failures \
                 ({consecutive_failures}). Service temporarily unavailable."
            ),
            Self::PoolTimeout { host, after } => write!(
                f,
                "Timed out after {}s waiting for a connection slot to {host}",
                format_secs(*after)
            ),
            Self::InvalidUrl { url, reason, .. } => write!(f, "Invalid URL {url:?}: {reason}"),
            Self::InsecureUrl { url } => write!(
                f,
                "HTTPS is required for non-localhost connections (got {url}); use https:// or \
                 disable require_https"
            ),
            Self::InvalidResponse { message, .. } => write!(f, "Invalid response: {message}"),
            Self::InvalidConfig { message, .. } => {
                write!(f, "Invalid client configuration: {message}")
            }
            Self::EmptyBatch => f.write_str("send_batch needs at least one envelope"),
            Self::Manifest { url, message, .. } => {
                write!(f, "Failed to get manifest from {url}: {message}")
            }
        }
    }
}

impl Error for ClientError {
    /// The underlying error itself (hyper-util, hyper, I/O, TLS, JSON, the cache's fetch
    /// error), or the last attempt's error of a deadline error.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::DeadlineExceeded { last_error, .. } => {
                last_error.as_deref().map(|e| e as &(dyn Error + 'static))
            }
            _ => self.error_source().map(|s| {
                let source: &(dyn Error + 'static) = s.get();
                source
            }),
        }
    }
}

impl ClientError {
    /// The kind of the error as a metric label value (the `reason` of
    /// `asap_transport_send_errors_total`).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Self::Connection { .. } => "connection",
            Self::Timeout { .. } => "timeout",
            Self::DeadlineExceeded { .. } => "deadline_exceeded",
            Self::Remote { .. } => "remote",
            Self::CircuitOpen { .. } => "circuit_open",
            Self::PoolTimeout { .. } => "pool_timeout",
            Self::InvalidUrl { .. } => "invalid_url",
            Self::InsecureUrl { .. } => "insecure_url",
            Self::InvalidResponse { .. } => "invalid_response",
            Self::InvalidConfig { .. } => "invalid_config",
            Self::EmptyBatch => "empty_batch",
            Self::Manifest { .. } => "manifest",
        }
    }

    pub(crate) fn invalid_config(message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn invalid_response(message: impl Into<String>) -> Self {
        Self::InvalidResponse {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn invalid_url(url: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidUrl {
            url: url.into(),
            reason: reason.into(),
            source: None,
        }
    }

    pub(crate) fn connection(message: impl Into<String>) -> Self {
        Self::Connection {
            message: message.into(),
            status: None,
            retry_after: None,
            source: None,
        }
    }

    pub(crate) fn manifest(url: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Manifest {
            url: url.into(),
            message: message.into(),
            source: None,
        }
    }

    /// The same error with `cause` as its source (variants without a source are returned
    /// unchanged).
    pub(crate) fn caused_by(mut self, cause: ErrorSource) -> Self {
        match &mut self {
            Self::Connection { source, .. }
            | Self::InvalidUrl { source, .. }
            | Self::InvalidResponse { source, .. }
            | Self::InvalidConfig { source, .. }
            | Self::Manifest { source, .. } => *source = Some(cause),
            _ => {}
        }
        self
    }

    /// `HTTP error <status>: <≤200 characters of the body>`.
    pub(crate) fn http_status(status: u16, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let excerpt: String = text.chars().take(200).collect();
        Self::Connection {
            message: format!("HTTP error {status}: {excerpt}"),
            status: Some(status),
            retry_after: None,
            source: None,
        }
    }

    /// An HTTP error carrying the server's `Retry-After`; `cap` is given when the hint is
    /// why the send stopped (it is longer than `max_retry_after`).
    pub(crate) fn with_retry_after(mut self, hint: Duration, cap: Option<Duration>) -> Self {
        if let Self::Connection {
            message,
            retry_after,
            ..
        } = &mut self
        {
            message.push_str(&format!(
                " (the server asked to retry after {}s",
                format_secs(hint)
            ));
            if let Some(cap) = cap {
                message.push_str(&format!(
                    ", longer than max_retry_after {}s: not retried",
                    format_secs(cap)
                ));
            }
            message.push(')');
            *retry_after = Some(hint);
        }
        self
    }

    pub(crate) fn remote(code: i32, message: impl Into<String>, data: Option<Value>) -> Self {
        Self::Remote {
            code,
            message: message.into(),
            data,
        }
    }

    /// The shared underlying error of the variants that keep one.
    fn error_source(&self) -> Option<&ErrorSource> {
        match self {
            Self::Connection { source, .. }
            | Self::InvalidUrl { source, .. }
            | Self::InvalidResponse { source, .. }
            | Self::InvalidConfig { source, .. }
            | Self::Manifest { source, .. } => source.as_ref(),
            _ => None,
        }
    }

    /// When the server asked to be called again (its `Retry-After`), for
    /// [`Connection`](Self::Connection) errors from a 429 or 503 answer and
    /// [`DeadlineExceeded`](Self::DeadlineExceeded) errors after one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use asap_transport_client::ClientError;
    ///
    /// let e = ClientError::DeadlineExceeded {
    ///     deadline: Duration::from_secs(30),
    ///     elapsed: Duration::from_millis(20),
    ///     attempts: 1,
    ///     retry_after: Some(Duration::from_secs(40)),
    ///     last_error: None,
    /// };
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(40)));
    /// assert_eq!(
    ///     e.to_string(),
    ///     "Send deadline of 30s ran out after 1 attempt (0.02s elapsed, no time left for \
    ///      the next one); the server asked to retry after 40s"
    /// );
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Connection { retry_after, .. } | Self::DeadlineExceeded { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The JSON-RPC code of a [`Remote`](Self::Remote) error.
    pub fn rpc_code(&self) -> Option<i32> {
        match self {
            Self::Remote { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The ASAP error code of errors that have one (`asap:transport/circuit_open`).
    pub fn asap_code(&self) -> Option<ErrorCode> {
        match self {
            Self::CircuitOpen { .. } => Some(ErrorCode::CircuitOpen),
            _ => None,
        }
    }

    /// The error as an [`AsapError`], for errors the protocol names: circuit open gives code
    /// `asap:transport/circuit_open` with details `{base_url, consecutive_failures}`.
    ///
    /// ```
    /// use asap_transport_client::ClientError;
    ///
    /// let e = ClientError::CircuitOpen {
    ///     base_url: "https://agent.example".into(),
    ///     consecutive_failures: 5,
    /// };
    /// let asap = e.to_asap_error().unwrap();
    /// assert_eq!(asap.code.as_str(), "asap:transport/circuit_open");
    /// assert_eq!(asap.details["consecutive_failures"], 5);
    /// assert!(asap.message.starts_with("Circuit breaker is OPEN for https://agent.example."));
    /// ```
    pub fn to_asap_error(&self) -> Option<AsapError> {
        match self {
            Self::CircuitOpen {
                base_url,
                consecutive_failures,
            } => Some(
                AsapError::new(ErrorCode::CircuitOpen, self.to_string())
                    .with_detail("base_url", base_url.clone())
                    .with_detail("consecutive_failures", *consecutive_failures),
            ),
            _ => None,
        }
    }

    /// Whether this error ends a send as a circuit-breaker failure.
    pub(crate) fn is_breaker_failure(&self) -> bool {
        matches!(
            self,
            Self::Connection { .. }
                | Self::Timeout { .. }
                | Self::DeadlineExceeded { .. }
                | Self::InvalidResponse { .. }
        )
    }
}

/// The message of [`ClientError::DeadlineExceeded`].
fn deadline_message(
    deadline: Duration,
    elapsed: Duration,
    attempts: u32,
    retry_after: Option<Duration>,
) -> String {
    let plural = if attempts == 1 { "" } else { "s" };
    let early = if elapsed < deadline {
        ", no time left for the next one"
    } else {
        ""
    };
    let mut text = format!(
        "Send deadline of {}s ran out after {attempts} attempt{plural} ({}s elapsed{early})",
        format_secs(deadline),
        format_secs(elapsed)
    );
    if let Some(hint) = retry_after {
        text.push_str(&format!(
            "; the server asked to retry after {}s",
            format_secs(hint)
        ));
    }
    text
}

/// `60`, `0.5`, `0.001` — seconds as the reference prints them, without trailing zeros.
fn format_secs(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        let text = format!("{secs:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = ClientError::Timeout {
            after: Duration::from_secs(60),
        };
        assert_eq!(e.to_string(), "Request timeout after 60s");
        let e = ClientError::Timeout {
            after: Duration::from_millis(1500),
        };
        assert_eq!(e.to_string(), "Request timeout after 1.5s");
        let e = ClientError::Timeout {
            after: Duration::from_micros(100),
        };
        assert_eq!(e.to_string(), "Request timeout after 0s");
        let e = ClientError::CircuitOpen {
            base_url: "http://localhost:8000".into(),
            consecutive_failures: 5,
        };
        assert_eq!(
            e.to_string(),
            "Circuit breaker is OPEN for http://localhost:8000. Too many consecutive failures (5). Service temporarily unavailable."
        );
        let body = "x".repeat(500);
        let e = ClientError::http_status(503, body.as_bytes());
        assert_eq!(e.status(), Some(503));
        assert_eq!(e.retry_after(), None);
        assert_eq!(e.to_string().len(), "HTTP error 503: ".len() + 200);
    }

    #[test]
    fn retry_hints_are_kept_and_shown() {
        let hint = Duration::from_secs(3600);
        let e = ClientError::http_status(429, b"slow down").with_retry_after(hint, None);
        assert_eq!(e.retry_after(), Some(hint));
        assert_eq!(
            e.to_string(),
            "HTTP error 429: slow down (the server asked to retry after 3600s)"
        );
        let e = ClientError::http_status(503, b"")
            .with_retry_after(hint, Some(Duration::from_secs(60)));
        assert_eq!(e.status(), Some(503));
        assert_eq!(
            e.to_string(),
            "HTTP error 503:  (the server asked to retry after 3600s, longer than max_retry_after 60s: not retried)"
        );
    }

    #[test]
    fn deadline_messages() {
        let e = ClientError::DeadlineExceeded {
            deadline: Duration::from_millis(500),
            elapsed: Duration::from_millis(501),
            attempts: 2,
            retry_after: None,
            last_error: Some(Box::new(ClientError::Timeout {
                after: Duration::from_millis(200),
            })),
        };
        assert_eq!(
            e.to_string(),
            "Send deadline of 0.5s ran out after 2 attempts (0.501s elapsed)"
        );
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("Request timeout after 0.2s"));
        assert!(e.is_breaker_failure());
        assert_eq!(e.retry_after(), None);
    }
}
